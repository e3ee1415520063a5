"""Risk control's configuration in the console (issue 13): rule versions (live, shadow, drafts, with
the shadow's disagreement with the live rules), the allow and block lists, and the risk register's
probability × impact matrix. Everyone with risk.view reads; risk.configure changes."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods

from yunying.console.access import forbidden, operator_required
from yunying.console.fields import AsciiIntegerField, LocalDateField
from yunying.console.paging import ID_MAX, page_of
from yunying.core.errors import DomainError
from yunying.core.numbers import digits_int
from yunying.core.permissions import Perm
from yunying.risk.errors import RiskError
from yunying.risk.models import ListKind, ListVerdict, RegisterStatus, RuleState
from yunying.risk.rules import reason_label
from yunying.risk.selectors import (
    list_entries,
    register_item,
    register_items,
    register_matrix,
    rule_live,
    rule_shadow,
    rule_shadow_comparison,
    rule_version,
    rule_versions,
)
from yunying.risk.services import (
    list_entry_add,
    list_entry_remove,
    register_save,
    rule_version_create,
    rule_version_set_state,
)

ENTRY_LABELS = {  # the entry points as the team calls them
    "signup.create": gettext_lazy("Campaign sign-up"),
    "coupon.claim": gettext_lazy("Coupon claim"),
    "referral.reward": gettext_lazy("Referral reward"),
    "order.ingest": gettext_lazy("Order"),
    "member.register": gettext_lazy("Registration"),
    "sms.send": gettext_lazy("SMS verification code"),
}
SUBJECT_LABELS = {
    "signup": pgettext_lazy("what risk control judged", "Sign-up"),
    "member": gettext_lazy("Member"),
    "sms": gettext_lazy("SMS"),
    "coupon": gettext_lazy("Coupon"),
    "referral": gettext_lazy("Referral"),
    "order": gettext_lazy("Order"),
}
ACTION_LABELS = {
    "allow": gettext_lazy("Let through"),
    "challenge": gettext_lazy("Ask for extra verification"),
    "review": gettext_lazy("Hold for human review"),
    "block": gettext_lazy("Refuse"),
}
STATUS_CHOICES = [
    (RegisterStatus.OPEN, gettext_lazy("Not yet handled")),
    (RegisterStatus.MITIGATED, gettext_lazy("Mitigated")),
    (RegisterStatus.CLOSED, gettext_lazy("Closed")),
]
OPS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠", "in": "∈"}
# (label, url name) of the risk section's tabs; the review pages live in views/risk.py.
TABS = [
    ("queue", gettext_lazy("Risk review queue"), "console:risk_queue"),
    ("decisions", gettext_lazy("Risk decisions"), "console:risk_decisions"),
    ("alerts", gettext_lazy("Risk alerts"), "console:risk_alerts"),
    ("rules", gettext_lazy("Risk rules"), "console:risk_rules"),
    ("lists", gettext_lazy("Allow and block lists"), "console:risk_lists"),
    ("register", gettext_lazy("Risk register"), "console:risk_register"),
]


def risk_tabs(active: str) -> list[dict]:
    """The tab bar; a tab whose page is not installed is plain text."""
    tabs = []
    for key, label, name in TABS:
        try:
            url = reverse(name)
        except NoReverseMatch:
            url = ""
        tabs.append({"key": key, "label": label, "url": url, "active": key == active})
    return tabs


# The lists' refusals name the problem in English (an API field); the console shows it translated.
LIST_PROBLEMS = {
    "a note saying why is required": gettext_lazy("a note saying why is required"),
    "not a mainland mobile number": gettext_lazy("not a mainland mobile number"),
    "not an identity number": gettext_lazy("not an identity number"),
    "not a usable device id": gettext_lazy("not a usable device id"),
    "not an IP address or range": gettext_lazy("not an IP address or range"),
    "a range wider than /8 (IPv4) or /32 (IPv6)": gettext_lazy("a range wider than /8 (IPv4) or /32 (IPv6)"),
    "a reason is required": gettext_lazy("a reason is required"),
}


def refusal_text(refused: DomainError) -> str:
    """The refusal's message with its data filled in ("…: rules.0.when: needs signal and op")."""
    data = dict(refused.data)
    if data.get("problem") in LIST_PROBLEMS:
        data["problem"] = LIST_PROBLEMS[data["problem"]]
    try:
        return refused.message % data if data else refused.message
    except (KeyError, TypeError, ValueError):
        return refused.message


# ---------------------------------------------------------------- rules


