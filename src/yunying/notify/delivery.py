"""Delivering the outbox (N4): the worker's side. Claim due messages under a lease, render each as
it goes out (through the loader its app registered, notify.templates), send it through its channel
and record the outcome: at least once, with retries and backoff, nothing dropped silently.

With notify.services (queueing, cancelling) the only writer of the outbox table.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from yunying.core.registry import consent_allowed
from yunying.core.scrub import scrub_personal
from yunying.notify.channels import DeliveryError, RenderedMessage, channel_get
from yunying.notify.models import OutboxMessage, OutboxStatus
from yunying.notify.templates import SERVICE, Render, Withheld, template_loader, template_purpose

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


def backoff_seconds(attempts: int) -> int:
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    superseded: int = 0  # cancelled or re-claimed by another worker while being sent
    dropped: int = 0  # not to be sent any more (its campaign stopped using the channel): cancelled
    skipped: int = 0  # its purpose needs consent the member has not given (now): skipped (N3)
    complete: bool = True  # False: stopped at a time limit with messages still due

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.superseded + self.dropped + self.skipped

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            sent=self.sent + other.sent,
            retrying=self.retrying + other.retrying,
            failed=self.failed + other.failed,
            superseded=self.superseded + other.superseded,
            dropped=self.dropped + other.dropped,
            skipped=self.skipped + other.skipped,
            complete=self.complete and other.complete,
        )


def outbox_deliver_due(*, now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Deliver what is due now; one call handles at most `limit` messages (the worker's sweep)."""
    now = now or timezone.now()
    return _deliver(_claim(now=now, limit=limit), now=now)


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


# The operations team, as a message's member id: its e-mail goes to settings.RISK_ALERT_EMAILS (the
# only operator mail so far: risk's early warning). No member has id 0.
OPERATIONS = 0


class _Operations:
    @property
    def language(self) -> str:
        return settings.LANGUAGE_CODE

    def address(self, channel: str) -> str | None:
        emails = settings.RISK_ALERT_EMAILS
        return ",".join(emails) if channel == "email" and emails else None


def _recipients(member_ids: set[int]) -> dict:
    """Who the messages go to, from the app that owns members (settings.NOTIFY_RECIPIENTS: a
    function taking member ids and returning, per id, an object with `language` and `address(channel)`;
    addresses are decrypted only as a message needs them). notify imports no member code."""
    found = {OPERATIONS: _Operations()} if OPERATIONS in member_ids else {}
    members = member_ids - {OPERATIONS}
    if members:
        found.update(import_string(settings.NOTIFY_RECIPIENTS)(members))
    return found


def _renderers(batch: list[OutboxMessage]) -> dict[str, Render]:
    """One render function per template in the batch; each app's loader runs once, on its messages."""
    by_loader: dict = {}
    for message in batch:
        loader = template_loader(message.template)
        if loader is not None:
            by_loader.setdefault(loader, []).append(message)
    renderers: dict[str, Render] = {}
    for loader, messages in by_loader.items():
        try:
            render = loader([m.context for m in messages])
        except Exception as exc:  # e.g. the database blinked: these messages are retried with backoff
            logger.exception("outbox: loading what %d message(s) refer to failed", len(messages))
            render = _failing(exc)
        renderers.update({m.template: render for m in messages})
    return renderers


def _failing(exc: Exception) -> Render:
    def render(template: str, context: dict, channel: str):
        raise DeliveryError(f"could not render: {type(exc).__name__}")

    return render


