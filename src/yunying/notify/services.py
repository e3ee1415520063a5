"""The outbox: the only writer of notify tables. Enqueue inside the caller's transaction; deliver
from the worker (`yunying worker`), at least once, with retries and recorded status (N4).

With REDIS_URL, a message due now is also handed to the task queue once its transaction commits, so a
worker sends it at once instead of at its next sweep. The table stays the source of truth: a lost or
duplicated task only delays a message to the next sweep or finds it already claimed."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from yunying.core.redis import redis_client
from yunying.core.rows import rows_insert
from yunying.members.models import Member
from yunying.members.services import member_email, member_phone
from yunying.notify.channels import DeliveryError, RenderedMessage, channel_get
from yunying.notify.models import OutboxMessage, OutboxStatus
from yunying.notify.templates import TEMPLATES, render

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


def outbox_build(
    *,
    member_id: int,
    channels: list[str],
    template: str,
    context: dict,
    ref: str,
    due_at: datetime | None = None,
    dedupe: str = "",
) -> list[OutboxMessage]:
    """One unsaved message per channel. `dedupe` makes a repeat of the same event a no-op (the unique
    dedupe key), e.g. a reminder scheduled twice."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}")
    due = due_at or timezone.now()
    # Without `dedupe` the key must never collide: outbox_add skips conflicts silently (N4).
    suffix = dedupe or uuid.uuid4().hex
    return [
        OutboxMessage(
            member_id=member_id,
            channel=channel,
            template=template,
            context=context,
            ref=ref,
            dedupe_key=f"{ref}:{template}:{channel}:{suffix}",
            due_at=due,
        )
        for channel in channels
    ]


def outbox_add(messages: list[OutboxMessage]) -> None:
    """Queue built messages in one INSERT; call inside the transaction of the change they report.
    A repeat of a deduplicated message hits the unique key and is skipped."""
    rows_insert(messages, skip_conflicts=True)  # on every sign-up: no ORM compile (core.rows)
    if settings.REDIS_URL:
        now = timezone.now()
        if any(m.due_at <= now for m in messages):
            transaction.on_commit(_wake_worker)


# Set while a delivery task waits in the queue. The task deletes it before it reads the outbox, so a
# message committed after that read finds it gone and queues the next task; one committed before is
# in the read. One task per wave of messages instead of one per message (an RQ enqueue cost a sign-up
# ~15 % of its CPU). The expiry frees the key if a task is lost; the sweep sends its messages.
WAKE_KEY = "yunying:outbox:wake"
WAKE_EXPIRES_MS = 10_000


def _wake_worker() -> None:
    """After commit: make sure a delivery task is queued. Never fails the caller's change (it is
    committed already): with Redis away the messages wait for the worker's next sweep."""
    from yunying.notify.tasks import outbox_deliver_task

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


def outbox_deliver_all(*, limit: int = 100, deadline: float | None = None) -> DeliveryReport:
    """Deliver batch after batch of `limit` until none is due, or until time.monotonic() passes
    `deadline` (then `report.complete` is False and the rest waits for the next run). A message that
    fails is due again only after its backoff, so the loop ends."""
    total = DeliveryReport()
    while True:
        report = outbox_deliver_due(limit=limit)
        total = total + report
        if report.handled < limit:
            return total
        if deadline is not None and time.monotonic() >= deadline:
            total.complete = False
            return total


def outbox_enqueue(**message) -> None:
    """Build and queue one message per channel (see outbox_build for the arguments)."""
    outbox_add(outbox_build(**message))


def outbox_cancel(*, refs: list[str], templates: list[str] | None = None) -> int:
    """Cancel messages about `refs` that have not gone out yet (e.g. the reminder of a withdrawn sign-up).

    SENDING ones too: a worker that died mid-send would otherwise send them again once its lease
    expires. One already in a live provider call may still arrive; it stays recorded as cancelled."""
    pending = OutboxMessage.objects.filter(
        ref__in=refs, status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]
    )
    if templates:
        pending = pending.filter(template__in=templates)
    return pending.update(status=OutboxStatus.CANCELLED)


