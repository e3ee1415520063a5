"""Builders for promotion-engine tests, and the contract's invariants as one checker.

Written from the contract (/work/helpers/promotions-spec.md, "Invariants"), not from the engine."""

from __future__ import annotations

from yunying.promotions.engine import Cart, CartLine, Kind, Layer, Offer, Quote

ITEM_KINDS = (Kind.SPECIAL_PRICE, Kind.MEMBER_PRICE)
SHOP_KINDS = (Kind.SPEND_OFF, Kind.SPEND_PERCENT, Kind.ITEMS_PERCENT, Kind.GIFT)
COUPON_KINDS = (Kind.COUPON_OFF, Kind.COUPON_PERCENT, Kind.COUPON_SHIPPING, Kind.COUPON_GIFT)


def line(no: int, unit_fen: int, quantity: int = 1, *, sku: str = "", category: str = "服饰") -> CartLine:
    return CartLine(
        line_no=no, sku=sku or f"SKU-{no}", category=category, unit_price_fen=unit_fen, quantity=quantity
    )


def cart(*lines: CartLine, **kwargs) -> Cart:
    return Cart(lines=tuple(lines), **kwargs)


def promo(key: str, kind: Kind, **kwargs) -> Offer:
    """An automatic promotion "p<id>": ITEM kinds in the ITEM layer, the rest in the SHOP layer."""
    layer = Layer.ITEM if kind in ITEM_KINDS else Layer.SHOP
    kwargs.setdefault("promotion_id", int(key[1:]))
    return Offer(key=key, kind=kind, layer=layer, **kwargs)


def coupon(key: str, kind: Kind, layer: Layer = Layer.SHOP_COUPON, **kwargs) -> Offer:
    """A member's coupon "c<id>" (coupon_id <id>, its promotion 900 + <id>)."""
    number = int(key[1:])
    kwargs.setdefault("promotion_id", 900 + number)
    return Offer(key=key, kind=kind, layer=layer, coupon_id=number, **kwargs)


def assert_invariants(result: Quote, given: Cart) -> None:
    """Every invariant of the contract that one quote can show on its own."""
    assert tuple(q.line_no for q in result.lines) == tuple(sorted(x.line_no for x in given.lines))
    by_no = {x.line_no: x for x in given.lines}
    for q in result.lines:
        assert q.list_fen == by_no[q.line_no].unit_price_fen * by_no[q.line_no].quantity
        assert 0 <= q.paid_fen <= q.list_fen
        assert q.discount_fen == q.list_fen - q.paid_fen
        assert q.discount_fen == sum(fen for _, fen in q.allocations)
        assert all(fen > 0 for _, fen in q.allocations)
    assert result.subtotal_fen == sum(q.list_fen for q in result.lines)
    assert result.discount_fen == sum(q.discount_fen for q in result.lines)
    assert result.shipping_fen == given.shipping_fen
    assert 0 <= result.shipping_discount_fen <= result.shipping_fen
    assert result.payable_fen == (
        sum(q.paid_fen for q in result.lines) + result.shipping_fen - result.shipping_discount_fen
    )
    assert result.payable_fen >= 0
    assert sum(a.amount_fen for a in result.applied) == result.discount_fen
    assert sum(a.shipping_fen for a in result.applied) == result.shipping_discount_fen
    for a in result.applied:
        assert sum(fen for _, fen in a.lines) == a.amount_fen
        assert all(fen > 0 for _, fen in a.lines)
        assert [no for no, _ in a.lines] == sorted({no for no, _ in a.lines})
    # The lines' allocations and the applied offers' lines are the same money seen two ways.
    per_line_offer: dict[tuple[int, str], int] = {}
    for q in result.lines:
        for key, fen in q.allocations:
            per_line_offer[(q.line_no, key)] = per_line_offer.get((q.line_no, key), 0) + fen
    assert per_line_offer == {(no, a.key): fen for a in result.applied for no, fen in a.lines}
    applied_keys = [a.key for a in result.applied]
    not_applied_keys = [n.key for n in result.not_applied]
    assert len(set(applied_keys)) == len(applied_keys)
    assert len(set(not_applied_keys)) == len(not_applied_keys)
    assert not set(applied_keys) & set(not_applied_keys)
    assert [a.layer for a in result.applied] == sorted(a.layer for a in result.applied)
    assert result.suggestion_saves_fen >= 0


def budget_spent(result: Quote, offers) -> dict[str, int]:
    """What the applied offers took from each budget key (line discount plus shipping taken off)."""
    keys = {o.key: o.budget_keys for o in offers}
    spent: dict[str, int] = {}
    for a in result.applied:
        for budget in keys[a.key]:
            spent[budget] = spent.get(budget, 0) + a.amount_fen + a.shipping_fen
    return spent
