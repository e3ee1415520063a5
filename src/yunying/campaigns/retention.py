"""Retention of the client signals a sign-up records (PIPL storage limitation): the keyed hashes of
the client's IP and device id, and its user agent, are cleared once a sign-up is older than
settings.CLIENT_DATA_RETENTION_DAYS. Run by `yunying worker` (registered in CampaignsConfig.ready)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from yunying.campaigns.models import Signup, SignupRefusal

RUN_EVERY_SECONDS = 3600  # a scan of old sign-ups, not something every 2-second pass needs
_last_run = 0.0


def client_data_purge(*, now: datetime | None = None) -> int:
    """Clear the client signals of sign-ups past the retention period; returns how many rows."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CLIENT_DATA_RETENTION_DAYS)
    held = ~Q(client_ip_hash="") | ~Q(device_id_hash="") | ~Q(user_agent="")
    return Signup.objects.filter(held, created_at__lt=cutoff).update(
        client_ip_hash="", device_id_hash="", user_agent=""
    )


def client_data_retention_job() -> dict[str, int]:
    """The worker's periodic job: at most once an hour per worker process."""
    global _last_run
    if time.monotonic() - _last_run < RUN_EVERY_SECONDS and _last_run:
        return {}
    _last_run = time.monotonic()
    cleared, refusals = client_data_purge(), refusals_purge()
    done = {"client_data_cleared": cleared, "refusals_purged": refusals}
    return {key: n for key, n in done.items() if n}


def refusals_purge(*, now: datetime | None = None) -> int:
    """Drop refused-attempt records (the monitor's exceptions) older than the client-data retention:
    they hold no personal data, but nobody reads them after the campaign; returns how many rows."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CLIENT_DATA_RETENTION_DAYS)
    deleted, _per_model = SignupRefusal.objects.filter(at__lt=cutoff).delete()
    return deleted
