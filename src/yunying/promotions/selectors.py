"""Reads for the API, the console and the member pages: coupons, promotions, budgets, ROI."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yunying.commerce.models import Order, OrderStatus
from yunying.core.errors import DomainError
from yunying.promotions.errors import PromotionError
from yunying.promotions.models import (
    Budget,
    BudgetTopUp,
    CodeBatch,
    Coupon,
    CouponState,
    Promotion,
    PromotionKind,
    PromotionState,
    Redemption,
    TopUpState,
)
from yunying.promotions.terms import layer_of


def yuan(fen: int) -> str:
    """19950 → "199.5", 20000 → "200": money as people write it."""
    whole, part = divmod(int(fen), 100)
    return f"{whole}" if part == 0 else f"{whole}.{part:02d}".rstrip("0")


def zhe(permille: int) -> str:
    """850 → "8.5折" in Chinese (as shoppers read it), "15% off" in English."""
    if (translation.get_language() or "").startswith("zh"):
        return f"{permille / 100:g}折"
    return _("%(percent)s%% off") % {"percent": f"{(1000 - permille) / 10:g}"}


def promotion_summary(promotion: Promotion) -> str:
    """The terms in a few words: 满200减50 / 每满100减10 / 8.5折 / 限时价¥99 ..."""
    terms = promotion.terms
    kind = promotion.kind
    threshold = terms.get("threshold_fen", 0)
    prefix = _("Over ¥%(amount)s, ") % {"amount": yuan(threshold)} if threshold else ""
    if kind == PromotionKind.SPECIAL_PRICE:
        return _("Price ¥%(amount)s") % {"amount": yuan(terms.get("price_fen", 0))}
    if kind == PromotionKind.MEMBER_PRICE:
        permille = terms.get("permille") or 0
        return zhe(permille) if permille else _("The member's level discount")
    if kind == PromotionKind.SPEND_OFF:
        steps = terms.get("steps", [])
        if terms.get("repeat") and steps:
            text = _("Every ¥%(t)s, ¥%(o)s off") % {"t": yuan(steps[0][0]), "o": yuan(steps[0][1])}
            if terms.get("cap_fen"):
                text += _(" (at most ¥%(cap)s)") % {"cap": yuan(terms["cap_fen"])}
            return text
        return " / ".join(_("¥%(t)s, ¥%(o)s off") % {"t": yuan(t), "o": yuan(o)} for t, o in steps)
    if kind == PromotionKind.SPEND_PERCENT:
        return " / ".join(_("¥%(t)s, %(z)s") % {"t": yuan(t), "z": zhe(p)} for t, p in terms.get("steps", []))
    if kind == PromotionKind.ITEMS_PERCENT:
        return " / ".join(_("%(n)s items, %(z)s") % {"n": n, "z": zhe(p)} for n, p in terms.get("steps", []))
    if kind in (PromotionKind.GIFT, PromotionKind.COUPON_GIFT):
        return prefix + _("gift %(sku)s × %(qty)s") % {
            "sku": terms.get("gift_sku", ""),
            "qty": terms.get("gift_quantity", 0),
        }
    if kind == PromotionKind.COUPON_OFF:
        return prefix + _("¥%(amount)s off") % {"amount": yuan(terms.get("off_fen", 0))}
    if kind == PromotionKind.COUPON_PERCENT:
        text = prefix + zhe(terms.get("permille", 1000))
        if terms.get("cap_fen"):
            text += _(" (at most ¥%(cap)s off)") % {"cap": yuan(terms["cap_fen"])}
        return text
    if kind == PromotionKind.COUPON_SHIPPING:
        return prefix + _("free shipping")
    return ""


def coupon_view(coupon: Coupon) -> dict:
    promotion = coupon.promotion
    return {
        "id": coupon.pk,
        "promotion_id": promotion.pk,
        "name": promotion.name,
        "kind": promotion.kind,
        "layer": int(layer_of(promotion.kind, promotion.issuer)),
        "summary": promotion_summary(promotion),
        "state": coupon.state,
        "valid_from": coupon.valid_from,
        "valid_until": coupon.valid_until,
        "used_at": coupon.used_at,
    }


def member_coupons(member_id: int, *, state: str | None = None) -> list[dict]:
    """A member's coupons, those ending first first; `available` means usable now (an available
    coupon past its end that the daily job has not marked yet counts as expired)."""
    now = timezone.now()
    query = Coupon.objects.filter(member_id=member_id).select_related("promotion")
    live = Q(state=CouponState.AVAILABLE) & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    if state == CouponState.AVAILABLE:
        query = query.filter(live)
    elif state == CouponState.EXPIRED:
        query = query.filter(
            Q(state=CouponState.EXPIRED) | (Q(state=CouponState.AVAILABLE) & Q(valid_until__lte=now))
        )
    elif state:
        query = query.filter(state=state)
    rows = [coupon_view(coupon) for coupon in query.order_by(F("valid_until").asc(nulls_last=True), "pk")]
    for row in rows:
        if (
            row["state"] == CouponState.AVAILABLE
            and row["valid_until"] is not None
            and row["valid_until"] <= now
        ):
            row["state"] = CouponState.EXPIRED
    return rows


def claimable_coupons(now: datetime | None = None) -> list[dict]:
    """Coupon templates members can claim now, with how many are left."""
    now = now or timezone.now()
    query = (
        Promotion.objects.filter(
            claimable=True,
            kind__in=[
                PromotionKind.COUPON_OFF,
                PromotionKind.COUPON_PERCENT,
                PromotionKind.COUPON_SHIPPING,
                PromotionKind.COUPON_GIFT,
            ],
            state=PromotionState.ACTIVE,
            starts_at__lte=now,
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-priority", "pk")
    )
    return [
        {
            "promotion_id": promotion.pk,
            "name": promotion.name,
            "kind": promotion.kind,
            "summary": promotion_summary(promotion),
            "left": None if promotion.issue_limit is None else promotion.issue_limit - promotion.issued_count,
            "ends_at": promotion.ends_at,
        }
        for promotion in query
    ]


def _budget_view(budget: Budget | None) -> dict | None:
    if budget is None:
        return None
    return {
        "id": budget.pk,
        "scope": budget.scope,
        "key": budget.key,
        "cap_fen": budget.cap_fen,
        "spent_fen": budget.spent_fen,
        "left_fen": budget.left_fen,
    }


def promotion_view(promotion_or_id) -> dict:
    """Raises: promotion.not_found."""
    promotion = promotion_or_id
    if not isinstance(promotion, Promotion):
        promotion = Promotion.objects.select_related("budget").filter(pk=promotion_or_id).first()
        if promotion is None:
            raise DomainError(PromotionError.NOT_FOUND)
    budget = getattr(promotion, "budget", None) if hasattr(promotion, "budget") else None
    return {
        "id": promotion.pk,
        "name": promotion.name,
        "kind": promotion.kind,
        "state": promotion.state,
        "layer": int(layer_of(promotion.kind, promotion.issuer)),
        "summary": promotion_summary(promotion),
        "starts_at": promotion.starts_at,
        "ends_at": promotion.ends_at,
        "exclusive": promotion.exclusive,
        "not_with": promotion.not_with,
        "use_limit": promotion.use_limit,
        "used_count": promotion.used_count,
        "budget": _budget_view(budget),
    }


def promotion_list(*, state: str | None = None, kind: str | None = None, search: str = ""):
    query = Promotion.objects.select_related("budget").order_by("-pk")
    if state:
        query = query.filter(state=state)
    if kind:
        query = query.filter(kind=kind)
    search = search.replace("\x00", "")  # PostgreSQL refuses NUL in a text parameter (a 500)
    if search:
        query = query.filter(name__icontains=search)
    return query


def promotion_views(*, state: str | None = None) -> list[dict]:
    return [promotion_view(promotion) for promotion in promotion_list(state=state)]


def budget_list():
    return Budget.objects.select_related("promotion").order_by("scope", "pk")


def topups_pending():
    return BudgetTopUp.objects.filter(state=TopUpState.PENDING).select_related("budget").order_by("pk")


def spend_by_day(budget: Budget, *, days: int = 30) -> list[tuple[str, int]]:
    """Net spend per day over the last `days` (for the budget chart)."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        budget.entries.filter(created_at__gte=since)
        .exclude(kind="topup")
        .annotate(day=TruncDate("created_at"))
        .values("day", "kind")
        .annotate(total=Sum("amount_fen"))
        .order_by("day")
    )
    per_day: dict[str, int] = {}
    for row in rows:
        sign = 1 if row["kind"] == "spend" else -1
        key = row["day"].isoformat()
        per_day[key] = per_day.get(key, 0) + sign * row["total"]
    return sorted(per_day.items())


