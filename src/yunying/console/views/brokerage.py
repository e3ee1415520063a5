"""分销 brokerage in the console (Loyalty): promoters ranked (commission, orders, bound members, over
a period), a promoter's page (bound members masked, ledger, statements), the commission rules and
programme settings, statements and payouts. Reading needs brokerage.view; every change
brokerage.manage, and is audited by loyalty.brokerage."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yunying.console.access import forbidden, operator_required
from yunying.console.fields import AsciiIntegerField, LocalDateField
from yunying.console.paging import ID_MAX
from yunying.core.errors import DomainError
from yunying.core.permissions import Perm
from yunying.loyalty import brokerage
from yunying.loyalty.models import BrokerageConfig, Promoter, PromoterState, StatementState
from yunying.members.services import member_contact

EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _day_in_range(day: date | None) -> date | None:
    """Days the reports take: 2000-01-01 to 2100-12-31 (9999-12-31 overflowed the next day: a 500)."""
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(_("Give a date between 2000-01-01 and 2100-12-31."))
    return day


class PeriodForm(forms.Form):
    start = LocalDateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = LocalDateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_start(self):
        return _day_in_range(self.cleaned_data.get("start"))

    def clean_end(self):
        return _day_in_range(self.cleaned_data.get("end"))

    order = forms.ChoiceField(
        label=gettext_lazy("Rank by"),
        required=False,
        choices=[
            ("commission", gettext_lazy("Commission")),
            ("orders", gettext_lazy("Orders")),
            ("bound", gettext_lazy("Members brought")),
        ],
    )


class PromoterForm(forms.Form):
    member_id = AsciiIntegerField(
        label=gettext_lazy("Member id"), required=False, min_value=1, max_value=ID_MAX
    )
    partner_name = forms.CharField(
        label=gettext_lazy("Or an outside partner's name"), required=False, max_length=80
    )
    parent_code = forms.CharField(
        label=gettext_lazy("Partner's own promoter (code)"), required=False, max_length=16
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)


class RuleForm(forms.Form):
    category = forms.CharField(label=gettext_lazy("Category"), max_length=64)
    level1_permille = AsciiIntegerField(label=gettext_lazy("Level 1 (‰)"), min_value=0, max_value=1000)
    level2_permille = AsciiIntegerField(
        label=gettext_lazy("Level 2 (‰)"), min_value=0, max_value=1000, initial=0
    )


class ConfigForm(forms.Form):
    levels = forms.TypedChoiceField(
        label=gettext_lazy("Levels paid"),
        coerce=int,
        choices=[(1, gettext_lazy("One level")), (2, gettext_lazy("Two levels"))],
    )
    binding_days = AsciiIntegerField(
        label=gettext_lazy("Binding period (days)"),
        min_value=0,
        max_value=3650,
        help_text=gettext_lazy("0: the first promoter who brings a member keeps them for good."),
    )
    applications_open = forms.BooleanField(label=gettext_lazy("Members may apply in H5"), required=False)


class MonthForm(forms.Form):
    month = LocalDateField(label=gettext_lazy("Month"), widget=forms.DateInput(attrs={"type": "month"}),
                            input_formats=["%Y-%m", "%Y-%m-%d"])  # fmt: skip

    def clean_month(self):
        return _day_in_range(self.cleaned_data.get("month"))


class PayForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("Payment reference"), max_length=80)


def _day_start(day: date | None) -> datetime | None:
    return None if day is None else timezone.make_aware(datetime.combine(day, time.min))


def _who(promoter: Promoter) -> str:
    if promoter.member_id is None:
        return promoter.partner_name
    name = member_contact(promoter.member, reveal=False)["name"]
    return name or _("Member #%(id)d") % {"id": promoter.member_id}


def _form_error(form: forms.Form, refused: DomainError) -> None:
    form.add_error(None, refused.message)


@operator_required(Perm.BROKERAGE_VIEW)
def promoter_list(request: HttpRequest) -> HttpResponse:
    period = PeriodForm(request.GET or None)
    start = end = None
    order = "commission"
    if period.is_valid():
        start = _day_start(period.cleaned_data["start"])
        end_day = period.cleaned_data["end"]
        end = _day_start(end_day + timedelta(days=1)) if end_day else None
        order = period.cleaned_data["order"] or "commission"
    form = PromoterForm()
    if request.method == "POST":
        if not request.actor.can(Perm.BROKERAGE_MANAGE):
            return forbidden(request, permission=str(Perm.BROKERAGE_MANAGE))
        form = PromoterForm(request.POST)
        if form.is_valid():
            try:
                created = brokerage.promoter_create(
                    member_id=form.cleaned_data["member_id"],
                    partner_name=form.cleaned_data["partner_name"],
                    parent_code=form.cleaned_data["parent_code"],
                    note=form.cleaned_data["note"],
                    actor=request.actor,
                )
            except DomainError as refused:
                _form_error(form, refused)
            else:
                messages.success(request, _("Promoter %(code)s created.") % {"code": created.code})
                return redirect("console:brokerage_promoter", promoter_id=created.pk)
    ranking = list(brokerage.promoter_ranking(start=start, end=end, order_by=order)[:100])
    for row in ranking:
        row.who = _who(row)
    applications = brokerage.promoter_applications()
    for row in applications:
        row.who = _who(row)
    context = {
        "section": "brokerage",
        "period": period if period.is_bound else PeriodForm(),
        "ranking": ranking,
        "applications": applications,
        "form": form,
        "can_manage": request.actor.can(Perm.BROKERAGE_MANAGE),
    }
    return render(request, "console/brokerage/list.html", context, status=400 if form.errors else 200)


def _promoter(promoter_id: int) -> Promoter:
    promoter = brokerage.promoter_find(min(promoter_id, ID_MAX))
    if promoter is None:
        raise Http404
    return promoter


@operator_required(Perm.BROKERAGE_VIEW)
def promoter_detail(request: HttpRequest, promoter_id: int) -> HttpResponse:
    promoter = _promoter(promoter_id)
    bound = list(brokerage.promoter_bound_members(promoter))
    for binding in bound:
        binding.who = member_contact(binding.member, reveal=False)
    context = {
        "section": "brokerage",
        "promoter": promoter,
        "who": _who(promoter),
        "summary": brokerage.promoter_summary(promoter),
        "bound": bound,
        "entries": list(brokerage.promoter_entries(promoter)),
        "statements": brokerage.statement_list(promoter=promoter),
        "link": _link(request, promoter),
        "can_manage": request.actor.can(Perm.BROKERAGE_MANAGE),
        "states": PromoterState,
    }
    return render(request, "console/brokerage/promoter.html", context)


def _link(request: HttpRequest, promoter: Promoter) -> str:
    from django.conf import settings
    from django.urls import reverse

    relative = reverse("h5:promoter_link", kwargs={"code": promoter.code})
    return (settings.BROKERAGE_LINK_BASE.rstrip("/") + relative) if settings.BROKERAGE_LINK_BASE else (
        request.build_absolute_uri(relative)
    )  # fmt: skip


@operator_required(Perm.BROKERAGE_MANAGE)
def promoter_state(request: HttpRequest, promoter_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("console:brokerage_promoter", promoter_id=promoter_id)
    state = request.POST.get("state", "")
    try:
        brokerage.promoter_transition(promoter_id=min(promoter_id, ID_MAX), state=state, actor=request.actor,
                                      reason=request.POST.get("reason", "")[:200])  # fmt: skip
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Promoter saved."))
    if request.POST.get("next") == "list":
        return redirect("console:brokerage")
    return redirect("console:brokerage_promoter", promoter_id=promoter_id)


@operator_required(Perm.BROKERAGE_VIEW)
def rules(request: HttpRequest) -> HttpResponse:
    config = brokerage.config_get()
    rule_form = RuleForm()
    config_form = ConfigForm(
        initial={"levels": config.levels, "binding_days": config.binding_days,
                 "applications_open": config.applications_open}
    )  # fmt: skip
    status = 200
    if request.method == "POST":
        if not request.actor.can(Perm.BROKERAGE_MANAGE):
            return forbidden(request, permission=str(Perm.BROKERAGE_MANAGE))
        action = request.POST.get("action")
        try:
            if action == "config":
                config_form = ConfigForm(request.POST)
                if config_form.is_valid():
                    brokerage.brokerage_configure(**config_form.cleaned_data, actor=request.actor)
                    messages.success(request, _("Settings saved."))
                    return redirect("console:brokerage_rules")
            elif action == "delete":
                brokerage.rule_delete(category=request.POST.get("category", ""), actor=request.actor)
                messages.success(request, _("Rule deleted."))
                return redirect("console:brokerage_rules")
            else:
                rule_form = RuleForm(request.POST)
                if rule_form.is_valid():
                    brokerage.rule_set(**rule_form.cleaned_data, actor=request.actor)
                    messages.success(request, _("Rule saved."))
                    return redirect("console:brokerage_rules")
        except DomainError as refused:
            _form_error(config_form if action == "config" else rule_form, refused)
        status = 400
    context = {
        "section": "brokerage",
        "rules": brokerage.rule_list(),
        "rule_form": rule_form,
        "config_form": config_form,
        "config": config if config.pk else BrokerageConfig(),
        "can_manage": request.actor.can(Perm.BROKERAGE_MANAGE),
    }
    return render(request, "console/brokerage/rules.html", context, status=status)


@operator_required(Perm.BROKERAGE_VIEW)
def statements(request: HttpRequest) -> HttpResponse:
    month_form = MonthForm()
    status = 200
    if request.method == "POST":
        if not request.actor.can(Perm.BROKERAGE_MANAGE):
            return forbidden(request, permission=str(Perm.BROKERAGE_MANAGE))
        month_form = MonthForm(request.POST)
        if month_form.is_valid():
            try:
                made = brokerage.statements_make(month=month_form.cleaned_data["month"], actor=request.actor)
            except DomainError as refused:
                _form_error(month_form, refused)
            else:
                messages.success(request, _("%(n)d statements made.") % {"n": made})
                return redirect("console:brokerage_statements")
        status = 400
    state = request.GET.get("state", StatementState.OPEN)
    rows = brokerage.statement_list(state=state)
    for row in rows:
        row.who = _who(row.promoter)
    context = {
        "section": "brokerage",
        "statements": rows,
        "state": state,
        "states": StatementState,
        "month_form": month_form,
        "pay_form": PayForm(),
        "can_manage": request.actor.can(Perm.BROKERAGE_MANAGE),
    }
    return render(request, "console/brokerage/statements.html", context, status=status)


@operator_required(Perm.BROKERAGE_MANAGE)
def statement_pay(request: HttpRequest, statement_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("console:brokerage_statements")
    form = PayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the payment's reference."))
        return redirect("console:brokerage_statements")
    try:
        paid = brokerage.statement_pay(
            statement_id=min(statement_id, ID_MAX),
            reference=form.cleaned_data["reference"],
            actor=request.actor,
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Statement %(id)d marked paid.") % {"id": paid.pk})
    return redirect("console:brokerage_statements")


urlpatterns = [
    path("brokerage/", promoter_list, name="brokerage"),
    path("brokerage/promoters/<int:promoter_id>/", promoter_detail, name="brokerage_promoter"),
    path("brokerage/promoters/<int:promoter_id>/state/", promoter_state, name="brokerage_promoter_state"),
    path("brokerage/rules/", rules, name="brokerage_rules"),
    path("brokerage/statements/", statements, name="brokerage_statements"),
    path("brokerage/statements/<int:statement_id>/pay/", statement_pay, name="brokerage_statement_pay"),
]
