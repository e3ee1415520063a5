"""Points rules (L2, L3): the operator's editor of how members earn points, with a preview of what an
order earns, and the versions saved before. loyalty.rules does the work (a new version, audited)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yunying.console.access import operator_required
from yunying.console.fields import AsciiDecimalField, AsciiIntegerField
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.permissions import Perm
from yunying.loyalty.models import ExpiryPolicy, PointsRules
from yunying.loyalty.rules import (
    BIRTHDAY_PERMILLE_MAX,
    EXPIRY_DAYS_MAX,
    EXPIRY_YEARS_MAX,
    PERMILLE,
    POINTS_MAX,
    RETURN_WINDOW_MAX_DAYS,
    RulesInput,
    line_points,
    points_rules_current,
    points_rules_history,
    points_rules_save,
)

PREVIEW_FEN = 19900  # ¥199, the example on the page
FEN = Decimal(100)


class RulesForm(forms.Form):
    base_version = AsciiIntegerField(widget=forms.HiddenInput, min_value=0, required=False)
    points_per_unit = AsciiIntegerField(label=gettext_lazy("Points"), min_value=0, max_value=POINTS_MAX)
    unit_yuan = AsciiDecimalField(
        label=gettext_lazy("For every (¥)"),
        min_value=Decimal("0.01"),
        max_value=Decimal(1_000_000),
        decimal_places=2,
        help_text=gettext_lazy(
            "Per order line, of what the member paid; a part below one unit earns nothing."
        ),
    )
    return_window_days = AsciiIntegerField(
        label=gettext_lazy("Return window (days)"),
        min_value=0,
        max_value=RETURN_WINDOW_MAX_DAYS,
        help_text=gettext_lazy("Order points are pending, not spendable, until the window closes."),
    )
    expiry_policy = forms.ChoiceField(label=gettext_lazy("Points expire"), choices=ExpiryPolicy.choices)
    expiry_years = AsciiIntegerField(
        label=gettext_lazy("Years (year-end policy)"),
        min_value=0,
        max_value=EXPIRY_YEARS_MAX,
        help_text=gettext_lazy("1: points earned this year are good until 31 December next year."),
    )
    expiry_days = AsciiIntegerField(
        label=gettext_lazy("Days (days policy)"), min_value=1, max_value=EXPIRY_DAYS_MAX
    )
    welcome_points = AsciiIntegerField(
        label=gettext_lazy("New member points"), min_value=0, max_value=POINTS_MAX
    )
    signup_points = AsciiIntegerField(
        label=gettext_lazy("Confirmed sign-up points"), min_value=0, max_value=POINTS_MAX
    )
    attendance_points = AsciiIntegerField(
        label=gettext_lazy("Attendance points"), min_value=0, max_value=POINTS_MAX
    )
    birthday_multiplier = AsciiDecimalField(
        label=gettext_lazy("Birthday month multiplier"),
        min_value=Decimal(1),
        max_value=Decimal(BIRTHDAY_PERMILLE_MAX) / PERMILLE,
        decimal_places=3,
        help_text=gettext_lazy("2 = double points on orders paid in the member's birthday month."),
    )
    import_earns = forms.BooleanField(
        label=gettext_lazy("Orders imported from files earn points"),
        required=False,
        help_text=gettext_lazy("Off: a history import creates no points liability."),
    )
    note = forms.CharField(label=gettext_lazy("Reason for the change"), max_length=500, required=False)

    def values(self) -> RulesInput:
        data = self.cleaned_data
        return RulesInput(
            points_per_unit=data["points_per_unit"],
            unit_fen=int(data["unit_yuan"] * FEN),
            return_window_days=data["return_window_days"],
            expiry_policy=data["expiry_policy"],
            expiry_days=data["expiry_days"],
            expiry_years=data["expiry_years"],
            signup_points=data["signup_points"],
            attendance_points=data["attendance_points"],
            welcome_points=data["welcome_points"],
            birthday_permille=int(data["birthday_multiplier"] * PERMILLE),
            import_earns=data["import_earns"],
        )


def _initial(rules: PointsRules | None) -> dict:
    values = RulesInput() if rules is None else rules
    return {
        "base_version": rules.version if rules else 0,
        "points_per_unit": values.points_per_unit,
        "unit_yuan": Decimal(values.unit_fen) / FEN,
        "return_window_days": values.return_window_days,
        "expiry_policy": values.expiry_policy,
        "expiry_days": values.expiry_days,
        "expiry_years": values.expiry_years,
        "signup_points": values.signup_points,
        "attendance_points": values.attendance_points,
        "welcome_points": values.welcome_points,
        "birthday_multiplier": Decimal(values.birthday_permille) / PERMILLE,
        "import_earns": values.import_earns,
    }


def _preview(rules: PointsRules | None) -> dict | None:
    if rules is None:
        return None
    plain = line_points(
        paid_fen=PREVIEW_FEN, points_per_unit=rules.points_per_unit, unit_fen=rules.unit_fen, multipliers=[]
    )
    birthday = line_points(
        paid_fen=PREVIEW_FEN,
        points_per_unit=rules.points_per_unit,
        unit_fen=rules.unit_fen,
        multipliers=[rules.birthday_permille],
    )
    return {"yuan": PREVIEW_FEN // 100, "plain": plain, "birthday": birthday}


def _page(request: HttpRequest, form: RulesForm | None = None, status: int = 200) -> HttpResponse:
    current = points_rules_current()
    context = {
        "section": "points_rules",
        "current": current,
        "form": form or RulesForm(initial=_initial(current)),
        "preview": _preview(current),
        "history": points_rules_history(),
    }
    return render(request, "console/loyalty/points_rules.html", context, status=status)


@operator_required(Perm.LOYALTY_CONFIGURE)
@require_http_methods(["GET", "POST"])
def points_rules(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = RulesForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    try:
        saved = points_rules_save(
            values=form.values(),
            actor=request.actor,
            base_version=form.cleaned_data["base_version"],
            note=form.cleaned_data["note"],
        )
    except ValidationFailed as refused:
        for error in refused.errors:
            form.add_error(error["field"] if error["field"] in form.fields else None, error["message"])
        return _page(request, form, status=422)
    except DomainError as refused:  # loyalty.rules_changed
        form.add_error(None, refused.message)
        return _page(request, form, status=409)
    messages.success(request, _("Points rules saved as version %(version)d.") % {"version": saved.version})
    return redirect("console:points_rules")


urlpatterns = [path("loyalty/points-rules/", points_rules, name="points_rules")]
