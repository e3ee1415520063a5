"""Queueing the outbox (N4): the only writer of notify tables, with notify.delivery (the worker's
side: claim, render, send, record). Enqueue inside the caller's transaction, so a message exists
exactly when the change it reports committed.

A message stores its template key and references (ids), not its text: it is rendered when it goes
out (notify.templates), so edits made meanwhile reach it.

With REDIS_URL, a message due now is also handed to the task queue once its transaction commits, so a
worker sends it at once instead of at its next sweep (notify.tasks). The table stays the source of
truth: a lost or duplicated task only delays a message to the next sweep or finds it already claimed."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yunying.core.rows import rows_insert
from yunying.notify.models import OutboxMessage, OutboxStatus
from yunying.notify.templates import template_loader


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
    if template_loader(template) is None:
        raise ValueError(f"unknown template {template!r}: its app registers it (notify.templates)")
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


def _wake_worker() -> None:
    """After commit: make sure a delivery task is queued (notify.tasks.outbox_wake)."""
    from yunying.notify.tasks import outbox_wake

    outbox_wake()


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


def _waiting(about: dict, templates: list[str] | None):
    """Messages not sent yet whose context holds every key/value of `about` (e.g. {"campaign_id": 7})."""
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
    pending = pending.filter(**{f"context__{key}": value for key, value in about.items()})
    return pending.filter(template__in=templates) if templates else pending


def outbox_reschedule(*, about: dict, template: str, due_at: datetime) -> int:
    """Move the messages of `template` waiting about `about` to `due_at` (no earlier than now), e.g.
    reminders after the event time or the reminder lead time changed. Call in the change's transaction."""
    return _waiting(about, [template]).update(due_at=max(due_at, timezone.now()))


def outbox_extend_channels(*, about: dict, channels: list[str], templates: list[str] | None = None) -> None:
    """Give every message waiting about `about` a copy on each of `channels` it lacks (a campaign
    that now also notifies by e-mail): same template, context, due time and dedupe identity, so a
    copy that exists already is skipped by the unique key. Channels no longer wanted are left to the
    renderer, which drops them at send time (notify.templates). Call in the change's transaction."""
    copies: dict[str, OutboxMessage] = {}
    for message in _waiting(about, templates).order_by("id"):
        suffix = message.dedupe_key.removeprefix(f"{message.ref}:{message.template}:{message.channel}:")
        for channel in channels:
            key = f"{message.ref}:{message.template}:{channel}:{suffix}"
            if channel != message.channel and key not in copies:
                copies[key] = OutboxMessage(
                    member_id=message.member_id,
                    channel=channel,
                    template=message.template,
                    context=message.context,
                    ref=message.ref,
                    dedupe_key=key,
                    due_at=message.due_at,
                )
    if copies:
        outbox_add(list(copies.values()))