def roi(*, promotion_id: int | None = None, channel: str | None = None) -> list[dict]:
    """After-the-fact ROI per promotion and channel (O4): discount cost against incremental sales.

    Incremental sales are estimated as (average net order value of the orders that used the
    promotion − that of the other orders of the same channel in the same period) × the orders that
    used it; ROI = incremental ÷ cost. An estimate, not an experiment: it says which promotions
    moved basket size, not what would have happened without them (docs/promotions.md)."""
    redemptions = Redemption.objects.exclude(order__status=OrderStatus.CANCELLED)
    if promotion_id is not None:
        redemptions = redemptions.filter(promotion_id=promotion_id)
    if channel is not None:
        redemptions = redemptions.filter(channel=channel)
    groups = (
        redemptions.values("promotion_id", "promotion__name", "channel")
        .annotate(
            orders=Count("order_id", distinct=True),
            cost=Sum(F("amount_fen") + F("shipping_fen") - F("released_fen")),
            first=Min("redeemed_at"),
            last=Max("redeemed_at"),
        )
        .order_by("promotion_id", "channel")
    )
    results = []
    for group in groups:
        with_ids = redemptions.filter(promotion_id=group["promotion_id"], channel=group["channel"]).values(
            "order_id"
        )
        period = Order.objects.filter(
            channel=group["channel"], paid_at__gte=group["first"], paid_at__lte=group["last"]
        ).exclude(status=OrderStatus.CANCELLED)
        used = period.filter(pk__in=with_ids).aggregate(
            n=Count("pk"), net=Sum(F("total_fen") - F("refunded_fen"))
        )
        other = period.exclude(pk__in=with_ids).aggregate(
            n=Count("pk"), net=Sum(F("total_fen") - F("refunded_fen"))
        )
        used_avg = (used["net"] or 0) / used["n"] if used["n"] else 0
        other_avg = (other["net"] or 0) / other["n"] if other["n"] else 0
        incremental = int((used_avg - other_avg) * used["n"]) if other["n"] else 0
        cost = group["cost"] or 0
        results.append(
            {
                "promotion_id": group["promotion_id"],
                "name": group["promotion__name"],
                "channel": group["channel"],
                "orders": group["orders"],
                "sales_fen": used["net"] or 0,
                "cost_fen": cost,
                "incremental_fen": incremental,
                "baseline_orders": other["n"],
                "roi": round(incremental / cost, 2) if cost > 0 and other["n"] else None,
            }
        )
    return results


