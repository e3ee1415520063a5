"""Points for operators: a member's points on the 360 page (context), manual adjustments with a
reason (and the approval queue for large ones: two-person rule), and the liabilities report."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yunying.console.access import operator_required
from yunying.core.errors import DomainError
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Actor, Perm
from yunying.loyalty.adjustments import adjustment_decide, adjustment_request, adjustments_waiting
from yunying.loyalty.models import (
    PointAccount,
    PointAdjustment,
    PointLot,
    PointPosting,
    PostingKind,
    TierChange,
)
from yunying.loyalty.selectors import points_history, points_lots, points_summary
from yunying.loyalty.tiers import tier_progress

LOTS_SHOWN = 10
HISTORY_SHOWN = 20


def member_points_context(actor: Actor, member_id: int) -> dict:
    """What the 360 page shows of a member's points and level (operators with loyalty.view)."""
    if not actor.can(Perm.LOYALTY_VIEW):
        return {}
    return {
        "points": points_summary(member_id),
        "tier": tier_progress(member_id),
        "tier_changes": list(
            TierChange.objects.filter(member_id=member_id)
            .select_related("from_level", "to_level")
            .order_by("-at")[:5]
        ),
        "point_lots": list(points_lots(member_id)[:LOTS_SHOWN]),
        "point_history": list(points_history(member_id)[:HISTORY_SHOWN]),
        "adjustments": list(
            PointAdjustment.objects.filter(member_id=member_id).order_by("-requested_at")[:10]
        ),
        "can_adjust": actor.can(Perm.LOYALTY_ADJUST),
        "approval_threshold": settings.LOYALTY_ADJUST_APPROVAL_THRESHOLD,
    }


def _points(raw: str) -> int | None:
    raw = (raw or "").strip().replace(",", "")
    sign = -1 if raw.startswith("-") else 1
    digits = raw.lstrip("+-")
    if not ascii_digits(digits) or len(digits) > 9:
        return None
    return sign * int(digits)


@operator_required(Perm.LOYALTY_ADJUST)
@require_POST
def points_adjust(request: HttpRequest, member_id: int) -> HttpResponse:
    points = _points(request.POST.get("points", ""))
    if points is None or points == 0:
        messages.error(request, _("Give the points as a whole number: positive adds, negative deducts."))
        return redirect("console:member_360", member_id=member_id)
    try:
        adjustment = adjustment_request(
            member_id=member_id, points=points, reason=request.POST.get("reason", ""), actor=request.actor
        )
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("console:member_360", member_id=member_id)
    if adjustment.state == "requested":
        messages.info(
            request, _("The adjustment is above the threshold: it waits for another operator's approval.")
        )
    else:
        messages.success(request, _("Points adjusted."))
    return redirect("console:member_360", member_id=member_id)


@operator_required(Perm.LOYALTY_APPROVE)
@require_GET
def adjustment_queue(request: HttpRequest) -> HttpResponse:
    waiting = list(adjustments_waiting().select_related("member")[:200])
    return render(request, "console/loyalty/adjustments.html", {"section": "adjustments", "waiting": waiting})


@operator_required(Perm.LOYALTY_APPROVE)
@require_POST
def adjustment_decision(request: HttpRequest, adjustment_id: int) -> HttpResponse:
    try:
        adjustment_decide(
            adjustment_id=adjustment_id, approve=request.POST.get("decision") == "approve", actor=request.actor,
            note=request.POST.get("note", ""),
        )  # fmt: skip
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("console:points_adjustments")


@operator_required(Perm.LOYALTY_VIEW)
@require_GET
def liabilities(request: HttpRequest) -> HttpResponse:
    """Points outstanding (what the merchant owes members), what expires in the coming weeks, and
    what was earned, spent and expired month by month."""
    now = timezone.now()
    totals = PointAccount.objects.aggregate(
        total_balance=Sum("balance"), total_pending=Sum("pending"), total_debt=Sum("debt"),
        members=Count("pk", filter=Q(balance__gt=0) | Q(pending__gt=0)),
    )  # fmt: skip
    spendable = PointLot.objects.filter(remaining__gt=0, pending_until__isnull=True)
    weeks = []
    for week in range(5):
        start, end = now + timedelta(weeks=week), now + timedelta(weeks=week + 1)
        expiring = spendable.filter(expires_at__gte=start, expires_at__lt=end).aggregate(
            total=Sum("remaining")
        )
        weeks.append((start, end, expiring["total"] or 0))
    since = (now - timedelta(days=180)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    monthly: dict = {}
    rows = (
        PointPosting.objects.filter(
            created_at__gte=since, kind__in=[PostingKind.EARN, PostingKind.SPEND, PostingKind.EXPIRE]
        )
        .annotate(month=TruncMonth("created_at"))
        .values("month", "kind")
        .annotate(total=Sum("points"))
        .order_by("month")
    )
    for row in rows:
        monthly.setdefault(row["month"], {PostingKind.EARN: 0, PostingKind.SPEND: 0, PostingKind.EXPIRE: 0})[
            row["kind"]
        ] = abs(row["total"] or 0)
    context = {
        "section": "liabilities",
        "totals": {key.removeprefix("total_"): value or 0 for key, value in totals.items()},
        "weeks": weeks,
        "monthly": sorted(monthly.items(), reverse=True),
    }
    return render(request, "console/loyalty/liabilities.html", context)


urlpatterns = [
    path("members/<int:member_id>/points/adjust/", points_adjust, name="points_adjust"),
    path("loyalty/adjustments/", adjustment_queue, name="points_adjustments"),
    path(
        "loyalty/adjustments/<int:adjustment_id>/decide/",
        adjustment_decision,
        name="points_adjustment_decide",
    ),
    path("loyalty/liabilities/", liabilities, name="points_liabilities"),
]
