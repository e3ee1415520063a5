"""Promotion budgets in the console (P8, O4): every budget's cap, spend and what is left, charted;
spend by day; creating a budget and changing its base (budget.manage); top-ups asked by one operator
(budget.manage) and approved or rejected by another (budget.approve — never the one who asked,
promotions.services.topup_decide); the 80 % / 100 % alerts; ROI per promotion and channel."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yunying.console.access import forbidden, operator_required
from yunying.console.fields import AsciiIntegerField
from yunying.console.paging import ID_MAX
from yunying.console.promotion_forms import fen_to_yuan
from yunying.console.views.campaign_pages import channel_label
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.permissions import Perm
from yunying.promotions.models import Budget, BudgetScope, TopUpState
from yunying.promotions.selectors import (
    budget_list,
    budget_topups,
    promotions_without_budget,
    roi,
    spend_by_day,
)
from yunying.promotions.services import (
    ALERT_80,
    ALERT_100,
    budget_create,
    budget_set_base,
    topup_decide,
    topup_request,
)
from yunying.promotions.terms import yuan_to_fen

CHARTED = 10  # budgets drawn in the spend-by-day chart
ALERTS_SHOWN = 20
MONEY_HELP = gettext_lazy("In yuan, e.g. 5000 or 1999.5.")


def _yuan_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=20,
        help_text=MONEY_HELP,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


def _clean_yuan(form: forms.Form, name: str, *, positive: bool = False) -> int | None:
    fen = yuan_to_fen(form.cleaned_data.get(name, ""))
    if fen is None or fen > 10**12:
        raise forms.ValidationError(_("Write an amount in yuan, e.g. 199 or 199.5."))
    if positive and fen <= 0:
        raise forms.ValidationError(_("The amount must be more than 0."))
    return fen


class BudgetForm(forms.Form):
    scope = forms.ChoiceField(label=gettext_lazy("For"), choices=BudgetScope.choices)
    promotion = forms.TypedChoiceField(
        label=gettext_lazy("Promotion"), coerce=int, required=False, empty_value=None
    )
    campaign_id = AsciiIntegerField(
        label=gettext_lazy("Campaign id"), min_value=1, max_value=ID_MAX, required=False
    )
    channel = forms.RegexField(
        label=gettext_lazy("Sales channel"),
        regex=r"^[a-z0-9_-]{1,20}$",
        required=False,
        error_messages={"invalid": gettext_lazy("A channel is 1-20 of a-z, 0-9, _ and -.")},
    )
    name = forms.CharField(label=gettext_lazy("Budget name"), max_length=100, required=False)
    base = _yuan_field(gettext_lazy("Budget (¥)"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["promotion"].choices = [("", "—")] + [
            (p.pk, f"{p.name} (#{p.pk})") for p in promotions_without_budget()
        ]

    def clean_base(self) -> int | None:
        return _clean_yuan(self, "base")

    def clean(self) -> dict:
        data = super().clean()
        scope = data.get("scope")
        required = {
            BudgetScope.PROMOTION: ("promotion", _("Choose the promotion.")),
            BudgetScope.CAMPAIGN: ("campaign_id", _("Give the campaign id.")),
            BudgetScope.CHANNEL: ("channel", _("Give the channel.")),
        }.get(scope)
        if required and not data.get(required[0]) and required[0] not in self.errors:
            self.add_error(required[0], required[1])
        return data


class BaseForm(forms.Form):
    base = _yuan_field(gettext_lazy("New base (¥)"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)

    def clean_base(self) -> int | None:
        return _clean_yuan(self, "base")


class TopUpForm(forms.Form):
    amount = _yuan_field(gettext_lazy("Top-up (¥)"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def clean_amount(self) -> int | None:
        return _clean_yuan(self, "amount", positive=True)


def _label(budget: Budget) -> str:
    if budget.name:
        return budget.name
    if budget.scope == BudgetScope.PROMOTION and budget.promotion_id:
        return budget.promotion.name
    # In words, not the engine's key (channel:social): an operator reads 渠道：社交媒体
    if budget.scope == BudgetScope.CAMPAIGN:
        return _("Campaign #%(id)s") % {"id": budget.campaign_id}
    if budget.scope == BudgetScope.CHANNEL:
        return _("Channel: %(channel)s") % {"channel": channel_label(budget.channel)}
    return budget.key


def _charts(budgets: list[Budget]) -> dict:
    names = [budget.label for budget in budgets]
    capacity = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"data": [_("Spent (¥)"), _("Left (¥)")], "top": 0},
        "grid": {"left": 8, "right": 24, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": names, "inverse": True},
        "series": [
            {"name": _("Spent (¥)"), "type": "bar", "stack": "cap", "barMaxWidth": 28, "data": [b.spent_fen / 100 for b in budgets],
             "itemStyle": {"color": "#dc6b2f"}},
            {"name": _("Left (¥)"), "type": "bar", "stack": "cap", "barMaxWidth": 28, "data": [max(b.left_fen, 0) / 100 for b in budgets],
             "itemStyle": {"color": "#8fbf7f"}},
        ],
    }  # fmt: skip
    per_budget = {budget.pk: dict(spend_by_day(budget)) for budget in budgets[:CHARTED]}
    days = sorted({day for spends in per_budget.values() for day in spends})
    by_day = {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll"},
        "grid": {"left": 8, "right": 24, "bottom": 8, "top": 40, "containLabel": True},
        "xAxis": {"type": "category", "data": days},
        "yAxis": {"type": "value", "name": "¥"},
        "series": [
            {
                "name": budget.label,
                "type": "line",
                "data": [per_budget[budget.pk].get(day, 0) / 100 for day in days],
            }
            for budget in budgets[:CHARTED]
        ],
    }
    return {"chart-budgets": capacity, "chart-spend": by_day}


def _alerts() -> list[dict]:
    from yunying.core.alerts import alert_list  # not at import: `serve` sets up metrics after the URLconf

    rows = list(alert_list(code=ALERT_100)[:ALERTS_SHOWN]) + list(alert_list(code=ALERT_80)[:ALERTS_SHOWN])
    rows.sort(key=lambda alert: alert.at, reverse=True)
    return [
        {
            "at": alert.at,
            "level": "100%" if alert.code == ALERT_100 else "80%",
            "key": alert.data.get("key", ""),
            "spent": fen_to_yuan(alert.data.get("spent_fen", 0)),
            "cap": fen_to_yuan(alert.data.get("cap_fen", 0)),
        }
        for alert in rows[:ALERTS_SHOWN]
    ]


def _page(request: HttpRequest, *, create_form=None, base_forms=None, topup_forms=None, status: int = 200):
    budgets = list(budget_list())
    for budget in budgets:
        budget.label = _label(budget)
        budget.percent = min(100, budget.spent_fen * 100 // budget.cap_fen) if budget.cap_fen else 0
        budget.meter = budget.percent // 5 * 5  # the bar's width class (no inline style under the CSP)
    charts = _charts(budgets)
    topups = budget_topups([budget.pk for budget in budgets])
    for topup in topups:
        topup.own = topup.requested_by_id == request.actor.id
        topup.label = _label(topup.budget)
    context = {
        "section": "budgets",
        "tab": "budgets",
        "budgets": budgets,
        "charts": charts,
        "has_spend": bool(charts["chart-spend"]["xAxis"]["data"]),
        "pending": [t for t in topups if t.state == TopUpState.PENDING],
        "decided": [t for t in topups if t.state != TopUpState.PENDING][:20],
        "alerts": _alerts(),
        "roi": roi(),
        "create_form": create_form or BudgetForm(),
        "base_forms": base_forms or {},
        "topup_forms": topup_forms or {},
        "can_manage": request.actor.can(Perm.BUDGET_MANAGE),
        "can_approve": request.actor.can(Perm.BUDGET_APPROVE),
    }
    return render(request, "console/promotions/budgets.html", context, status=status)


def _field_errors(form: forms.Form, refused: ValidationFailed, names: dict[str, str]) -> None:
    for error in refused.errors:
        name = names.get(error["field"])
        message = error["message"]
        if error.get("spent_fen") is not None:
            message = _("The base cannot go below what is spent net of top-ups (¥%(spent)s).") % {
                "spent": fen_to_yuan(error["spent_fen"])
            }
        form.add_error(name if name in form.fields else None, message)


@operator_required(Perm.PROMOTION_VIEW)
@require_http_methods(["GET", "POST"])
def budgets(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    if not request.actor.can(Perm.BUDGET_MANAGE):
        return forbidden(request, permission=str(Perm.BUDGET_MANAGE))
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return _page(request, create_form=form, status=422)
    data = form.cleaned_data
    try:
        budget_create(
            scope=data["scope"],
            base_fen=data["base"],
            promotion_id=data["promotion"],
            campaign_id=data["campaign_id"],
            channel=data["channel"],
            name=data["name"],
            actor=request.actor,
        )
    except ValidationFailed as refused:
        _field_errors(form, refused, {"base_fen": "base", "promotion_id": "promotion"})
        return _page(request, create_form=form, status=422)
    except DomainError as refused:
        form.add_error(None, refused.message)
        return _page(request, create_form=form, status=409)
    messages.success(request, _("Budget created."))
    return redirect("console:promotion_budgets")


@operator_required(Perm.BUDGET_MANAGE)
@require_POST
def budget_base(request: HttpRequest, budget_id: int) -> HttpResponse:
    form = BaseForm(request.POST)
    if form.is_valid():
        try:
            budget_set_base(
                budget_id=min(budget_id, ID_MAX),
                base_fen=form.cleaned_data["base"],
                actor=request.actor,
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as refused:
            _field_errors(form, refused, {"base_fen": "base"})
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Budget base changed."))
            return redirect("console:promotion_budgets")
    return _page(request, base_forms={budget_id: form}, status=422)


@operator_required(Perm.BUDGET_MANAGE)
@require_POST
def budget_topup(request: HttpRequest, budget_id: int) -> HttpResponse:
    form = TopUpForm(request.POST)
    if form.is_valid():
        try:
            topup_request(
                budget_id=min(budget_id, ID_MAX),
                amount_fen=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=request.actor,
            )
        except ValidationFailed as refused:
            _field_errors(form, refused, {"amount_fen": "amount", "reason": "reason"})
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Top-up requested: another operator approves it."))
            return redirect("console:promotion_budgets")
    return _page(request, topup_forms={budget_id: form}, status=422)


@operator_required(Perm.BUDGET_APPROVE)
@require_POST
def topup_decision(request: HttpRequest, topup_id: int) -> HttpResponse:
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        messages.error(request, _("Choose approve or reject."))
        return redirect("console:promotion_budgets")
    try:
        topup_decide(
            topup_id=min(topup_id, ID_MAX),
            approve=decision == "approve",
            actor=request.actor,
            note=request.POST.get("note", "")[:200],
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Top-up approved.") if decision == "approve" else _("Top-up rejected."))
    return redirect("console:promotion_budgets")


urlpatterns = [
    path("promotions/budgets/", budgets, name="promotion_budgets"),
    path("promotions/budgets/<int:budget_id>/base/", budget_base, name="promotion_budget_base"),
    path("promotions/budgets/<int:budget_id>/topup/", budget_topup, name="promotion_budget_topup"),
    path("promotions/topups/<int:topup_id>/decide/", topup_decision, name="promotion_topup_decide"),
]
