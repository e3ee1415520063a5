"""Campaign data for the console's per-campaign pages: sign-ups made through the admission service,
refusals recorded the way the API records them."""

from __future__ import annotations

from datetime import date

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from yunying.campaigns.services.refusals import refusals_recorded
from yunying.core.errors import DomainError
from yunying.members.services import Profile

FORM = [{"key": "size", "type": "text", "label": "尺码", "required": False}]


def mobile(n: int) -> str:
    return f"139{n:08d}"


def campaign_with_signups(n: int, **overrides):
    """A published campaign with `n` sign-ups (names, genders, regions and ages varied)."""
    overrides.setdefault("capacity", max(n, 1) * 2)
    campaign = CampaignFactory(status="published", form=FORM, **overrides)
    for i in range(n):
        sign_up(
            campaign,
            mobile(i),
            answers={"size": "张三的尺码 M"},
            profile=Profile(
                name=f"王小{i}",
                gender="female" if i % 2 else "male",
                birth_date=date(1990 + i % 20, 1, 1),
                region_code="310101" if i % 3 else "440305",
            ),
            channel="h5" if i % 2 else "app",
        )
    return campaign


def refuse(campaign, phone: str, **kwargs):
    """A sign-up attempt that is refused, recorded as the API's handler records it."""
    try:
        with refusals_recorded(campaign_id=campaign.pk, channel=kwargs.get("channel", "h5")):
            sign_up(campaign, phone, **kwargs)
    except DomainError as refusal:
        return refusal
    raise AssertionError("the attempt was not refused")