# -- the member's coupon centre (H5) ----------------------------------------------------------------
COUPONS_EXPIRING_DAYS = 3  # a usable coupon ending within this many days is "expiring soon"


def _live_templates(now: datetime):
    return (
        Promotion.objects.filter(
            kind__in=[
                PromotionKind.COUPON_OFF,
                PromotionKind.COUPON_PERCENT,
                PromotionKind.COUPON_SHIPPING,
                PromotionKind.COUPON_GIFT,
            ],
            state=PromotionState.ACTIVE,
            starts_at__lte=now,
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-priority", "pk")
    )


def _held(member_id: int, promotion_ids: list[int]) -> dict[int, int]:
    """Coupons of each template the member holds, as coupon_issue counts them (all but withdrawn)."""
    rows = (
        Coupon.objects.filter(member_id=member_id, promotion_id__in=promotion_ids)
        .exclude(state=CouponState.VOID)
        .values("promotion_id")
        .annotate(n=Count("pk"))
    )
    return {row["promotion_id"]: row["n"] for row in rows}


def _template_view(promotion: Promotion, held: int) -> dict:
    left = None if promotion.issue_limit is None else max(promotion.issue_limit - promotion.issued_count, 0)
    return {
        "promotion_id": promotion.pk,
        "name": promotion.name,
        "kind": promotion.kind,
        "layer": int(layer_of(promotion.kind, promotion.issuer)),
        "summary": promotion_summary(promotion),
        "left": left,
        "ends_at": promotion.ends_at,
        "valid_days": promotion.valid_days,
        "coupon_valid_until": promotion.coupon_valid_until,
        "points_price": promotion.points_price,
        "per_member_limit": promotion.per_member_limit,
        "held": held,
        "held_all": held >= promotion.per_member_limit,  # coupon_issue would refuse: member limit
        "sold_out": left == 0,
    }


def member_claimables(member_id: int, *, now: datetime | None = None) -> list[dict]:
    """claimable_coupons as one member sees them: with how many they hold of each and whether they
    may take another (`held_all`), and whether any are left (`sold_out`). Two queries."""
    now = now or timezone.now()
    templates = list(_live_templates(now).filter(claimable=True))
    held = _held(member_id, [t.pk for t in templates])
    return [_template_view(t, held.get(t.pk, 0)) for t in templates]


def points_coupons(member_id: int, *, now: datetime | None = None) -> list[dict]:
    """Coupon templates running now that members can buy with points (积分兑券), with the member's
    holding. Two queries."""
    now = now or timezone.now()
    templates = list(_live_templates(now).filter(points_price__isnull=False))
    held = _held(member_id, [t.pk for t in templates])
    return [_template_view(t, held.get(t.pk, 0)) for t in templates]


def points_coupon_get(member_id: int, promotion_id: int, *, now: datetime | None = None) -> dict | None:
    """One template of points_coupons, or None (not on sale for points, not running, no such id)."""
    now = now or timezone.now()
    template = _live_templates(now).filter(points_price__isnull=False, pk=promotion_id).first()
    if template is None:
        return None
    return _template_view(template, _held(member_id, [template.pk]).get(template.pk, 0))


def member_coupon_wallet(
    member_id: int, *, now: datetime | None = None, soon_days: int = COUPONS_EXPIRING_DAYS
) -> dict:
    """The member's coupons in one query: `usable` (ending first first), `expiring` (usable, ending
    within `soon_days`), `history` (used, expired, withdrawn; the latest first)."""
    now = now or timezone.now()
    rows = [
        coupon_view(coupon)
        for coupon in Coupon.objects.filter(member_id=member_id)
        .select_related("promotion")
        .order_by(F("valid_until").asc(nulls_last=True), "pk")
    ]
    soon = now + timedelta(days=soon_days)
    usable, history = [], []
    for row in rows:
        ended = row["valid_until"] is not None and row["valid_until"] <= now
        if row["state"] == CouponState.AVAILABLE and ended:
            row["state"] = CouponState.EXPIRED  # the daily job has not marked it yet
        row["not_yet"] = row["state"] == CouponState.AVAILABLE and row["valid_from"] > now
        row["expiring"] = (
            row["state"] == CouponState.AVAILABLE
            and row["valid_until"] is not None
            and row["valid_until"] <= soon
        )
        (usable if row["state"] == CouponState.AVAILABLE else history).append(row)
    history.sort(key=lambda row: row["used_at"] or row["valid_until"] or now, reverse=True)
    return {"usable": usable, "expiring": [row for row in usable if row["expiring"]], "history": history}


def member_coupons_usable_count(member_id: int, *, now: datetime | None = None) -> int:
    """How many coupons the member can use now (the count on their page)."""
    now = now or timezone.now()
    return (
        Coupon.objects.filter(member_id=member_id, state=CouponState.AVAILABLE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .count()
    )


# -- the console ------------------------------------------------------------------------------------
def promotion_names(promotion_ids) -> dict[int, str]:
    """Names of promotions by id (the editor's preview names the other offers in its quote)."""
    return dict(Promotion.objects.filter(pk__in=set(promotion_ids)).values_list("pk", "name"))


def coupon_counts(promotion_id: int) -> dict[str, int]:
    """A template's coupons by state, and all of them."""
    rows = Coupon.objects.filter(promotion_id=promotion_id).values("state").annotate(n=Count("pk"))
    counts = {state: 0 for state in CouponState.values}
    for row in rows:
        counts[row["state"]] = row["n"]
    counts["all"] = sum(counts[state] for state in CouponState.values)
    return counts


def coupon_list(promotion_id: int, *, member_id: int | None = None):
    """A template's coupons, newest first (member ids only: no personal data)."""
    query = Coupon.objects.filter(promotion_id=promotion_id).order_by("-pk")
    if member_id is not None:
        query = query.filter(member_id=member_id)
    return query


def code_batches(promotion_id: int):
    """A template's code batches with how many of their codes were redeemed."""
    return (
        CodeBatch.objects.filter(promotion_id=promotion_id)
        .annotate(redeemed=Count("codes", filter=Q(codes__redeemed_at__isnull=False)))
        .order_by("-pk")
    )


def promotions_without_budget(limit: int = 500):
    """Promotions a new promotion budget may be for (one budget per promotion), newest first."""
    return Promotion.objects.filter(budget__isnull=True).order_by("-pk")[:limit]


def budget_topups(budget_ids) -> list[BudgetTopUp]:
    """Top-ups of these budgets, newest first (decided ones too: the dashboard's history)."""
    return list(
        BudgetTopUp.objects.filter(budget_id__in=budget_ids)
        .select_related("budget__promotion")
        .order_by("-pk")
    )
