"""Notifications about sign-ups, queued in the caller's transaction (C5, C9)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from django.utils import timezone
from django.utils.formats import date_format

from yunying.campaigns.models import Campaign, Signup
from yunying.notify.services import outbox_add, outbox_build, outbox_cancel

REMINDER = "event_reminder"


@lru_cache(maxsize=1024)
def _local_time_text(at: datetime, zone: str) -> str:
    # Every sign-up of a campaign formats the same instant: format it once per process and zone.
    return date_format(timezone.localtime(at), "Y-m-d H:i")


def _context(campaign: Campaign, reason: str = "") -> dict:
    return {
        "campaign": campaign.title,
        "campaign_id": campaign.pk,
        "event_start": _local_time_text(campaign.event_start_at, timezone.get_current_timezone_name()),
        "reason": reason,
    }


def notice_signup(signup: Signup, campaign: Campaign, template: str, *, reason: str = "") -> None:
    """Tell the member what happened to their sign-up; a confirmation also schedules the reminder."""
    channels = campaign.notify_channels
    if not channels:
        return
    ref = f"signup:{signup.pk}"
    messages = outbox_build(
        member_id=signup.member_id,
        channels=channels,
        template=template,
        context=_context(campaign, reason),
        ref=ref,
    )
    if template in ("signup_confirmed", "signup_promoted"):
        remind_at = campaign.event_start_at - timedelta(hours=campaign.reminder_hours_before)
        if remind_at > timezone.now():
            messages += outbox_build(
                member_id=signup.member_id,
                channels=channels,
                template=REMINDER,
                context=_context(campaign),
                ref=ref,
                due_at=remind_at,
                dedupe=remind_at.isoformat(),
            )
    outbox_add(messages)


def notice_cancel_reminder(signup: Signup) -> None:
    outbox_cancel(refs=[f"signup:{signup.pk}"], templates=[REMINDER])
