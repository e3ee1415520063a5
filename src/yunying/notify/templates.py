"""Message texts per template, in the member's language (N2). Context keys are filled by name."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _

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


def render(template: str, context: dict, *, language: str) -> tuple[str, str]:
    subject, body = TEMPLATES[template]
    with translation.override(language):
        return str(subject), str(body).format_map(_Defaulting(context))


class _Defaulting(dict):
    def __missing__(self, key: str) -> str:
        return ""
