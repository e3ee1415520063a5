"""Idempotency records expire (S3 storage limitation, and a table that would otherwise grow without
end): a record older than settings.IDEMPOTENCY_RETENTION_HOURS is deleted, after which the same key
starts new work. Clients retry within minutes; a day is far beyond any retry. Run by `yunying worker`
(registered in CoreConfig.ready)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from yunying.core.models import IdempotencyRecord

RUN_EVERY_SECONDS = 600
BATCH = 5000  # bounded deletes: never one statement holding the write lock for long
_last_run = 0.0


def idempotency_purge(*, now: datetime | None = None) -> int:
    """Delete expired idempotency records, a batch at a time; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    deleted = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]


def idempotency_retention_job() -> dict[str, int]:
    """The worker's periodic job: at most every RUN_EVERY_SECONDS per worker process."""
    global _last_run
    if time.monotonic() - _last_run < RUN_EVERY_SECONDS and _last_run:
        return {}
    _last_run = time.monotonic()
    deleted = idempotency_purge()
    return {"idempotency_expired": deleted} if deleted else {}
