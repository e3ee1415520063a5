"""The campaigns app's messages to members (N2): their texts, and how a queued one is rendered.

Registered with the outbox by CampaignsConfig.ready (notify.templates). A queued message holds only
references — {"campaign_id": …, "signup_id": …, "reason": …} — and is rendered when the worker sends
it, from the campaign as it is then: a title or event time edited after queueing reaches reminders
and notices already waiting, and a channel the campaign no longer notifies on is not used.
The member-facing `reason` (a rejection, a withdrawal, a cancellation) is part of the event, so it
is kept as it was said.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from yunying.campaigns.models import Campaign

TEMPLATES = {
    "signup_confirmed": (
        _("Sign-up confirmed"),
        _("You are signed up for “{campaign}”. The event starts {event_start}."),
    ),
    "signup_pending_review": (
        _("Sign-up received"),
        _("We received your sign-up for “{campaign}” and will review it soon."),
    ),
    "signup_registered": (
        _("Sign-up received"),
        _("You are in the draw for “{campaign}”. Results are announced after sign-up closes."),
    ),
    "signup_waitlisted": (
        _("You are on the waiting list"),
        _("“{campaign}” is full; you are on the waiting list and will hear from us if a place opens."),
    ),
    "signup_promoted": (
        _("A place opened for you"),
        _("Good news: a place opened in “{campaign}” and your sign-up is now confirmed."),
    ),
    "signup_rejected": (
        _("Sign-up not accepted"),
        _("Your sign-up for “{campaign}” was not accepted: {reason}"),
    ),
    "signup_not_selected": (
        _("Draw result"),
        _("Thank you for taking part in the draw for “{campaign}”. You were not selected this time."),
    ),
    "signup_withdrawn": (
        _("Sign-up cancelled"),
        _("Your sign-up for “{campaign}” has been cancelled: {reason}"),
    ),
    "event_reminder": (
        _("Reminder"),
        _("Reminder: “{campaign}” starts {event_start}."),
    ),
    "campaign_cancelled": (
        _("Campaign cancelled"),
        _("We are sorry: “{campaign}” has been cancelled. {reason}"),
    ),
}


def message_context(campaign: Campaign, *, signup_id: int | None = None, reason: str = "") -> dict:
    """What a queued message keeps: references, plus the member-facing reason of its event."""
    context: dict = {"campaign_id": campaign.pk}
    if signup_id is not None:
        context["signup_id"] = signup_id
    if reason:
        context["reason"] = reason
    return context


def local_time_text(at: datetime) -> str:
    """An instant as the member reads it: in the configured zone (default Asia/Shanghai)."""
    return date_format(timezone.localtime(at), "Y-m-d H:i")


def text_render(template: str, values: dict) -> tuple[str, str]:
    """Subject and body in the active language; a missing value renders empty."""
    subject, body = TEMPLATES[template]
    return str(subject), str(body).format_map(_Defaulting(values))


def messages_load(contexts: list[dict]):
    """The loader notify calls once per batch: one query for every campaign the batch refers to."""
    ids = {c["campaign_id"] for c in contexts if isinstance(c.get("campaign_id"), int)}
    campaigns = Campaign.objects.in_bulk(ids) if ids else {}

    def render(template: str, context: dict, channel: str) -> tuple[str, str] | None:
        campaign = campaigns.get(context.get("campaign_id"))
        if campaign is None:
            # Queued before messages were rendered at send time: the texts it stored then.
            return text_render(template, context) if "campaign" in context else None
        if channel not in campaign.notify_channels:
            return None  # the campaign stopped notifying on this channel after it was queued
        values = {
            "campaign": campaign.title,
            "event_start": local_time_text(campaign.event_start_at),
            "reason": context.get("reason", ""),
        }
        return text_render(template, values)

    return render


class _Defaulting(dict):
    def __missing__(self, key: str) -> str:
        return ""