def backoff_seconds(attempts: int) -> int:
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)


def _claim(*, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker. Expired leases (a worker died mid-send) are
    taken again, so delivery is at least once; a message another worker holds is left alone."""
    due = Q(status=OutboxStatus.PENDING, due_at__lte=now) | Q(
        status=OutboxStatus.SENDING, lease_until__lt=now
    )
    with transaction.atomic():
        candidates = OutboxMessage.objects.filter(due).order_by("due_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("id", flat=True)[:limit])
        OutboxMessage.objects.filter(id__in=ids).update(status=OutboxStatus.SENDING, lease_until=now + LEASE)
        return list(OutboxMessage.objects.filter(id__in=ids).order_by("due_at", "id"))


def _address(member: Member | None, channel: str) -> str | None:
    if member is None:
        return None
    if channel == "email":
        return member_email(member)
    if channel == "push":
        return member.external_id
    return member_phone(member)


def _record(
    message: OutboxMessage, *, now: datetime, provider_id: str = "", error: DeliveryError | None = None
):
    attempts = message.attempts + 1
    fields: dict = {"attempts": attempts, "lease_until": None}
    if error is None:
        fields.update(status=OutboxStatus.SENT, sent_at=now, provider_message_id=provider_id, last_error="")
    elif error.permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        fields.update(status=OutboxStatus.FAILED, last_error=str(error)[:500])
        logger.warning("outbox message %s failed for good: %s", message.pk, error)
    else:
        retry_at = now + timedelta(seconds=backoff_seconds(attempts))
        fields.update(status=OutboxStatus.PENDING, due_at=retry_at, last_error=str(error)[:500])
    # Only this claim records: a message cancelled meanwhile stays cancelled, and a worker whose lease
    # ran out (another worker re-claimed the message) cannot overwrite the newer claim's outcome.
    recorded = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, lease_until=message.lease_until
    ).update(**fields)
    return fields["status"] if recorded else None


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    superseded: int = 0
    complete: bool = True  # False: stopped at a time limit with messages still due

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.superseded

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + other.sent,
            self.retrying + other.retrying,
            self.failed + other.failed,
            self.superseded + other.superseded,
            self.complete and other.complete,
        )


def outbox_deliver_due(*, now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Deliver what is due now; one call handles at most `limit` messages (the worker's sweep)."""
    now = now or timezone.now()
    return _deliver(_claim(now=now, limit=limit), now=now)


def _deliver(batch: list[OutboxMessage], *, now: datetime) -> DeliveryReport:
    """Send claimed messages one by one, recording each outcome right after its send."""
    report = DeliveryReport()
    members = Member.objects.in_bulk({m.member_id for m in batch})
    for message in batch:
        member = members.get(message.member_id)
        try:
            subject, body = render(
                message.template,
                message.context,
                language=member.language if member else settings.LANGUAGE_CODE,
            )
            rendered = RenderedMessage(
                message_id=message.pk,
                channel=message.channel,
                address=_address(member, message.channel),
                subject=subject,
                body=body,
            )
            provider_id = channel_get(message.channel).send(rendered)
            outcome = _record(message, now=now, provider_id=provider_id)
        except DeliveryError as exc:
            outcome = _record(message, now=now, error=exc)
        except Exception as exc:  # a provider's own failure: retry it like any transient error
            logger.exception("outbox message %s: channel %s raised", message.pk, message.channel)
            outcome = _record(message, now=now, error=DeliveryError(f"{type(exc).__name__}: {exc}"))
        if outcome == OutboxStatus.SENT:
            report.sent += 1
        elif outcome == OutboxStatus.PENDING:
            report.retrying += 1
        elif outcome == OutboxStatus.FAILED:
            report.failed += 1
        else:
            report.superseded += 1  # cancelled or re-claimed while being sent: not ours to count
    return report
