"""Risk control's periodic jobs, run by `yunying worker`."""

from __future__ import annotations

from django.utils import timezone

from yunying.risk import counters


def hits_prune_due() -> dict[str, int]:
    deleted = counters.hits_prune(now=timezone.now())
    return {"hits_pruned": deleted} if deleted else {}
