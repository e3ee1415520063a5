"""Risk control's periodic jobs, run by `yunying worker`."""

from __future__ import annotations

from django.utils import timezone

from yunying.risk import counters, warnings


def hits_prune_due() -> dict[str, int]:
    now = timezone.now()
    deleted = counters.hits_prune(now=now)
    facts = warnings.money_facts_prune(now)
    return {k: v for k, v in {"hits_pruned": deleted, "money_facts_pruned": facts}.items() if v}
