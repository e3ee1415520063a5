"""The campaigns app's background work, registered by CampaignsConfig.ready (core.registry):
`yunying worker` runs the periodic jobs on every pass."""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.utils import timezone

from yunying.campaigns.models import Campaign, CampaignStatus
from yunying.campaigns.services.lifecycle import campaign_close, campaign_finish
from yunying.campaigns.services.lottery import lottery_draw
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Actor

S = CampaignStatus


def campaigns_advance_due(*, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """Automation run by the worker (C9): close campaigns whose sign-up window has ended, draw
    lotteries whose window has ended and that are not drawn yet (also after a crash between the two
    steps), and finish closed campaigns whose event is over. Each step is idempotent."""
    now = now or timezone.now()
    counts = {"closed": 0, "drawn": 0, "finished": 0}
    ended = Campaign.objects.filter(status=S.PUBLISHED, signup_end_at__lte=now)
    for campaign_id in ended.values_list("pk", flat=True):
        with contextlib.suppress(DomainError):  # someone else moved it first
            campaign_close(campaign_id=campaign_id, actor=actor, reason="sign-up window ended")
            counts["closed"] += 1
    undrawn = Campaign.objects.filter(
        status=S.CLOSED, admission_mode="lottery", signup_end_at__lte=now, lottery_draw__isnull=True
    )
    for campaign_id in undrawn.values_list("pk", flat=True):
        with contextlib.suppress(DomainError):  # drawn concurrently
            lottery_draw(campaign_id=campaign_id, actor=actor)
            counts["drawn"] += 1
    over = Campaign.objects.filter(status=S.CLOSED, event_end_at__lte=now)
    for campaign_id in over.values_list("pk", flat=True):
        with contextlib.suppress(DomainError):
            campaign_finish(campaign_id=campaign_id, actor=actor)
            counts["finished"] += 1
    return counts


def campaigns_advance_job() -> dict[str, int]:
    """The worker's periodic job: campaigns_advance_due as the system."""
    return campaigns_advance_due(actor=SYSTEM)