def _value_text(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return "{" + ", ".join(_value_text(v) for v in value) + "}"
    return str(value)


def condition_text(condition, *, nested: bool = False) -> str:
    """A rule's condition as one line: "fill_ms < 1500 且 member.campaign_events ≤ 1"."""
    if not isinstance(condition, dict):
        return "?"
    if "all" in condition or "any" in condition:
        joiner = f" {_('and')} " if "all" in condition else f" {_('or')} "
        parts = condition.get("all", condition.get("any")) or []
        text = joiner.join(condition_text(part, nested=True) for part in parts)
        return f"({text})" if nested and len(parts) > 1 else text
    if "not" in condition:
        return f"{_('not')} ({condition_text(condition['not'])})"
    op = OPS.get(condition.get("op"), str(condition.get("op")))
    return f"{condition.get('signal')} {op} {_value_text(condition.get('value'))}"


def rules_rows(rules: dict) -> list[dict]:
    return [
        {
            "key": rule.get("key", ""),
            "label": _(reason_label(rule)) if rule.get("label") else "",
            "entries": [ENTRY_LABELS.get(entry, entry) for entry in rule.get("entries") or []],
            "condition": condition_text(rule.get("when")),
            "points": rule.get("points", 0),
            "action": ACTION_LABELS.get(rule.get("action") or "", ""),
        }
        for rule in rules.get("rules", [])
        if isinstance(rule, dict)
    ]


def thresholds_rows(rules: dict) -> list[dict]:
    thresholds = rules.get("thresholds", {}) or {}
    return [
        {"action": ACTION_LABELS[name], "points": thresholds.get(name)}
        for name in ("challenge", "review", "block")
    ]


class RuleVersionForm(forms.Form):
    rules = forms.CharField(
        label=gettext_lazy("Rule set (JSON)"),
        max_length=settings.RISK_RULES_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "font-monospace"}),
    )
    reason = forms.CharField(label=gettext_lazy("Why this change"), max_length=500)
    based_on = AsciiIntegerField(min_value=0, max_value=ID_MAX, required=False, widget=forms.HiddenInput)

    def clean_rules(self):
        try:
            return json.loads(self.cleaned_data["rules"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON: line %(line)s, column %(column)s: %(problem)s")
                % {"line": exc.lineno, "column": exc.colno, "problem": exc.msg}
            ) from exc
        except RecursionError:
            raise forms.ValidationError(_("Nested too deep to read.")) from None


def _rules_page(request: HttpRequest, *, form: RuleVersionForm | None = None, status: int = 200):
    number, rules = rule_live()
    if form is None:
        form = RuleVersionForm(
            initial={"rules": json.dumps(rules, ensure_ascii=False, indent=2), "based_on": number}
        )
    page, query = page_of(request, rule_versions())
    context = {
        "section": "risk",
        "tabs": risk_tabs("rules"),
        "live_number": number,
        "rows": rules_rows(rules),
        "thresholds": thresholds_rows(rules),
        "shadow": rule_shadow(),
        "page": page,
        "query": query,
        "form": form,
        "can_configure": request.actor.can(Perm.RISK_CONFIGURE),
    }
    return render(request, "console/risk/rules.html", context, status=status)


@operator_required(Perm.RISK_VIEW)
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _rules_page(request)
    if not request.actor.can(Perm.RISK_CONFIGURE):
        return forbidden(request, permission=str(Perm.RISK_CONFIGURE))
    form = RuleVersionForm(request.POST)
    if not form.is_valid():
        return _rules_page(request, form=form, status=422)
    try:
        version = rule_version_create(
            rules=form.cleaned_data["rules"],
            reason=form.cleaned_data["reason"],
            based_on=form.cleaned_data["based_on"],
            actor=request.actor,
        )
    except DomainError as refused:
        form.add_error("rules" if refused.code == RiskError.RULES_INVALID else None, refusal_text(refused))
        return _rules_page(request, form=form, status=409 if refused.code == RiskError.RULES_STALE else 422)
    messages.success(request, _("Version %(number)s saved as a draft.") % {"number": version.number})
    return redirect("console:risk_rule", number=version.number)


STATE_BUTTONS = [
    (RuleState.LIVE, gettext_lazy("Put live"), "btn-primary"),
    (RuleState.SHADOW, gettext_lazy("Run in shadow"), "btn-outline-primary"),
    (RuleState.DRAFT, gettext_lazy("Back to draft"), "btn-outline-secondary"),
    (RuleState.RETIRED, gettext_lazy("Retire"), "btn-outline-danger"),
]


@operator_required(Perm.RISK_VIEW)
@require_http_methods(["GET", "POST"])
def rule(request: HttpRequest, number: int) -> HttpResponse:
    number = min(number, ID_MAX)
    if request.method == "POST":
        if not request.actor.can(Perm.RISK_CONFIGURE):
            return forbidden(request, permission=str(Perm.RISK_CONFIGURE))
        state = request.POST.get("state", "")
        try:
            version = rule_version_set_state(number=number, state=state, actor=request.actor)
        except DomainError as refused:
            messages.error(request, refusal_text(refused))
        else:
            messages.success(
                request,
                _("Version %(number)s is now: %(state)s.")
                % {"number": number, "state": version.get_state_display()},
            )
        return redirect("console:risk_rule", number=number)
    version = rule_version(number) if number else None
    if number and version is None:
        return render(request, "console/risk/rules_missing.html", {"section": "risk", "tabs": risk_tabs("rules"), "number": number}, status=404)  # fmt: skip
    from yunying.risk.defaults import BUILT_IN

    rules_data = version.rules if version else BUILT_IN
    shadow = rule_shadow()
    context = {
        "section": "risk",
        "tabs": risk_tabs("rules"),
        "number": number,
        "version": version,
        "rows": rules_rows(rules_data),
        "thresholds": thresholds_rows(rules_data),
        "buttons": [b for b in STATE_BUTTONS if version and b[0] != version.state],
        "shadow": shadow,
        "comparison": rule_shadow_comparison() if shadow else None,
        "action_labels": ACTION_LABELS,
        "can_configure": request.actor.can(Perm.RISK_CONFIGURE),
    }
    if context["comparison"]:
        for row in context["comparison"]["rows"]:
            row["label"] = ACTION_LABELS[row["action"]]
    return render(request, "console/risk/rules_version.html", context)


# ---------------------------------------------------------------- lists


class ListEntryForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of value"), choices=ListKind.choices)
    value = forms.CharField(
        label=gettext_lazy("Number, id or address"),
        max_length=200,
        help_text=gettext_lazy(
            "A mainland mobile number, an identity number, a device id, or an IP address or range (1.2.3.0/24)."
        ),
    )
    verdict = forms.ChoiceField(label=gettext_lazy("List"), choices=ListVerdict.choices)
    note = forms.CharField(label=gettext_lazy("Why"), max_length=500)
    expires_on = forms.DateField(
        label=gettext_lazy("Expires after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: never expires."),
    )

    def clean_expires_on(self) -> date | None:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("The expiry date has passed."))
        if day is not None and day > timezone.localdate() + timedelta(days=3660):
            raise forms.ValidationError(
                _("Choose a date within ten years, or leave it empty: never expires.")
            )
        return day


