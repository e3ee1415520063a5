import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from yunying.campaigns.seats import seats_sync
from yunying.campaigns.services.lifecycle import campaigns_advance_due
from yunying.core.permissions import SYSTEM
from yunying.notify.services import outbox_deliver_due

logger = logging.getLogger("yunying.worker")


class Command(BaseCommand):
    help = "Deliver the notification outbox and run campaign automation (close, draw, finish) in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit (cron, tests)")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes when idle")
        parser.add_argument("--batch", type=int, default=100)

    def handle(self, *args, once, interval, batch, **options):
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        # Restored on the way out: call_command (tests, cron wrappers) must not keep our handlers.
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stopping:
                try:
                    advanced = campaigns_advance_due(actor=SYSTEM)
                    report = outbox_deliver_due(limit=batch)
                    if settings.REDIS_URL:
                        seats_sync()  # keep the rows' derived seat counts close to Redis's live ones
                except Exception:
                    # A failed pass (database restarting, Redis away) is retried, not fatal.
                    if once:
                        raise
                    logger.exception("worker pass failed; retrying in %s s", interval)
                    close_old_connections()
                    time.sleep(interval)
                    continue
                if report.handled or any(advanced.values()):
                    logger.info(
                        "worker pass: %s, sent=%s retrying=%s failed=%s",
                        advanced,
                        report.sent,
                        report.retrying,
                        report.failed,
                    )
                if once:
                    self.stdout.write(
                        f"sent={report.sent} retrying={report.retrying} failed={report.failed} {advanced}"
                    )
                    return
                if report.handled < batch:  # idle or drained: wait; a full batch means more is waiting
                    time.sleep(interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