def _record(
    message: OutboxMessage,
    *,
    now: datetime,
    provider_id: str = "",
    error: DeliveryError | None = None,
    dropped: str = "",
    skipped: str = "",
):
    attempts = message.attempts + 1
    fields: dict = {"attempts": attempts, "lease_until": None}
    if skipped:
        fields.update(status=OutboxStatus.SKIPPED, attempts=message.attempts, last_error=skipped[:500])
    elif dropped:
        fields.update(status=OutboxStatus.CANCELLED, attempts=message.attempts, last_error=dropped[:500])
    elif error is None:
        fields.update(status=OutboxStatus.SENT, sent_at=now, provider_message_id=provider_id, last_error="")
    elif error.permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        reason = scrub_personal(str(error))  # a provider's text may name the recipient
        fields.update(status=OutboxStatus.FAILED, last_error=reason[:500])
        logger.warning("outbox message %s failed for good: %s", message.pk, reason)
    else:
        retry_at = now + timedelta(seconds=backoff_seconds(attempts))
        fields.update(
            status=OutboxStatus.PENDING, due_at=retry_at, last_error=scrub_personal(str(error))[:500]
        )
    # Only this claim records: a message cancelled meanwhile stays cancelled, and a worker whose lease
    # ran out (another worker re-claimed the message) cannot overwrite the newer claim's outcome.
    recorded = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, lease_until=message.lease_until
    ).update(**fields)
    return fields["status"] if recorded else None


def _consented(batch: list[OutboxMessage]) -> dict[str, set[int]]:
    """Per purpose other than service, the members of the batch who agree to it now: read when the
    batch goes out, so a withdrawal after queueing stops the message (N3). One query per purpose."""
    wanted: dict[str, set[int]] = {}
    for message in batch:
        purpose = template_purpose(message.template)
        if purpose != SERVICE:
            wanted.setdefault(purpose, set()).add(message.member_id)
    return {purpose: consent_allowed(members, purpose) for purpose, members in wanted.items()}


def _send(message: OutboxMessage, recipient, render: Render | None, *, now: datetime, consented: dict):
    """Render and send one claimed message; record and return its outcome."""
    purpose = template_purpose(message.template)
    if purpose != SERVICE and message.member_id not in consented.get(purpose, set()):
        return _record(message, now=now, skipped=f"no {purpose} consent at send time")
    if render is None:
        return _record(
            message, now=now, error=DeliveryError(f"unknown template {message.template!r}", permanent=True)
        )
    language = recipient.language if recipient else settings.LANGUAGE_CODE
    with translation.override(language):
        rendered = render(message.template, message.context, message.channel)
    if isinstance(rendered, Withheld):
        return _record(message, now=now, dropped=str(rendered))
    if rendered is None:
        return _record(message, now=now, dropped=f"no longer sent on {message.channel}")
    subject, body = rendered
    provider_id = channel_get(message.channel).send(
        RenderedMessage(
            message_id=message.pk,
            channel=message.channel,
            address=recipient.address(message.channel) if recipient else None,
            subject=subject,
            body=body,
        )
    )
    return _record(message, now=now, provider_id=provider_id)


def _deliver(batch: list[OutboxMessage], *, now: datetime) -> DeliveryReport:
    """Send claimed messages one by one, recording each outcome right after its send."""
    report = DeliveryReport()
    recipients = _recipients({m.member_id for m in batch})
    renderers = _renderers(batch)
    consented = _consented(batch)
    for message in batch:
        try:
            outcome = _send(
                message,
                recipients.get(message.member_id),
                renderers.get(message.template),
                now=now,
                consented=consented,
            )
        except DeliveryError as exc:
            outcome = _record(message, now=now, error=exc)
        except Exception as exc:  # a provider's own failure: retry it like any transient error
            # No traceback: the exception's text (and the frames' locals in some handlers) may hold
            # the recipient's address. Its type and scrubbed message say what went wrong.
            reason = f"{type(exc).__name__}: {scrub_personal(str(exc))}"
            logger.error("outbox message %s: channel %s raised %s", message.pk, message.channel, reason)
            outcome = _record(message, now=now, error=DeliveryError(reason))
        if outcome == OutboxStatus.SENT:
            report.sent += 1
        elif outcome == OutboxStatus.PENDING:
            report.retrying += 1
        elif outcome == OutboxStatus.FAILED:
            report.failed += 1
        elif outcome == OutboxStatus.CANCELLED:
            report.dropped += 1
        elif outcome == OutboxStatus.SKIPPED:
            report.skipped += 1
        else:
            report.superseded += 1  # cancelled or re-claimed while being sent: not ours to count
    return report
