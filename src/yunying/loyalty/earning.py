"""How members earn points (L2, L3), and how refunds take them back: handlers of order facts
(commerce.events) and member activities (core.activity), subscribed in LoyaltyConfig.ready().

Orders (docs/loyalty-earning.md):
- RECORDED: every order line earns `line_points` (loyalty.rules: one floor per line after the
  multipliers), key "order-line:<line id>:earn", pending until paid_at + the return window, expiring
  by the rules' policy counted from the end of that window (when they become spendable). Multipliers: the birthday month (member.birth_date's
  month in settings.TIME_ZONE at paid_at) and every registered `multiplier_sources` entry (the
  member's tier), multiplied together.
- REFUNDED: first the points the member SPENT on the order come back (points_restore of the
  checkout spends, source CHECKOUT, ref = the order's external id): floor(spent × refunded / total),
  cumulative; then each line gives back floor(earned × refunded_fen / paid_fen), cumulative, less
  what it already gave back. An order-level refund is spread over the lines by paid_fen (rules.spread).
  Giving back before taking back means points the refund returns can cover the points it takes, so
  the member is never charged twice nor put into debt needlessly (odoo#212922, #221928).
- CANCELLED: everything spent comes back and everything earned is taken back.
Keys of refund postings carry the OrderEvent id: a replayed refund (commerce calls no handler for
it, and a repeated call computes nothing left to post) never posts twice.

History: orders paid before the rules' `orders_paid_from` earn nothing, and orders imported from
files (commerce source "import") earn nothing unless the rules say `import_earns`: a history import
must not create a points liability nobody decided on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from django.db.models import Sum
from django.utils import timezone

from yunying.commerce.events import OrderFact, OrderFactKind
from yunying.commerce.models import Order, OrderEvent, OrderLine, OrderStatus
from yunying.core.activity import Activity, ActivityKind
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.ledger import points_earn, points_restore, points_reverse
from yunying.loyalty.models import PointPosting, PointsRules, PostingKind, PostingSource
from yunying.loyalty.rules import (
    PERMILLE,
    is_birthday_month,
    line_points,
    points_rules_current,
    rules_expiry_at,
    share_floor,
    spread,
)

EARNER = Actor(kind="system", id=None, label="loyalty earning")

# ---------------------------------------------------------------------------------------------------
# Multipliers

MultiplierSource = Callable[[int, datetime], int]  # (member_id, at) -> permille (1000 = ×1)

multiplier_sources: dict[str, MultiplierSource] = {}


def multiplier_register(name: str, source: MultiplierSource) -> None:
    """Multiply order points by `source(member_id, paid_at)` permille (the tiers register the
    member's level multiplier). Registering twice under one name replaces."""
    multiplier_sources[name] = source


def order_multipliers(*, member_id: int, birth_date, at: datetime, rules: PointsRules) -> list[int]:
    """The multipliers (permille) of an order paid at `at`; ×1 ones left out."""
    multipliers = []
    if rules.birthday_permille != PERMILLE and is_birthday_month(birth_date, at):
        multipliers.append(rules.birthday_permille)
    for source in list(multiplier_sources.values()):
        permille = int(source(member_id, at))
        if permille != PERMILLE:
            multipliers.append(max(0, permille))
    return multipliers


# ---------------------------------------------------------------------------------------------------
# Orders


def earn_key(line_id: int) -> str:
    return f"order-line:{line_id}:earn"


def order_earns(order: Order, rules: PointsRules) -> bool:
    """Whether an order earns points at all (module docstring, "History")."""
    if order.source == "import" and not rules.import_earns:
        return False
    return order.paid_at >= rules.orders_paid_from


def on_order_fact(fact: OrderFact) -> None:
    """commerce.events handler; runs inside the transaction that records the fact."""
    if fact.kind == OrderFactKind.RECORDED:
        _order_recorded(fact.order_id)
    elif fact.event_id is not None:
        _order_changed(fact.event_id)


def _order_recorded(order_id: int) -> None:
    rules = points_rules_current()
    if rules is None or rules.points_per_unit == 0:
        return
    order = Order.objects.select_related("member").get(pk=order_id)
    if not order_earns(order, rules):
        return
    # Points are the member's (到账) when the return window closes: their life counts from then, so
    # no policy can make them expire while still pending.
    pending_until = order.paid_at + timedelta(days=rules.return_window_days)
    expires_at = rules_expiry_at(rules, pending_until)
    if expires_at is not None and expires_at <= timezone.now():
        return  # they would expire the moment they were earned
    multipliers = order_multipliers(
        member_id=order.member_id, birth_date=order.member.birth_date, at=order.paid_at, rules=rules
    )
    factor = _factor_label(multipliers)
    for line in order.lines.order_by("line_no"):
        points = line_points(
            paid_fen=line.paid_fen,
            points_per_unit=rules.points_per_unit,
            unit_fen=rules.unit_fen,
            multipliers=multipliers,
        )
        if points <= 0:
            continue
        points_earn(
            member_id=order.member_id,
            points=points,
            key=earn_key(line.pk),
            source=PostingSource.ORDER,
            actor=EARNER,
            expires_at=expires_at,
            pending_until=pending_until,
            ref=order.external_id,
            memo=f"{order.external_id} #{line.line_no} {line.sku}{factor}",
        )


def _factor_label(multipliers: list[int]) -> str:
    """The multiplier as the member's history shows it (" ×3"), in exact decimals."""
    if not multipliers:
        return ""
    product = Decimal(1)
    for permille in multipliers:
        product *= Decimal(permille) / PERMILLE
    return f" ×{product.normalize():f}"


def _order_changed(event_id: int) -> None:
    event = OrderEvent.objects.select_related("order").get(pk=event_id)
    order = event.order
    lines = list(order.lines.order_by("line_no"))
    # Give back first, take back second (module docstring).
    _restore_spent(order, event)
    _reverse_earned(order, lines, event)


def _everything(order: Order) -> bool:
    return order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def _restore_spent(order: Order, event: OrderEvent) -> None:
    spends = PointPosting.objects.filter(
        kind=PostingKind.SPEND,
        source=PostingSource.CHECKOUT,
        ref=order.external_id,
        account__member_id=order.member_id,
    ).order_by("pk")
    for spend in spends:
        spent = -spend.points
        restored = (
            PointPosting.objects.filter(related=spend, kind=PostingKind.RESTORE).aggregate(
                total=Sum("points")
            )["total"]
            or 0
        )
        target = spent if _everything(order) else share_floor(spent, order.refunded_fen, order.total_fen)
        wanted = min(target, spent) - restored
        if wanted > 0:
            _restore(
                spend, wanted, key=f"order:{order.pk}:restore:{spend.pk}:{event.pk}", memo=order.external_id
            )


def _restore(spend: PointPosting, wanted: int, *, key: str, memo: str) -> None:
    """Give back `wanted`, or what is left when another give-back of this spend (the checkout's own
    cancel, through the points API) committed between the read above and the ledger's lock: the
    ledger re-checks under the lock and says how much is left."""
    try:
        points_restore(spend_key=spend.business_key, key=key, points=wanted, actor=EARNER, memo=memo)
    except DomainError as refused:
        left = refused.data.get("restorable", 0) if refused.code == LoyaltyError.OVER_RESTORE else 0
        if left <= 0:
            if refused.code == LoyaltyError.OVER_RESTORE:
                return  # everything was given back already
            raise
        points_restore(
            spend_key=spend.business_key, key=key, points=min(wanted, left), actor=EARNER, memo=memo
        )


def line_refunded(order: Order, lines: list[OrderLine]) -> list[Fraction]:
    """Each line's refunded fen: its own refunds plus its share of the order-level ones."""
    order_level = order.refunded_fen - sum(line.refunded_fen for line in lines)
    shares = spread(
        max(0, order_level),
        [line.paid_fen for line in lines],
        [line.paid_fen - line.refunded_fen for line in lines],
    )
    return [line.refunded_fen + share for line, share in zip(lines, shares, strict=True)]


def _reverse_earned(order: Order, lines: list[OrderLine], event: OrderEvent) -> None:
    earned = {
        posting.business_key: posting
        for posting in PointPosting.objects.filter(
            business_key__in=[earn_key(line.pk) for line in lines], kind=PostingKind.EARN
        )
    }
    if not earned:
        return
    reversed_by_earning: dict[int, int] = {}
    for related_id, taken, shortfall in PointPosting.objects.filter(
        related__in=list(earned.values()), kind=PostingKind.REVERSE
    ).values_list("related_id", "points", "shortfall"):
        reversed_by_earning[related_id] = reversed_by_earning.get(related_id, 0) - taken + shortfall
    everything = _everything(order)
    for line, refunded_fen in zip(lines, line_refunded(order, lines), strict=True):
        earning = earned.get(earn_key(line.pk))
        if earning is None:
            continue
        target = earning.points if everything else share_floor(earning.points, refunded_fen, line.paid_fen)
        wanted = target - reversed_by_earning.get(earning.pk, 0)
        if wanted > 0:
            points_reverse(
                earn_key=earning.business_key,
                key=f"order-line:{line.pk}:reverse:{event.pk}",
                points=wanted,
                actor=EARNER,
                memo=f"{order.external_id} #{line.line_no}",
            )


# ---------------------------------------------------------------------------------------------------
# Activities

_ACTIVITY_REWARDS = {
    ActivityKind.SIGNUP_CONFIRMED: ("signup_points", PostingSource.SIGNUP, "signup"),
    ActivityKind.SIGNUP_ATTENDED: ("attendance_points", PostingSource.ATTENDANCE, "attendance"),
    ActivityKind.MEMBER_REGISTERED: ("welcome_points", PostingSource.WELCOME, "welcome"),
}


def on_activity(activity: Activity) -> None:
    """core.activity handler: a confirmed sign-up, an attendance, a new member earn the configured
    points once (key "<kind>:<activity key>"), never pending, expiring by the rules' policy. A
    confirmed sign-up that is withdrawn or rejected gives its points back (the key names the sign-up),
    so signing up and withdrawing over and over farms nothing."""
    if activity.kind == ActivityKind.SIGNUP_LEFT:
        _signup_points_take_back(activity)
        return
    reward = _ACTIVITY_REWARDS.get(activity.kind)
    if reward is None:
        return
    field, source, prefix = reward
    rules = points_rules_current()
    points = getattr(rules, field, 0) if rules is not None else 0
    if points <= 0:
        return
    campaign_id = activity.data.get("campaign_id")
    points_earn(
        member_id=activity.member_id,
        points=points,
        key=f"{prefix}:{activity.key}",
        source=source,
        actor=EARNER,
        expires_at=rules_expiry_at(rules, activity.at),
        ref=str(campaign_id) if campaign_id else "",
    )


def _signup_points_take_back(activity: Activity) -> None:
    earning = f"signup:{activity.key}"
    if not PointPosting.objects.filter(business_key=earning, kind=PostingKind.EARN).exists():
        return  # no points were paid for it (no rules, or zero points then)
    points_reverse(
        earn_key=earning, key=f"{earning}:left", actor=EARNER, memo=str(activity.data.get("campaign_id", ""))
    )
