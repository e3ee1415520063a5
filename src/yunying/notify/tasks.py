"""Background tasks of the notify app (django-tasks; the RQ backend on Redis when REDIS_URL is set).

A task only names work; the outbox table says what is owed. See services.outbox_add for who enqueues."""

from __future__ import annotations

from django_tasks import task

from yunying.notify.services import outbox_deliver_woken


@task()
def outbox_deliver_task() -> None:
    """Send every outbox message that is due (queued after a commit that added one)."""
    outbox_deliver_woken()
