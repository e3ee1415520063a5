"""Periodic loyalty jobs beyond the ledger's own (maturing, expiring)."""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from yunying.loyalty.ledger import ledger_reconcile


def points_reconcile_hourly(now: datetime | None = None) -> dict[str, int]:
    """Once an hour (the first worker pass to claim the hour runs it): check the points ledger and raise
    the alert `loyalty.points_drift` (member ids and fields only) when stored figures drift from it."""
    from yunying.core.alerts import alert_raise  # not at import: serve sets up metrics after apps load

    now = now or timezone.now()
    if not cache.add(f"loyalty.points_reconcile:{now:%Y%m%d%H}", 1, timeout=2 * 3600):
        return {}
    drifts = ledger_reconcile()
    if drifts:
        alert_raise(
            "loyalty.points_drift",
            count=len(drifts),
            sample=[{"member_id": d.member_id, "field": d.field} for d in drifts[:20]],
        )
    return {"checked": 1, "drifts": len(drifts)}
