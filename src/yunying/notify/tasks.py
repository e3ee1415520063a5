"""Background tasks of the notify app (django-tasks; the RQ backend on Redis when REDIS_URL is set).

A task only names work; the outbox table says what is owed. services.outbox_add wakes a worker
through `outbox_wake` after a commit that queued a message due now."""

from __future__ import annotations

import contextlib
import logging

from django.conf import settings
from django_tasks import task

from yunying.core.redis import redis_client
from yunying.notify.delivery import DeliveryReport, outbox_deliver_all

logger = logging.getLogger("yunying.notify.services")

# Set while a delivery task waits in the queue. The task deletes it before it reads the outbox, so a
# message committed after that read finds it gone and queues the next task; one committed before is
# in the read. One task per wave of messages instead of one per message (an RQ enqueue cost a sign-up
# ~15 % of its CPU). The expiry frees the key if a task is lost; the sweep sends its messages.
WAKE_KEY = "yunying:outbox:wake"
WAKE_EXPIRES_MS = 10_000


def outbox_wake() -> None:
    """After commit: make sure a delivery task is queued. Never fails the caller's change (it is
    committed already): with Redis away the messages wait for the worker's next sweep."""
    client = redis_client(settings.REDIS_URL)
    try:
        if client.set(WAKE_KEY, "1", nx=True, px=WAKE_EXPIRES_MS):
            outbox_deliver_task.enqueue()
    except Exception:
        with contextlib.suppress(Exception):
            client.delete(WAKE_KEY)  # no task is waiting: the next commit must queue one
        logger.warning(
            "outbox: could not queue a delivery task; the worker's sweep will send them", exc_info=True
        )


def outbox_deliver_woken(*, limit: int = 100) -> DeliveryReport:
    """The queued task's work: clear the wake key first (see WAKE_KEY), then deliver all that is due."""
    redis_client(settings.REDIS_URL).delete(WAKE_KEY)
    return outbox_deliver_all(limit=limit)


@task()
def outbox_deliver_task() -> None:
    """Send every outbox message that is due (queued after a commit that added one)."""
    outbox_deliver_woken()
