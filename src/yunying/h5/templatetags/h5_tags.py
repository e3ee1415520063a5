"""What the landing page and the console's phone preview show of a campaign's state."""

from __future__ import annotations

from django import template
from django.utils import timezone

from yunying.campaigns.models import AdmissionMode, CampaignStatus, ReviewMode

register = template.Library()


def _ms(instant) -> int:
    return int(instant.timestamp() * 1000)


@register.simple_tag
def campaign_facts(campaign) -> dict:
    """Phase (upcoming / open / closed / finished / cancelled), seats, and the instants the
    countdown needs: the server's now and the opening, in epoch milliseconds (h5.js counts from
    the offset between the server's clock and the phone's, never from the phone's alone)."""
    now = timezone.now()
    status = campaign.status
    if status == CampaignStatus.PUBLISHED and now < campaign.signup_start_at:
        phase = "upcoming"
    elif status == CampaignStatus.PUBLISHED and now < campaign.signup_end_at:
        phase = "open"
    elif status in (CampaignStatus.PUBLISHED, CampaignStatus.CLOSED):
        phase = "closed"
    elif status == CampaignStatus.DRAFT:
        phase = "draft"  # the console's preview of a campaign not yet published
    else:
        phase = str(status)  # finished, cancelled
    seats_left = max(campaign.capacity - campaign.seats_taken, 0)
    lottery = campaign.admission_mode == AdmissionMode.LOTTERY
    return {
        "phase": phase,
        "seats_left": seats_left,
        "full": not lottery and seats_left == 0,
        "waitlist": campaign.waitlist_enabled,
        "lottery": lottery,
        "manual_review": campaign.review_mode == ReviewMode.MANUAL,
        "on_h5": "h5" in (campaign.channels or []),  # sign-up through these pages is allowed
        "now_ms": _ms(now),
        "opens_ms": _ms(campaign.signup_start_at),
    }


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen as yuan with two decimals, without a float: 12345 → 123.45."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"
