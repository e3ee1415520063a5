"""Which coupon templates hand out coupons on events, kept per process for a few seconds.

Every registration and sign-up asks (promotions.issuing), and a rush of sign-ups must not pay a query
each for a list that rarely changes (the sign-up's query count is a test:
tests/campaigns/services/test_integrity.py). The services forget it on every promotion change;
another process sees a change within EVENT_TEMPLATES_SECONDS. The issue itself re-reads the template
and takes its limits in the database."""

from __future__ import annotations

import time

from yunying.promotions.models import COUPON_KINDS, Promotion, PromotionState

EVENT_TEMPLATES_SECONDS = 5.0
_cache: tuple[float, list[dict]] | None = None


def event_templates_forget() -> None:
    global _cache
    _cache = None


def event_templates() -> list[dict]:
    """Running-state coupon templates with events: pk, issue_on, campaign_id, starts_at, ends_at."""
    global _cache
    cached = _cache
    if cached is not None and time.monotonic() - cached[0] < EVENT_TEMPLATES_SECONDS:
        return cached[1]
    rows = list(
        Promotion.objects.filter(kind__in=COUPON_KINDS, state=PromotionState.ACTIVE)
        .exclude(issue_on=[])
        .values("pk", "issue_on", "campaign_id", "starts_at", "ends_at")
    )
    _cache = (time.monotonic(), rows)
    return rows
