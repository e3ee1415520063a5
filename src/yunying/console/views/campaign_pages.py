"""What the per-campaign pages (monitor, sign-ups, report) share: loading the campaign (a 404 page
for an unknown id, never a 500), the labels operators read instead of codes, and ECharts options.

Labels come from campaigns.exports, so the pages and the exported files say the same words."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from yunying.campaigns import selectors
from yunying.campaigns.exports import CHANNEL_LABELS, GENDER_LABELS, STATUS_LABELS
from yunying.campaigns.models import Campaign
from yunying.campaigns.questions import form_parse
from yunying.core.errors import DomainError, message_for
from yunying.core.permissions import Actor, Perm
from yunying.members.regions import region_label

MAX_ID = 2**63 - 1


def campaign_load(campaign_id: int) -> Campaign | None:
    """The campaign, or None for an unknown id (also one past the database's integer range)."""
    if not 1 <= campaign_id <= MAX_ID:
        return None
    try:
        return selectors.campaign_get(campaign_id)
    except DomainError:
        return None


def not_found(request: HttpRequest, message: str = "") -> HttpResponse:
    return render(
        request,
        "console/monitor/not_found.html",
        {"message": message or _("Campaign not found."), "section": "campaigns"},
        status=404,
    )


def page_context(request: HttpRequest, campaign: Campaign, tab: str) -> dict[str, Any]:
    """The campaign header and the tabs the operator's role may open."""
    actor: Actor = request.actor
    return {
        "campaign": campaign,
        "section": "campaigns",
        "tab": tab,
        "can_stats": actor.can(Perm.STATS_VIEW),
        "can_signups": actor.can(Perm.SIGNUP_VIEW),
        "can_export": actor.can(Perm.SIGNUP_EXPORT),
        "can_reveal": actor.can(Perm.PII_REVEAL),
        "can_reveal_bulk": actor.can(Perm.PII_REVEAL_BULK),
    }


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


def channel_label(code: str) -> str:
    return str(CHANNEL_LABELS.get(code, code))


def gender_label(code: str) -> str:
    return str(GENDER_LABELS.get(code, code))


def reason_label(code: str) -> str:
    return message_for(code)


def bar_option(categories: list[str], values: list[int], *, name: str, horizontal: bool = False) -> dict:
    """An ECharts bar chart; `aria` lets screen readers hear a description of the data."""
    category_axis = {"type": "category", "data": categories}
    value_axis = {"type": "value", "minInterval": 1}
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 16, "top": 24, "bottom": 32, "containLabel": True},
        "xAxis": value_axis if horizontal else category_axis,
        "yAxis": category_axis if horizontal else value_axis,
        "series": [{"type": "bar", "name": name, "data": values}],
    }


def pie_option(items: dict[str, int], *, name: str) -> dict:
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "series": [
            {
                "type": "pie",
                "name": name,
                "radius": ["35%", "65%"],
                "data": [{"name": label, "value": n} for label, n in items.items()],
            }
        ],
    }


def _answer_text(value, question=None) -> str:
    """An answer as a line of text: choices by their labels, lists joined, an address as its region
    and detail."""
    options = {o.value: o.label for o in question.options} if question is not None else {}
    if isinstance(value, list):
        return ", ".join(str(options.get(v, v)) for v in value)
    if isinstance(value, str) and value in options:
        return str(options[value])
    if isinstance(value, dict) and "detail" in value:
        region = str(value.get("region_code") or "")
        return f"{region_label(region) if region else ''} {value.get('detail', '')}".strip()
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "" if value is None else str(value)


def answers_labelled(form: list, answers: dict) -> list[tuple[str, str]]:
    """A sign-up's answers as (question label, answer text) pairs, in the order given; a key the
    campaign's form no longer has shows as itself."""
    questions = {q.key: q for q in form_parse(form)}
    return [
        (str(questions[key].label) if key in questions else key, _answer_text(value, questions.get(key)))
        for key, value in answers.items()
    ]
