"""Member tiers (L1): the programme editor (basis, period, downgrade policy, levels with their
benefits) and how many members are on each level. loyalty.tiers does the work (validated, audited)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yunying.console.access import operator_required
from yunying.core.errors import ValidationFailed
from yunying.core.numbers import digits_int
from yunying.core.permissions import Perm
from yunying.loyalty.models import DowngradePolicy, MemberTier, TierBasis
from yunying.loyalty.tiers import MAX_LEVELS, LevelSpec, levels, programme, programme_save
from yunying.members.models import Member

LEVEL_FIELDS = ("name", "threshold", "discount_permille", "points_multiplier_permille", "birthday_points")


def _int(value: str, default: int = 0) -> int | None:
    value = (value or "").strip()
    if not value:
        return default
    return digits_int(value)


def _rows_from_post(post) -> tuple[list[dict], list[LevelSpec], list[str]]:
    """The level rows as typed (to show them again) and as specs; a row with no name is left out."""
    rows, specs, problems = [], [], []
    for index in range(MAX_LEVELS):
        row = {field: post.get(f"level-{index}-{field}", "") for field in LEVEL_FIELDS}
        row["benefits_text"] = post.get(f"level-{index}-benefits_text", "")
        row["priority_service"] = bool(post.get(f"level-{index}-priority_service"))
        row["exclusive_campaigns"] = bool(post.get(f"level-{index}-exclusive_campaigns"))
        rows.append(row)
        if not row["name"].strip():
            continue
        numbers = {
            field: _int(row[field], 1000 if field.endswith("permille") else 0) for field in LEVEL_FIELDS[1:]
        }
        if None in numbers.values():
            problems.append(
                _("Level %(n)d: numbers must be whole numbers of zero or more.") % {"n": index + 1}
            )
            continue
        specs.append(
            LevelSpec(
                name=row["name"],
                benefits_text=row["benefits_text"],
                priority_service=row["priority_service"],
                exclusive_campaigns=row["exclusive_campaigns"],
                **numbers,
            )
        )
    return rows, specs, problems


def _rows_from_levels() -> list[dict]:
    rows = [
        {
            field: getattr(level, field)
            for field in (*LEVEL_FIELDS, "benefits_text", "priority_service", "exclusive_campaigns")
        }
        for level in levels()
    ]
    return rows + [{"name": ""} for _ in range(MAX_LEVELS - len(rows))]


def _page(request, *, form: dict | None = None, rows=None, errors=(), status=200) -> HttpResponse:
    prog = programme()
    counts = dict(
        MemberTier.objects.values_list("level_id").annotate(n=Count("pk")).values_list("level_id", "n")
    )
    all_levels = levels()
    evaluated = sum(counts.values())
    distribution = [(level, counts.get(level.pk, 0)) for level in all_levels]
    if all_levels:  # members never evaluated are on the base level
        base, n = distribution[0]
        distribution[0] = (base, n + Member.objects.count() - evaluated)
    context = {
        "section": "tiers",
        "programme": form
        or {
            "basis": prog.basis,
            "period_days": prog.period_days,
            "downgrade_policy": prog.downgrade_policy,
            "cycle_months": prog.cycle_months,
            "growth_per_yuan": prog.growth_per_yuan,
        },
        "rows": rows or _rows_from_levels(),
        "errors": list(errors),
        "bases": TierBasis.choices,
        "policies": DowngradePolicy.choices,
        "distribution": distribution,
    }
    return render(request, "console/loyalty/tiers.html", context, status=status)


@operator_required(Perm.LOYALTY_CONFIGURE)
@require_http_methods(["GET", "POST"])
def tiers_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    post = request.POST
    form = {
        name: post.get(name, "")
        for name in ("basis", "period_days", "downgrade_policy", "cycle_months", "growth_per_yuan")
    }
    rows, specs, problems = _rows_from_post(post)
    numbers = {name: _int(form[name], -1) for name in ("period_days", "cycle_months", "growth_per_yuan")}
    if None in numbers.values():
        problems.append(_("Period, cycle and growth per yuan must be whole numbers."))
    if problems:
        return _page(request, form=form, rows=rows, errors=problems, status=422)
    try:
        programme_save(
            basis=form["basis"], downgrade_policy=form["downgrade_policy"], level_specs=specs, actor=request.actor,
            **numbers,
        )  # fmt: skip
    except ValidationFailed as refused:
        return _page(request, form=form, rows=rows, errors=[e["message"] for e in refused.errors], status=422)
    messages.success(request, _("Tier programme saved."))
    return redirect("console:tiers")


urlpatterns = [path("loyalty/tiers/", tiers_page, name="tiers")]
