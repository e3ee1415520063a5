"""What the campaign pages share: look-ups, the services' refusals turned into field errors and
messages, a campaign's summary and which lifecycle buttons an operator sees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from yunying.analytics.selectors import segment_names
from yunying.campaigns import selectors
from yunying.campaigns.errors import CampaignError
from yunying.campaigns.models import Campaign, CampaignStatus
from yunying.campaigns.services import lifecycle
from yunying.console import campaign_forms as cf
from yunying.core.errors import DomainError
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.loyalty.tiers import levels as tier_levels

PAGE_SIZE = 25
MAX_ID = 2**63 - 1
BULK_MAX = 100
FILTER_KEYS = ("q", "status", "type", "date_from", "date_to")


# ---- helpers ------------------------------------------------------------------------------------


def campaign_or_404(campaign_id: int) -> Campaign:
    if not 1 <= campaign_id <= MAX_ID:
        raise Http404
    try:
        return selectors.campaign_get(campaign_id)
    except DomainError as missing:
        raise Http404 from missing


def sees_drafts(actor) -> bool:
    # The API's rule for who reads drafts (api/campaigns.py _sees_drafts): the operations team.
    return actor.can(Perm.CAMPAIGN_EDIT) or actor.can(Perm.SIGNUP_VIEW)


def go_to(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that an htmx request follows as a whole page."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def field_label(path: str) -> str:
    """A service field path ("signup_end_at", "form.2.key", "eligibility.min_age") in words."""
    parts = path.split(".")
    head = parts[0]
    for form_class in (cf.BasicsForm, cf.NotificationsForm, cf.ExtendForm, cf.ReasonForm):
        if head in form_class.base_fields:
            return str(form_class.base_fields[head].label)
    if head == "form" and len(parts) > 1 and ascii_digits(parts[1]):
        return _("Question %(n)s") % {"n": int(parts[1]) + 1}
    if head == "form":
        return _("Sign-up form")
    if head == "eligibility":
        name = cf.EligibilityForm().field_for(path)
        if name and name in cf.EligibilityForm.base_fields:
            return str(cf.EligibilityForm.base_fields[name].label)
        return _("Eligibility")
    return head


def error_lines(err: DomainError) -> list[str]:
    """The service's refusal as lines an operator reads: its message, then each field's problem."""
    lines = [err.message]
    for error in err.data.get("errors") or []:
        lines.append(
            f"{field_label(str(error.get('field', '')))}: {cf.service_message(error.get('message', ''))}"
        )
    if err.code == CampaignError.RULES_LOCKED and err.data.get("fields"):
        lines.append(
            _("Refused fields: %(f)s") % {"f": ", ".join(field_label(f) for f in err.data["fields"])}
        )
    return lines


def message_error(request: HttpRequest, err: DomainError) -> None:
    for line in error_lines(err):
        messages.error(request, line)


def apply_errors(form, err: DomainError) -> None:
    """A service refusal onto a form: field errors where the form has the field, else on the form."""
    if err.code == CampaignError.RULES_LOCKED:
        fields = [f for f in err.data.get("fields") or [] if form.field_for(f)]
        for name in fields:
            form.add_error(form.field_for(name), err.message)
        if not fields:
            form.add_error(None, err.message)
        return
    errors = err.data.get("errors") or []
    if not errors:
        form.add_error(None, err.message)
        return
    for rest in form.add_service_errors(errors):
        form.add_error(
            None, f"{field_label(str(rest.get('field', '')))}: {cf.service_message(rest.get('message', ''))}"
        )


def values_of(campaign: Campaign | None) -> dict[str, Any]:
    """A campaign's editable values (or a new one's defaults), as the services read them."""
    if campaign is None:
        return {
            "channels": [],
            "notify_channels": ["sms"],
            "eligibility": {},
            "form": [],
            "reminder_hours_before": 24,
        }
    return {f: getattr(campaign, f) for f in lifecycle.EDITABLE_FIELDS}


def changed_values(campaign: Campaign, proposed: dict[str, Any]) -> dict[str, Any]:
    """Only what the operator changed: a datetime typed to the minute equals the stored one to the
    minute (so an unchanged deadline of a published campaign is not sent as a change)."""
    changed = {}
    for field, value in proposed.items():
        current = getattr(campaign, field)
        if isinstance(current, datetime) and current.replace(second=0, microsecond=0) == value:
            continue
        if current != value:
            changed[field] = value
    return changed


def page_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    actor = request.actor
    return {
        "section": "campaigns",
        "can_edit": actor.can(Perm.CAMPAIGN_EDIT),
        "can_publish": actor.can(Perm.CAMPAIGN_PUBLISH),
        **extra,
    }


def campaign_row(campaign: Campaign) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "type_label": cf.label_of(cf.TYPE_LABELS, campaign.type),
        "status_label": cf.label_of(cf.STATUS_LABELS, campaign.status),
        "badge": cf.STATUS_BADGES.get(campaign.status, "text-bg-light"),
        "seats_left": max(campaign.capacity - campaign.seats_taken, 0),
    }


# ---- one campaign ---------------------------------------------------------------------------------


def campaign_summary(campaign: Campaign) -> dict[str, Any]:
    return {
        "row": campaign_row(campaign),
        "review_label": cf.label_of(cf.REVIEW_LABELS, campaign.review_mode),
        "admission_label": cf.label_of(cf.ADMISSION_LABELS, campaign.admission_mode),
        "channel_labels": [cf.label_of(cf.CHANNEL_LABELS, c) for c in campaign.channels or []],
        "notify_labels": [cf.label_of(cf.NOTIFY_LABELS, c) for c in campaign.notify_channels or []],
        "questions": [
            q | {"type_label": cf.label_of(cf.QUESTION_TYPE_LABELS, q.get("type", ""))}
            for q in campaign.form or []
            if isinstance(q, dict)
        ],
        "rules": rules_lines(campaign.eligibility or {}),
    }


def _yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals, exactly (no float)."""
    return f"{fen // 100}.{fen % 100:02d}"


