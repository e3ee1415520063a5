"""Console template helpers: the tabs every page of one campaign shares."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yunying.core.audit_labels import actor_text
from yunying.core.permissions import Perm
from yunying.core.purposes import fields_text, purpose_text

register = template.Library()

# key, label, icon, url name, the permission that shows it (the view checks the same one)
CAMPAIGN_TABS = [
    ("detail", _("Overview"), "info-circle", "console:campaign_detail", Perm.CAMPAIGN_VIEW),
    ("monitor", _("Live monitor"), "activity", "console:campaign_monitor", Perm.STATS_VIEW),
    ("signups", _("Sign-ups"), "people", "console:campaign_signups", Perm.SIGNUP_VIEW),
    ("report", _("Report"), "graph-up", "console:campaign_report", Perm.STATS_VIEW),
    ("attendance", _("Attendance"), "qr-code-scan", "console:attendance", Perm.ATTENDANCE_MARK),
]


@register.inclusion_tag("console/campaigns/_tabs.html", takes_context=True)
def campaign_tabs(context, campaign, active: str) -> dict:
    """One campaign's pages as tabs, each shown only to roles that may open it."""
    actor = getattr(context["request"], "actor", None)
    tabs = []
    for key, label, icon, url_name, perm in CAMPAIGN_TABS:
        if actor is None or not actor.can(perm):
            continue
        if key == "attendance":
            url = f"{reverse(url_name)}?campaign={campaign.pk}"
        else:
            url = reverse(url_name, args=[campaign.pk])
        tabs.append({"key": key, "label": label, "icon": icon, "url": url})
    return {"tabs": tabs, "active": active}


@register.filter
def can(actor, perm: str) -> bool:
    """`{% if request.actor|can:"audit.view" %}`: whether the signed-in operator holds a permission."""
    return actor is not None and actor.can(Perm(perm))


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen as yuan with two decimals (no float on the way): 12345 → 123.45."""
    from yunying.console.member360 import fen_text

    return "—" if fen is None else fen_text(int(fen))


@register.filter(name="purpose_text")
def purpose_text_filter(stored: str) -> str:
    """An access-log purpose in words (the code was shown as it is stored)."""
    return purpose_text(stored)


@register.filter(name="fields_text")
def fields_text_filter(fields) -> str:
    """An access-log row's personal data fields in words."""
    return fields_text(fields)


@register.filter(name="actor_text")
def actor_text_filter(row) -> str:
    """Who acted, from a row's actor_kind and actor_label: a system job in words ("loyalty earning"
    read as 系统自动发放积分, new user review), a member as the member, an operator by name."""
    return actor_text(row.actor_kind, row.actor_label)


@register.filter(name="channel_label")
def channel_label_filter(code: str) -> str:
    """A channel code (social, mini_program) in words, from campaigns' Channel choices; a code it does
    not know (free text from an import or a storefront) as it is, "—" for none."""
    from yunying.console.views.campaign_pages import channel_label

    return channel_label(code) if code else "—"


@register.filter(name="consent_channel_label")
def consent_channel_label_filter(code: str) -> str:
    """How a member gave or withdrew consent, in words (h5, api, console, migration)."""
    from yunying.members.consent import CHANNEL_LABELS

    return str(CHANNEL_LABELS.get(code, code)) if code else "—"


@register.filter(name="signup_status_label")
def signup_status_label_filter(code: str) -> str:
    """A sign-up status code in words."""
    from yunying.console.views.campaign_pages import status_label

    return status_label(code) if code else "—"