def _lists_page(request: HttpRequest, *, form: ListEntryForm | None = None, status: int = 200):
    entries = list(list_entries())
    now = timezone.now()
    for entry in entries:
        entry.expired = entry.expires_at is not None and entry.expires_at <= now
    context = {
        "section": "risk",
        "tabs": risk_tabs("lists"),
        "blocks": [e for e in entries if e.verdict == ListVerdict.BLOCK],
        "allows": [e for e in entries if e.verdict == ListVerdict.ALLOW],
        "form": form or ListEntryForm(initial={"verdict": ListVerdict.BLOCK}),
        "can_configure": request.actor.can(Perm.RISK_CONFIGURE),
    }
    return render(request, "console/risk/lists.html", context, status=status)


@operator_required(Perm.RISK_VIEW)
@require_http_methods(["GET", "POST"])
def lists(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _lists_page(request)
    if not request.actor.can(Perm.RISK_CONFIGURE):
        return forbidden(request, permission=str(Perm.RISK_CONFIGURE))
    remove = request.POST.get("remove", "")
    if remove:
        try:
            list_entry_remove(entry_id=min(digits_int(remove) or 0, ID_MAX), actor=request.actor)
        except DomainError as refused:
            messages.error(request, refusal_text(refused))
        else:
            messages.success(request, _("List entry removed."))
        return redirect("console:risk_lists")
    form = ListEntryForm(request.POST)
    if not form.is_valid():
        return _lists_page(request, form=form, status=422)
    data = form.cleaned_data
    expires_at = None
    if data["expires_on"]:
        # valid to the end of the chosen day, local time
        expires_at = timezone.make_aware(datetime.combine(data["expires_on"] + timedelta(days=1), time.min))
    try:
        list_entry_add(
            kind=data["kind"],
            value=data["value"],
            verdict=data["verdict"],
            note=data["note"],
            expires_at=expires_at,
            actor=request.actor,
        )
    except DomainError as refused:
        form.add_error(
            "value" if refused.code == RiskError.LIST_ENTRY_INVALID else None, refusal_text(refused)
        )
        return _lists_page(request, form=form, status=422)
    messages.success(request, _("List entry added."))
    return redirect("console:risk_lists")


# ---------------------------------------------------------------- register

LEVELS = [(n, str(n)) for n in range(1, 6)]


class RegisterForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Risk"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("What could happen"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    probability = forms.TypedChoiceField(
        label=gettext_lazy("Probability (1 rare – 5 almost certain)"), choices=LEVELS, coerce=int
    )
    impact = forms.TypedChoiceField(
        label=gettext_lazy("Impact (1 negligible – 5 severe)"), choices=LEVELS, coerce=int
    )
    owner = forms.CharField(label=gettext_lazy("Risk owner"), max_length=150)
    response_plan = forms.CharField(
        label=gettext_lazy("Response plan"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    status = forms.ChoiceField(label=gettext_lazy("Risk status"), choices=STATUS_CHOICES)
    review_on = LocalDateField(label=gettext_lazy("Next review"), required=False)


def _level(raw: str) -> int | None:
    return int(raw) if raw in {"1", "2", "3", "4", "5"} else None


def cell_colour(probability: int, impact: int) -> str:
    score = probability * impact
    return "danger" if score >= 15 else "warning" if score >= 8 else "success"


def _register_page(request: HttpRequest, *, form: RegisterForm | None = None, item=None, status: int = 200):
    cells = register_matrix()
    matrix = [
        {
            "impact": impact,
            "cells": [
                {
                    "probability": p,
                    "colour": cell_colour(p, impact),
                    **cells[(p, impact)],
                }
                for p in range(1, 6)
            ],
        }
        for impact in range(5, 0, -1)
    ]
    probability, impact = _level(request.GET.get("probability", "")), _level(request.GET.get("impact", ""))
    status_filter = request.GET.get("status", "")
    status_filter = status_filter if status_filter in RegisterStatus.values else ""
    page, query = page_of(
        request, register_items(probability=probability, impact=impact, status=status_filter or None)
    )
    status_labels = dict(STATUS_CHOICES)
    for row in page:
        row.status_label = status_labels.get(row.status, row.status)
        row.colour = cell_colour(row.probability, row.impact)
    context = {
        "section": "risk",
        "tabs": risk_tabs("register"),
        "matrix": matrix,
        "levels": range(1, 6),
        "page": page,
        "query": query,
        "filtered": probability is not None or impact is not None or bool(status_filter),
        "filter": {
            "probability": probability,
            "impact": impact,
            "status": status_labels.get(status_filter, ""),
        },
        "form": form or RegisterForm(initial={"status": RegisterStatus.OPEN, "probability": 3, "impact": 3}),
        "item": item,
        "can_configure": request.actor.can(Perm.RISK_CONFIGURE),
    }
    return render(request, "console/risk/register.html", context, status=status)


def _register_post(request: HttpRequest, item=None) -> HttpResponse:
    if not request.actor.can(Perm.RISK_CONFIGURE):
        return forbidden(request, permission=str(Perm.RISK_CONFIGURE))
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return _register_page(request, form=form, item=item, status=422)
    try:
        saved = register_save(
            item_id=item.pk if item else None, values=form.cleaned_data, actor=request.actor
        )
    except DomainError as refused:
        form.add_error(None, refusal_text(refused))
        return _register_page(request, form=form, item=item, status=409)
    messages.success(request, _("Risk “%(title)s” saved.") % {"title": saved.title})
    return redirect("console:risk_register")


@operator_required(Perm.RISK_VIEW)
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _register_post(request)
    return _register_page(request)


@operator_required(Perm.RISK_VIEW)
@require_http_methods(["GET", "POST"])
def register_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    item = register_item(min(item_id, ID_MAX))
    if item is None:
        if request.method == "POST" and not request.actor.can(Perm.RISK_CONFIGURE):
            return forbidden(request, permission=str(Perm.RISK_CONFIGURE))
        messages.error(request, _("No such risk in the register."))
        return redirect("console:risk_register")
    if request.method == "POST":
        return _register_post(request, item)
    form = RegisterForm(initial={name: getattr(item, name) for name in RegisterForm.base_fields})
    return _register_page(request, form=form, item=item)


urlpatterns = [
    path("risk/rules/", rules, name="risk_rules"),
    path("risk/rules/<int:number>/", rule, name="risk_rule"),
    path("risk/lists/", lists, name="risk_lists"),
    path("risk/register/", register, name="risk_register"),
    path("risk/register/<int:item_id>/", register_edit, name="risk_register_item"),
]
