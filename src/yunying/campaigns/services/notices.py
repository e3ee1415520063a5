"""Notifications about sign-ups, queued in the caller's transaction (C5, C9).

A notice stores references only (campaigns.messages.message_context); its text is rendered when it
goes out, from the campaign as it is then."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from yunying.campaigns.messages import message_context
from yunying.campaigns.models import Campaign, Signup
from yunying.notify.services import (
    outbox_add,
    outbox_build,
    outbox_cancel,
    outbox_extend_channels,
    outbox_reschedule,
)

REMINDER = "event_reminder"


def notice_signup(signup: Signup, campaign: Campaign, template: str, *, reason: str = "") -> None:
    """Tell the member what happened to their sign-up; a confirmation also schedules the reminder.
    `reason` is shown to the member: never pass an operator's internal note."""
    channels = campaign.notify_channels
    if not channels:
        return
    ref = f"signup:{signup.pk}"
    messages = outbox_build(
        member_id=signup.member_id,
        channels=channels,
        template=template,
        context=message_context(campaign, signup_id=signup.pk, reason=reason),
        ref=ref,
    )
    if template in ("signup_confirmed", "signup_promoted"):
        remind_at = campaign.event_start_at - timedelta(hours=campaign.reminder_hours_before)
        if remind_at > timezone.now():
            messages += outbox_build(
                member_id=signup.member_id,
                channels=channels,
                template=REMINDER,
                context=message_context(campaign, signup_id=signup.pk),
                ref=ref,
                due_at=remind_at,
                dedupe=remind_at.isoformat(),
            )
    outbox_add(messages)


def notices_campaign_edited(campaign: Campaign, *, changed: set[str]) -> None:
    """After an edit of a campaign with sign-ups: texts are rendered at send time anyway, but when
    a reminder is due and which channels carry the waiting messages follow the campaign here.
    Call in the edit's transaction, with `campaign` as it now is."""
    about = {"campaign_id": campaign.pk}
    if changed & {"event_start_at", "reminder_hours_before"}:
        remind_at = campaign.event_start_at - timedelta(hours=campaign.reminder_hours_before)
        outbox_reschedule(about=about, template=REMINDER, due_at=remind_at)
    if "notify_channels" in changed and campaign.notify_channels:
        outbox_extend_channels(about=about, channels=campaign.notify_channels)


def notice_cancel_reminder(signup: Signup) -> None:
    outbox_cancel(refs=[f"signup:{signup.pk}"], templates=[REMINDER])
