import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from yunying.core.checks import sealed_keys_require
from yunying.core.registry import periodic_jobs
from yunying.notify.delivery import outbox_deliver_all, outbox_deliver_due

logger = logging.getLogger("yunying.worker")


def _task_worker():
    """An rq worker for the task queue (REDIS_URL), run in this process a slice at a time between
    sweeps. rq's own loop would block for good; this one returns when its slice is over."""
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker
    from rq.exceptions import DequeueTimeout
    from rq.worker import WorkerStatus

    class SliceWorker(SimpleWorker):
        """SimpleWorker: tasks run here, not in a forked child (they are short database work).
        `deadline` (time.monotonic) ends a slice: waits for a task never outlast it."""

        deadline = 0.0
        performed = 0

        def _install_signal_handlers(self):
            pass  # the command owns SIGINT/SIGTERM: it finishes the slice and the sweep, then exits

        def subscribe(self):
            pass  # rq's remote-control channel costs a thread per slice; signals stop this worker

        def unsubscribe(self):
            pass

        def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
            # rq's version retries a lost Redis for ever; here the error ends the slice, so the
            # sweep (which needs no Redis to deliver) keeps going while Redis is away.
            left = self.deadline - time.monotonic()
            if timeout is not None and left <= 0:
                return None
            wait = None if timeout is None else max(round(left, 3), 0.001)  # None (burst): LPOP, no wait
            self.set_state(WorkerStatus.IDLE)
            self.heartbeat()
            try:
                result = self.queue_class.dequeue_any(
                    self._ordered_queues,
                    wait,  # BLPOP with a fractional timeout: Redis 6+
                    connection=self.connection,
                    job_class=self.job_class,
                    serializer=self.serializer,
                    death_penalty_class=self.death_penalty_class,
                )
            except DequeueTimeout:
                return None
            if result is not None:
                result[0].redis_server_version = self.get_redis_server_version()
            return result

        def execute_job(self, job, queue):
            super().execute_job(job, queue)
            self.performed += 1

    return django_rq.get_worker("default", worker_class=SliceWorker, job_class=Job)


class Command(BaseCommand):
    help = (
        "Deliver the notification outbox and run the periodic jobs the apps registered (campaigns: "
        "close, draw, finish) in a loop; with REDIS_URL also run the queued tasks (a new notification "
        "goes out at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit (cron, tests)")
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help="seconds between sweeps when idle (with REDIS_URL spent waiting on the task queue)",
        )
        parser.add_argument("--batch", type=int, default=100)
        parser.add_argument(
            "--time-limit",
            type=float,
            default=300.0,
            help="with --once: stop starting new batches after this many seconds (the rest stays due)",
        )

    def handle(self, *args, once, interval, batch, time_limit, **options):
        # A ring lacking a key that stored values name: every job reading one would fail on each pass.
        sealed_keys_require()
        stopping = False
        queued = bool(settings.REDIS_URL)
        tasks = None  # the rq worker: made on first use, and anew after a Redis error

        def stop(*_):
            nonlocal stopping
            stopping = True

        def run_tasks(*, wait: float) -> int:
            """Run queued tasks: what is there (wait=0), or until `wait` seconds have passed or
            `batch` tasks ran. Returns how many ran."""
            nonlocal tasks
            if tasks is None:
                tasks = _task_worker()
            tasks.deadline = time.monotonic() + wait
            before = tasks.performed
            try:
                tasks.work(burst=wait == 0, max_jobs=batch, logging_level="WARNING")
            except Exception:
                tasks = None  # its name may stay registered as alive in Redis: the next one gets a new one
                raise
            return tasks.performed - before

        # Restored on the way out: call_command (tests, cron wrappers) must not keep our handlers.
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stopping:
                ran = 0
                try:
                    if once and queued:
                        ran = run_tasks(wait=0)
                    # Each app's registered jobs (core.registry), e.g. campaigns' close/draw/finish.
                    advanced = {name: job() for name, job in periodic_jobs().items()}
                    if once:  # everything due, batch after batch, within the time limit
                        report = outbox_deliver_all(limit=batch, deadline=time.monotonic() + time_limit)
                    else:  # one batch per pass: a full one loops again at once (below)
                        report = outbox_deliver_due(limit=batch)
                except Exception:
                    # A failed pass (database restarting, Redis away) is retried, not fatal.
                    if once:
                        raise
                    logger.exception("worker pass failed; retrying in %s s", interval)
                    close_old_connections()
                    time.sleep(interval)
                    continue
                advanced = {name: counts for name, counts in advanced.items() if any(counts.values())}
                if report.handled or advanced:
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
                        + (f" dropped={report.dropped}" if report.dropped else "")
                        + (f" tasks={ran}" if queued else "")
                        + (
                            ""
                            if report.complete
                            else f" (time limit of {time_limit:g} s reached: more is due)"
                        )
                    )
                    return
                if report.handled >= batch:
                    continue  # a full batch means more is waiting: sweep again at once
                if not queued:
                    time.sleep(interval)
                    continue
                try:  # idle or drained: wait on the task queue instead of sleeping
                    run_tasks(wait=interval)
                except Exception as exc:  # Redis away: the sweep alone delivers meanwhile
                    logger.warning(
                        "task queue unavailable (%r); sweeping every %s s meanwhile", exc, interval
                    )
                    close_old_connections()
                    time.sleep(interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