def rules_lines(rules: dict[str, Any]) -> list[str]:
    lines = []
    if rules.get("min_age") is not None or rules.get("max_age") is not None:
        lines.append(
            _("Age %(min)s to %(max)s")
            % {"min": rules.get("min_age") if rules.get("min_age") is not None else "…",
               "max": rules.get("max_age") if rules.get("max_age") is not None else "…"}
        )  # fmt: skip
    if rules.get("genders") is not None:
        genders = ", ".join(cf.label_of(cf.GENDER_LABELS, g) for g in rules["genders"])
        lines.append(_("Genders: %(g)s") % {"g": genders})
    if rules.get("regions_allow") is not None:
        lines.append(_("Only regions: %(r)s") % {"r": ", ".join(rules["regions_allow"])})
    if rules.get("regions_deny"):
        lines.append(_("Not regions: %(r)s") % {"r": ", ".join(rules["regions_deny"])})
    limit = rules.get("participation_limit")
    if limit:
        lines.append(
            _("At most %(count)s sign-ups in %(days)s days")
            % {"count": limit.get("count"), "days": limit.get("period_days")}
        )
    period = rules.get("purchase_period_days")
    if rules.get("min_paid_fen") is not None:
        amount = _yuan(rules["min_paid_fen"])
        lines.append(
            _("Spent at least ¥%(amount)s in the last %(days)s days") % {"amount": amount, "days": period}
            if period
            else _("Spent at least ¥%(amount)s") % {"amount": amount}
        )
    if rules.get("min_orders") is not None:
        count = rules["min_orders"]
        lines.append(
            _("At least %(count)s orders in the last %(days)s days") % {"count": count, "days": period}
            if period
            else _("At least %(count)s orders") % {"count": count}
        )
    if rules.get("first_order_only"):
        lines.append(_("New customers only (no order yet)"))
    if rules.get("min_tier_rank"):
        names_by_rank = {level.rank: level.name for level in tier_levels()}
        rank = rules["min_tier_rank"]
        lines.append(
            _("Members of level %(level)s or higher") % {"level": names_by_rank.get(rank, f"#{rank}")}
        )
    names = segment_names(set(rules.get("segments_in") or []) | set(rules.get("segments_not_in") or []))
    if rules.get("segments_in"):
        lines.append(
            _("Only members of: %(s)s")
            % {"s": ", ".join(names.get(i, f"#{i}") for i in rules["segments_in"])}
        )
    if rules.get("segments_not_in"):
        lines.append(
            _("Not members of: %(s)s")
            % {"s": ", ".join(names.get(i, f"#{i}") for i in rules["segments_not_in"])}
        )
    for required in rules.get("required_answers") or []:
        lines.append(
            _("Answer to “%(q)s” one of: %(a)s")
            % {"q": required.get("question"), "a": ", ".join(required.get("allowed") or [])}
        )
    return lines


def action_forms() -> dict[str, Any]:
    # their own id prefixes: both have a "reason" on the same page
    return {
        "reason_form": cf.ReasonForm(auto_id="cancel_%s"),
        "extend_form": cf.ExtendForm(auto_id="extend_%s"),
    }


def campaign_actions(request: HttpRequest, campaign: Campaign) -> dict[str, bool]:
    """Which lifecycle buttons to show: the service's own transition table and the operator's role."""
    can_publish = request.actor.can(Perm.CAMPAIGN_PUBLISH)
    can_edit = request.actor.can(Perm.CAMPAIGN_EDIT)
    moves = lifecycle.TRANSITIONS.get(campaign.status, set())
    status = campaign.status
    return {
        "publish": can_publish and CampaignStatus.PUBLISHED in moves and status == CampaignStatus.DRAFT,
        "close": can_publish and CampaignStatus.CLOSED in moves,
        "finish": can_publish and CampaignStatus.FINISHED in moves,
        "cancel": can_publish and CampaignStatus.CANCELLED in moves,
        "extend": can_publish and status == CampaignStatus.CLOSED,
        "copy": can_edit,
        "delete": can_edit and status == CampaignStatus.DRAFT,
        "edit": can_edit and status not in (CampaignStatus.FINISHED, CampaignStatus.CANCELLED),
    }
