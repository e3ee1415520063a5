"""Orders redeem what their quote applied; refunds and cancellations give it back (P1, P8).

Runs inside the transaction that records the order fact (commerce.events): a refusal here raises a
DomainError, the order is not recorded, and the storefront asks for a new quote. Every limit is a
conditional update taken in a fixed order (coupons, then promotions by id, then budgets by id), so
two orders racing for the last use or the last fen cannot both win, and cannot deadlock:
- a coupon: `state = available → used`;
- a promotion's use limit: `used_count < use_limit`;
- a budget: `spent_fen + cost <= base_fen + topup_fen` (also a CHECK).

Giving back (docs/promotions.md "Refunds"):
- A refund of a line gives back the line's share of each discount on it, in proportion to the amount
  refunded (floored); the refund that empties the line gives back the rest of it.
- An order-level refund gives back each discount's share in proportion to the refund's part of the
  order's total (floored).
- A cancellation, or the refund that makes the order fully refunded, gives back everything left, the
  promotions' uses, and the coupons (available again until their own end, or expired after it).
Budgets get back exactly what their redemptions release (BudgetEntry rows, kind "release").
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from yunying.commerce.events import OrderFact, OrderFactKind
from yunying.commerce.models import Order, OrderEvent, OrderStatus
from yunying.core.errors import DomainError
from yunying.promotions.engine import split
from yunying.promotions.errors import PromotionError
from yunying.promotions.models import (
    Budget,
    BudgetEntry,
    BudgetEntryKind,
    Coupon,
    CouponState,
    Promotion,
    QuoteUse,
    Redemption,
    RedemptionLine,
)
from yunying.promotions.quoting import TokenExpired, TokenInvalid, budget_keys_of, budgets_for, token_read
from yunying.promotions.services import budget_alerts_check


def on_order_fact(fact: OrderFact) -> None:
    if fact.kind == OrderFactKind.RECORDED:
        order_redeem(fact.order_id)
    elif fact.kind == OrderFactKind.REFUNDED:
        refund_release(fact.order_id, fact.event_id)
    elif fact.kind == OrderFactKind.CANCELLED:
        order = Order.objects.get(pk=fact.order_id)
        _give_back_all(order)


def order_redeem(order_id: int) -> list[Redemption]:
    """Take what the order's quote applied. Needs the caller's transaction (the order's).

    Raises: promotion.quote_invalid, promotion.quote_expired, promotion.quote_mismatch,
    promotion.coupon_unavailable, promotion.limit_reached, promotion.budget_exhausted."""
    order = Order.objects.get(pk=order_id)
    if not order.quote:
        return []
    try:
        signed = token_read(order.quote)
    except TokenExpired:
        raise DomainError(PromotionError.QUOTE_EXPIRED) from None
    except TokenInvalid:
        raise DomainError(PromotionError.QUOTE_INVALID) from None
    if signed.member_id is not None and signed.member_id != order.member_id:
        raise DomainError(PromotionError.QUOTE_INVALID, field="member")
    if signed.channel != order.channel:
        raise DomainError(PromotionError.QUOTE_INVALID, field="channel")
    lines = list(order.lines.order_by("line_no"))
    ordered = tuple((ln.sku, ln.category, ln.unit_price_fen, ln.quantity, ln.paid_fen) for ln in lines)
    if ordered != signed.lines:
        raise DomainError(PromotionError.QUOTE_MISMATCH)
    # One order per quote: a cached quote cannot price many orders, and pausing a promotion stops it
    # for every quote not yet redeemed once its token runs out (attacker review).
    try:
        with transaction.atomic():
            QuoteUse.objects.create(digest=hashlib.sha256(order.quote.encode()).hexdigest(), order=order)
    except IntegrityError:
        raise DomainError(PromotionError.QUOTE_USED) from None
    promotions = Promotion.objects.in_bulk({applied.promotion_id for applied in signed.applied})
    if len(promotions) != len({applied.promotion_id for applied in signed.applied}):
        raise DomainError(PromotionError.QUOTE_INVALID, field="promotion")

    # 1. Coupons: each the member's own, still available, and valid when quoted.
    for applied in signed.applied:
        if applied.coupon_id is None:
            continue
        taken = (
            Coupon.objects.filter(
                pk=applied.coupon_id,
                member_id=order.member_id,
                promotion_id=applied.promotion_id,
                state=CouponState.AVAILABLE,
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=signed.quoted_at))
            .update(state=CouponState.USED, used_at=order.paid_at, order=order)
        )
        if not taken:
            raise DomainError(PromotionError.COUPON_UNAVAILABLE, coupon_id=applied.coupon_id)
    # 2. Use limits, one use per order and promotion, in id order.
    for promotion_id in sorted(promotions):
        taken = Promotion.objects.filter(
            Q(use_limit__isnull=True) | Q(used_count__lt=F("use_limit")), pk=promotion_id
        ).update(used_count=F("used_count") + 1)
        if not taken:
            raise DomainError(PromotionError.LIMIT_REACHED, promotion_id=promotion_id)
    # 3. The ledger rows, then the budgets, each charged once with its total, in id order.
    redemptions = []
    for applied in signed.applied:
        promotion = promotions[applied.promotion_id]
        redemption = Redemption.objects.create(
            order=order,
            member_id=order.member_id,
            promotion=promotion,
            coupon_id=applied.coupon_id,
            offer_key=applied.key,
            amount_fen=applied.amount_fen,
            shipping_fen=applied.shipping_fen,
            channel=order.channel,
            campaign_id=promotion.campaign_id,
            gift_sku=applied.gift_sku,
            gift_quantity=applied.gift_quantity,
            redeemed_at=order.paid_at,
        )
        RedemptionLine.objects.bulk_create(
            RedemptionLine(redemption=redemption, line_no=line_no, discount_fen=fen)
            for line_no, fen in applied.lines
        )
        redemptions.append(redemption)
    budgets = {budget.key: budget for budget in budgets_for(list(promotions.values()), order.channel)}
    charges: dict[int, list[tuple[Redemption, int]]] = defaultdict(list)
    for redemption in redemptions:
        cost = redemption.amount_fen + redemption.shipping_fen
        if cost <= 0:
            continue
        for key in budget_keys_of(redemption.promotion, order.channel):
            if key in budgets:
                charges[budgets[key].pk].append((redemption, cost))
    for budget_id in sorted(charges):
        total = sum(cost for _, cost in charges[budget_id])
        taken = Budget.objects.filter(
            pk=budget_id, spent_fen__lte=F("base_fen") + F("topup_fen") - total
        ).update(spent_fen=F("spent_fen") + total)
        if not taken:
            budget = next(b for b in budgets.values() if b.pk == budget_id)
            raise DomainError(PromotionError.BUDGET_EXHAUSTED, budget=budget.key)
        BudgetEntry.objects.bulk_create(
            BudgetEntry(
                budget_id=budget_id, kind=BudgetEntryKind.SPEND, amount_fen=cost, redemption=redemption
            )
            for redemption, cost in charges[budget_id]
        )
    if charges:
        budget_alerts_check(sorted(charges))
    return redemptions


class _Releases:
    """What a refund or cancellation gives back, gathered first and written in the order an order
    takes its limits (coupons, promotions by id, budgets by id): an order and a cancellation racing
    on one promotion and budget then wait for each other instead of deadlocking (faults review)."""

    def __init__(self) -> None:
        self.budgets: dict[int, int] = defaultdict(int)
        self.entries: list[BudgetEntry] = []
        self.uses: list[int] = []  # promotion ids whose use comes back
        self.coupons: list[Redemption] = []  # redemptions whose coupon comes back

    def release(self, redemption: Redemption, amount: int) -> None:
        """Give `amount` of a redemption back to every budget it was charged to."""
        if amount <= 0:
            return
        Redemption.objects.filter(pk=redemption.pk).update(released_fen=F("released_fen") + amount)
        redemption.released_fen += amount
        charged = BudgetEntry.objects.filter(redemption=redemption, kind=BudgetEntryKind.SPEND).values_list(
            "budget_id", flat=True
        )
        for budget_id in sorted(set(charged)):
            self.budgets[budget_id] += amount
            self.entries.append(
                BudgetEntry(
                    budget_id=budget_id,
                    kind=BudgetEntryKind.RELEASE,
                    amount_fen=amount,
                    redemption=redemption,
                )
            )

    def write(self) -> None:
        now = timezone.now()
        for redemption in sorted(self.coupons, key=lambda r: r.coupon_id):
            coupon = Coupon.objects.get(pk=redemption.coupon_id)
            back = coupon.valid_until is None or coupon.valid_until > now
            Coupon.objects.filter(pk=coupon.pk, state=CouponState.USED).update(
                state=CouponState.AVAILABLE if back else CouponState.EXPIRED, used_at=None, order=None
            )
        for promotion_id in sorted(self.uses):
            Promotion.objects.filter(pk=promotion_id, used_count__gt=0).update(used_count=F("used_count") - 1)
        for budget_id in sorted(self.budgets):
            Budget.objects.filter(pk=budget_id).update(spent_fen=F("spent_fen") - self.budgets[budget_id])
        BudgetEntry.objects.bulk_create(self.entries)


def refund_release(order_id: int, event_id: int | None) -> None:
    """Give back the share of a refund (module docstring). Needs the refund's transaction."""
    order = Order.objects.get(pk=order_id)
    redemptions = list(
        Redemption.objects.filter(order=order, returned=False)
        .select_related("promotion")
        .prefetch_related("lines")
    )
    if not redemptions:
        return
    if order.status == OrderStatus.REFUNDED:
        _give_back_all(order, redemptions)
        return
    event = OrderEvent.objects.select_related("line").get(pk=event_id)
    releases = _Releases()
    for redemption in redemptions:
        left = redemption.amount_fen + redemption.shipping_fen - redemption.released_fen
        rows = list(redemption.lines.all())
        if event.line is not None:
            line = event.line
            for row in rows:
                if row.line_no != line.line_no:
                    continue
                row_left = row.discount_fen - row.released_fen
                if line.refunded_fen >= line.paid_fen:
                    share = row_left  # the refund that empties the line takes the rest
                else:
                    share = row.discount_fen * event.amount_fen // max(line.paid_fen, 1)
                share = min(share, row_left, left)  # never past what the line or the redemption has left
                if share > 0:
                    RedemptionLine.objects.filter(pk=row.pk).update(released_fen=F("released_fen") + share)
                    releases.release(redemption, share)
        elif order.total_fen > 0:
            share = min(
                left, (redemption.amount_fen + redemption.shipping_fen) * event.amount_fen // order.total_fen
            )
            # The lines' part of it is spread over the lines' discounts (the shipping part stays on the
            # redemption): a later line refund then sees what is left of its line (attacker review: it
            # gave back the whole line again and broke the release CHECK, a 500).
            lines_left = {row.pk: row.discount_fen - row.released_fen for row in rows}
            on_lines = min(share, sum(lines_left.values()))
            for pk, fen in split(on_lines, lines_left).items():
                RedemptionLine.objects.filter(pk=pk).update(released_fen=F("released_fen") + fen)
            releases.release(redemption, share)
    releases.write()


def _give_back_all(order: Order, redemptions: list[Redemption] | None = None) -> None:
    """A cancelled or fully refunded order: everything back, uses and coupons included."""
    if redemptions is None:
        redemptions = list(Redemption.objects.filter(order=order, returned=False).select_related("promotion"))
    releases = _Releases()
    for redemption in redemptions:
        releases.release(
            redemption, redemption.amount_fen + redemption.shipping_fen - redemption.released_fen
        )
        Redemption.objects.filter(pk=redemption.pk).update(returned=True)
        releases.uses.append(redemption.promotion_id)
        if redemption.coupon_id is not None:
            releases.coupons.append(redemption)
    releases.write()
