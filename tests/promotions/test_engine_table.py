"""The promotion engine's rules as tables of worked Taobao-style examples (contract: issue 12,
/work/helpers/promotions-spec.md, rules 1-10). Each row: a cart, its offers, and what the member
pays per line, the payable, what each offer took off and why the others did not apply.
docs/promotions-examples.md tells the same examples for operators."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.promotions.engine_helpers import assert_invariants, cart, coupon, line, promo
from yunying.promotions import engine
from yunying.promotions.engine import Cart, Kind, Layer, Offer, Scope, quote

SHOP_C = Layer.SHOP_COUPON
PLATFORM_C = Layer.PLATFORM_COUPON


@dataclass(frozen=True)
class Case:
    cart: Cart
    paid: tuple[int, ...]  # per line, in line_no order
    payable: int
    offers: tuple[Offer, ...] = ()
    chosen: tuple[Offer, ...] = ()
    candidates: tuple[Offer, ...] = ()
    applied: dict[str, int] = field(default_factory=dict)  # key -> amount_fen (all of them)
    not_applied: dict[str, str] = field(default_factory=dict)  # key -> reason (all of them)
    lines: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # key -> Applied.lines
    data: dict[str, dict] = field(default_factory=dict)  # key -> NotApplied.data items (a set: one of)
    order: tuple[str, ...] | None = None  # the applied order, where the contract fixes it
    shipping_discount: int = 0
    gifts: dict[str, tuple[str, int]] = field(default_factory=dict)
    suggestion: frozenset[str] = frozenset()
    saves: int = 0
    allocations: dict[int, tuple[tuple[str, int], ...]] = field(default_factory=dict)


def case(id: str, **kwargs) -> pytest.param:
    return pytest.param(Case(**kwargs), id=id)


def check(c: Case) -> None:
    # when
    result = quote(c.cart, c.offers, c.chosen, c.candidates)
    # then
    assert tuple(q.paid_fen for q in result.lines) == c.paid
    assert result.payable_fen == c.payable
    assert {a.key: a.amount_fen for a in result.applied} == c.applied
    assert {n.key: n.reason for n in result.not_applied} == c.not_applied
    applied = {a.key: a for a in result.applied}
    for key, lines in c.lines.items():
        assert applied[key].lines == lines, key
    not_applied = {n.key: dict(n.data) for n in result.not_applied}
    for key, expected in c.data.items():
        for name, value in expected.items():
            if isinstance(value, frozenset):
                assert not_applied[key].get(name) in value, (key, name, not_applied[key])
            else:
                assert not_applied[key].get(name) == value, (key, name, not_applied[key])
    if c.order is not None:
        assert tuple(a.key for a in result.applied) == c.order
    assert result.shipping_discount_fen == c.shipping_discount
    assert {k: (a.gift_sku, a.gift_quantity) for k, a in applied.items() if a.gift_sku} == c.gifts
    assert frozenset(result.suggestion) == c.suggestion
    assert len(result.suggestion) == len(c.suggestion)
    assert result.suggestion_saves_fen == c.saves
    by_no = {q.line_no: q for q in result.lines}
    for no, allocations in c.allocations.items():
        assert by_no[no].allocations == allocations
    offer_of = {o.key: o for o in (*c.offers, *c.chosen)}
    for a in result.applied:
        o = offer_of[a.key]
        assert (a.promotion_id, a.coupon_id, a.kind, a.layer) == (
            o.promotion_id,
            o.coupon_id,
            o.kind,
            o.layer,
        )
    for n in result.not_applied:
        o = offer_of[n.key]
        assert (n.promotion_id, n.coupon_id) == (o.promotion_id, o.coupon_id)
    assert_invariants(result, c.cart)


# ---------------------------------------------------------------------------------------------------
# Rule 1: rounding — every discount floored to the fen; never below 0.

ROUNDING = [
    case(
        "member-price-95-floors-the-line-total-not-each-unit",
        # ¥19.99 × 3 at 9.5折: 5997 × 50 / 1000 = 299.85 -> 299 (per unit it would be 99 × 3 = 297)
        cart=cart(line(1, 1999, 3)),
        offers=(promo("p1", Kind.MEMBER_PRICE, permille=950),),
        paid=(5698,),
        payable=5698,
        applied={"p1": 299},
    ),
    case(
        "coupon-95-on-199.99-is-9.99-not-10",
        cart=cart(line(1, 19999)),
        chosen=(coupon("c1", Kind.COUPON_PERCENT, permille=950),),
        paid=(19000,),
        payable=19000,
        applied={"c1": 999},
    ),
    case(
        "spend-percent-95-on-333.33-is-16.66",
        cart=cart(line(1, 33333)),
        offers=(promo("p1", Kind.SPEND_PERCENT, steps=((10000, 950),)),),
        paid=(31667,),
        payable=31667,
        applied={"p1": 1666},
    ),
    case(
        "no-threshold-coupon-5-on-3-takes-3-never-below-0",
        cart=cart(line(1, 300)),
        chosen=(coupon("c1", Kind.COUPON_OFF, off_fen=500),),
        paid=(0,),
        payable=0,
        applied={"c1": 300},
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rule 2: layers in order; thresholds in fen on what the lines still owe after the layers before.

THRESHOLDS = [
    case(
        "199.50-does-not-meet-spend-200",
        cart=cart(line(1, 19950)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((20000, 2000),)),),
        paid=(19950,),
        payable=19950,
        not_applied={"p1": "threshold_not_met"},
        data={"p1": {"threshold_fen": 20000, "base_fen": 19950}},
    ),
    case(
        "200.00-meets-spend-200",
        cart=cart(line(1, 20000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((20000, 2000),)),),
        paid=(18000,),
        payable=18000,
        applied={"p1": 2000},
    ),
    case(
        "spend-200-checked-after-the-limited-time-price",
        # list ¥210, limited-time ¥199 -> 满200减20 sees ¥199
        cart=cart(line(1, 21000)),
        offers=(
            promo("p1", Kind.SPECIAL_PRICE, price_fen=19900),
            promo("p2", Kind.SPEND_OFF, steps=((20000, 2000),)),
        ),
        paid=(19900,),
        payable=19900,
        applied={"p1": 1100},
        not_applied={"p2": "threshold_not_met"},
        data={"p2": {"threshold_fen": 20000, "base_fen": 19900}},
    ),
    case(
        "platform-coupon-threshold-on-what-is-left-after-shop-coupon",
        # ¥300: 满300减30 -> ¥270; shop coupon 满250减20 -> ¥250; platform 满260减50 misses
        cart=cart(line(1, 18000), line(2, 12000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((30000, 3000),)),),
        chosen=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=25000, off_fen=2000),
            coupon("c2", Kind.COUPON_OFF, PLATFORM_C, threshold_fen=26000, off_fen=5000),
        ),
        paid=(15000, 10000),
        payable=25000,
        applied={"p1": 3000, "c1": 2000},
        not_applied={"c2": "threshold_not_met"},
        data={"c2": {"threshold_fen": 26000, "base_fen": 25000}},
        lines={"p1": ((1, 1800), (2, 1200)), "c1": ((1, 1200), (2, 800))},
        order=("p1", "c1"),
    ),
    case(
        "shop-offer-then-shop-coupon-then-platform-coupon",
        cart=cart(line(1, 18000), line(2, 12000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((30000, 3000),)),),
        chosen=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=25000, off_fen=2000),
            coupon("c2", Kind.COUPON_OFF, PLATFORM_C, threshold_fen=25000, off_fen=2500),
        ),
        paid=(13500, 9000),
        payable=22500,
        applied={"p1": 3000, "c1": 2000, "c2": 2500},
        lines={"p1": ((1, 1800), (2, 1200)), "c1": ((1, 1200), (2, 800)), "c2": ((1, 1500), (2, 1000))},
        order=("p1", "c1", "c2"),
        allocations={
            1: (("p1", 1800), ("c1", 1200), ("c2", 1500)),
            2: (("p1", 1200), ("c1", 800), ("c2", 1000)),
        },
    ),
    case(
        "layers-apply-in-layer-order-whatever-the-chosen-order",
        cart=cart(line(1, 18000), line(2, 12000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((30000, 3000),)),),
        chosen=(
            coupon("c2", Kind.COUPON_OFF, PLATFORM_C, threshold_fen=25000, off_fen=2500),
            coupon("c1", Kind.COUPON_OFF, threshold_fen=25000, off_fen=2000),
        ),
        paid=(13500, 9000),
        payable=22500,
        applied={"p1": 3000, "c1": 2000, "c2": 2500},
        order=("p1", "c1", "c2"),
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rule 3: ITEM layer — per line the lowest price wins; the losers are outbid.

ITEM = [
    case(
        "limited-time-price-beats-member-price",
        # ¥100 × 2: limited-time ¥88 saves 24.00; gold member 9折 saves 20.00
        cart=cart(line(1, 10000, 2), tier_rank=1),
        offers=(
            promo("p1", Kind.SPECIAL_PRICE, price_fen=8800),
            promo("p2", Kind.MEMBER_PRICE, permille=900, min_tier_rank=1),
        ),
        paid=(17600,),
        payable=17600,
        applied={"p1": 2400},
        not_applied={"p2": "outbid"},
        lines={"p1": ((1, 2400),)},
    ),
    case(
        "member-price-beats-limited-time-price",
        cart=cart(line(1, 10000, 2), tier_rank=1),
        offers=(
            promo("p1", Kind.SPECIAL_PRICE, price_fen=8800),
            promo("p2", Kind.MEMBER_PRICE, permille=850, min_tier_rank=1),
        ),
        paid=(17000,),
        payable=17000,
        applied={"p2": 3000},
        not_applied={"p1": "outbid"},
    ),
    case(
        "item-tie-goes-to-higher-priority",
        cart=cart(line(1, 10000, 2)),
        offers=(
            promo("p1", Kind.SPECIAL_PRICE, price_fen=9000),
            promo("p2", Kind.MEMBER_PRICE, permille=900, priority=1),
        ),
        paid=(18000,),
        payable=18000,
        applied={"p2": 2000},
        not_applied={"p1": "outbid"},
    ),
    case(
        "item-tie-same-priority-goes-to-lower-promotion-id",
        cart=cart(line(1, 10000, 2)),
        offers=(
            promo("p5", Kind.SPECIAL_PRICE, price_fen=9000),
            promo("p3", Kind.MEMBER_PRICE, permille=900),
        ),
        paid=(18000,),
        payable=18000,
        applied={"p3": 2000},
        not_applied={"p5": "outbid"},
    ),
    case(
        "lowest-price-wins-line-by-line",
        # store-wide ¥90 on both; a deeper ¥80 on SKU B only: each line keeps its own winner
        cart=cart(line(1, 10000, sku="A"), line(2, 10000, sku="B")),
        offers=(
            promo("p1", Kind.SPECIAL_PRICE, price_fen=9000),
            promo("p2", Kind.SPECIAL_PRICE, price_fen=8000, scope=Scope(skus=frozenset({"B"}))),
        ),
        paid=(9000, 8000),
        payable=17000,
        applied={"p1": 1000, "p2": 2000},
        lines={"p1": ((1, 1000),), "p2": ((2, 2000),)},
    ),
    case(
        "member-price-on-two-lines-lists-both",
        cart=cart(line(1, 9999, 2), line(2, 4550, 1)),
        offers=(promo("p1", Kind.MEMBER_PRICE, permille=880),),
        # 19998 × 12% = 2399.76 -> 2399; 4550 × 12% = 546
        paid=(17599, 4004),
        payable=21603,
        applied={"p1": 2945},
        lines={"p1": ((1, 2399), (2, 546))},
    ),
    case(
        "special-price-above-the-list-price-takes-nothing-off",
        cart=cart(line(1, 10000)),
        offers=(promo("p1", Kind.SPECIAL_PRICE, price_fen=12000),),
        paid=(10000,),
        payable=10000,
        not_applied={"p1": "nothing_off"},
    ),
    case(
        "member-price-for-a-higher-tier-is-tier-too-low-not-outbid",
        cart=cart(line(1, 10000), tier_rank=1),
        offers=(
            promo("p1", Kind.MEMBER_PRICE, permille=850, min_tier_rank=2),
            promo("p2", Kind.SPECIAL_PRICE, price_fen=9500),
        ),
        paid=(9500,),
        payable=9500,
        applied={"p2": 500},
        not_applied={"p1": "tier_too_low"},
    ),
    case(
        "member-price-at-exactly-its-tier-applies",
        cart=cart(line(1, 10000), tier_rank=2),
        offers=(
            promo("p1", Kind.MEMBER_PRICE, permille=850, min_tier_rank=2),
            promo("p2", Kind.SPECIAL_PRICE, price_fen=9500),
        ),
        paid=(8500,),
        payable=8500,
        applied={"p1": 1500},
        not_applied={"p2": "outbid"},
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rule 4: SHOP layer — 满减 ladders and 每满, 满折, N件M折, gifts; a line joins one shop offer.

LADDER = ((20000, 2000), (30000, 3500), (50000, 6000))
EVERY_200_OFF_20 = {"steps": ((20000, 2000),), "repeat": True}

SHOP = [
    case(
        "spend-off-ladder-once-takes-the-highest-step-met",
        # 满200减20 / 满300减35 / 满500减60 on ¥450 -> 35
        cart=cart(line(1, 45000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=LADDER),),
        paid=(41500,),
        payable=41500,
        applied={"p1": 3500},
    ),
    case(
        "spend-off-ladder-below-the-lowest-step",
        cart=cart(line(1, 15000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=LADDER),),
        paid=(15000,),
        payable=15000,
        not_applied={"p1": "threshold_not_met"},
        data={"p1": {"threshold_fen": 20000, "base_fen": 15000}},
    ),
    case(
        "every-200-off-20-repeats",
        cart=cart(line(1, 45000)),
        offers=(promo("p1", Kind.SPEND_OFF, cap_fen=6000, **EVERY_200_OFF_20),),
        paid=(41000,),
        payable=41000,
        applied={"p1": 4000},
    ),
    case(
        "every-200-off-20-capped-at-60",
        cart=cart(line(1, 99900)),
        offers=(promo("p1", Kind.SPEND_OFF, cap_fen=6000, **EVERY_200_OFF_20),),
        paid=(93900,),
        payable=93900,
        applied={"p1": 6000},
    ),
    case(
        "every-200-off-20-without-cap",
        cart=cart(line(1, 99900)),
        offers=(promo("p1", Kind.SPEND_OFF, **EVERY_200_OFF_20),),
        paid=(91900,),
        payable=91900,
        applied={"p1": 8000},
    ),
    case(
        "spend-off-capped-at-the-base",
        cart=cart(line(1, 5000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((5000, 8000),)),),
        paid=(0,),
        payable=0,
        applied={"p1": 5000},
    ),
    case(
        "spend-percent-takes-the-highest-step-met",
        # 满200打9折 / 满500打8折 on ¥600 -> 8折
        cart=cart(line(1, 60000)),
        offers=(promo("p1", Kind.SPEND_PERCENT, steps=((20000, 900), (50000, 800))),),
        paid=(48000,),
        payable=48000,
        applied={"p1": 12000},
    ),
    case(
        "spend-off-takes-the-highest-step-met-even-when-it-is-shallower",
        # a mistyped ladder 满200减30 / 满300减20: the contract takes the highest step met, 满300减20
        cart=cart(line(1, 30000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((20000, 3000), (30000, 2000))),),
        paid=(28000,),
        payable=28000,
        applied={"p1": 2000},
    ),
    case(
        "spend-percent-takes-the-highest-step-met-even-when-it-is-shallower",
        # 满200打8折 / 满500打9折 on ¥600: the highest step met is 满500, 9折
        cart=cart(line(1, 60000)),
        offers=(promo("p1", Kind.SPEND_PERCENT, steps=((20000, 800), (50000, 900))),),
        paid=(54000,),
        payable=54000,
        applied={"p1": 6000},
    ),
    case(
        "items-percent-takes-the-highest-step-met-even-when-it-is-shallower",
        # 2件8折 / 3件9折 with 3 items: the highest step met is 3件, 9折
        cart=cart(line(1, 10000, 3)),
        offers=(promo("p1", Kind.ITEMS_PERCENT, steps=((2, 800), (3, 900))),),
        paid=(27000,),
        payable=27000,
        applied={"p1": 3000},
    ),
    case(
        "spend-percent-199.50-misses-200",
        cart=cart(line(1, 19950)),
        offers=(promo("p1", Kind.SPEND_PERCENT, steps=((20000, 900), (50000, 800))),),
        paid=(19950,),
        payable=19950,
        not_applied={"p1": "threshold_not_met"},
        data={"p1": {"threshold_fen": 20000, "base_fen": 19950}},
    ),
    case(
        "three-socks-at-8-zhe-counts-quantities-in-scope",
        # 袜子 2件9折 / 3件8折: 2 × ¥39.99 + 1 × ¥59.99 = 3 items, ¥139.97 -> 27.994 -> 27.99
        cart=cart(
            line(1, 3999, 2, category="袜子"),
            line(2, 5999, 1, category="袜子"),
            line(3, 8000, category="外套"),
        ),
        offers=(
            promo(
                "p1",
                Kind.ITEMS_PERCENT,
                steps=((2, 900), (3, 800)),
                scope=Scope(categories=frozenset({"袜子"})),
            ),
        ),
        paid=(6398, 4800, 8000),
        payable=19198,
        applied={"p1": 2799},
        lines={"p1": ((1, 1600), (2, 1199))},
    ),
    case(
        "one-sock-misses-2-items",
        cart=cart(line(1, 3999, 1, category="袜子"), line(2, 8000, 3, category="外套")),
        offers=(
            promo(
                "p1",
                Kind.ITEMS_PERCENT,
                steps=((2, 900), (3, 800)),
                scope=Scope(categories=frozenset({"袜子"})),
            ),
        ),
        paid=(3999, 24000),
        payable=27999,
        not_applied={"p1": "threshold_not_met"},
        data={"p1": {"min_items": 2, "items": 1}},
    ),
    case(
        "gift-with-purchase-over-199",
        cart=cart(line(1, 19950)),
        offers=(promo("p1", Kind.GIFT, steps=((19900, 0),), gift_sku="G-TOTE", gift_quantity=1),),
        paid=(19950,),
        payable=19950,
        applied={"p1": 0},
        gifts={"p1": ("G-TOTE", 1)},
        lines={"p1": ()},
    ),
    case(
        "gift-and-spend-off-on-the-same-lines-both-apply",
        # the gift's base is what is owed after the ITEM layer (¥300), not after the 满减
        cart=cart(line(1, 30000)),
        offers=(
            promo("p1", Kind.SPEND_OFF, steps=((30000, 3000),)),
            promo("p2", Kind.GIFT, steps=((30000, 0),), gift_sku="G-CUP", gift_quantity=2),
        ),
        paid=(27000,),
        payable=27000,
        applied={"p1": 3000, "p2": 0},
        gifts={"p2": ("G-CUP", 2)},
    ),
    case(
        "gift-threshold-missed",
        cart=cart(line(1, 29900)),
        offers=(promo("p2", Kind.GIFT, steps=((30000, 0),), gift_sku="G-CUP", gift_quantity=2),),
        paid=(29900,),
        payable=29900,
        not_applied={"p2": "threshold_not_met"},
        data={"p2": {"threshold_fen": 30000, "base_fen": 29900}},
    ),
    case(
        "bigger-shop-offer-takes-its-line-first-the-rest-misses-300",
        # store 满300减30 (30.00 on ¥300) vs shoes 满100打8折 (40.00 on ¥200): shoes first take line 2,
        # the store offer sees only line 1 (¥100)
        cart=cart(line(1, 10000, sku="A", category="女装"), line(2, 20000, sku="B", category="鞋")),
        offers=(
            promo("p1", Kind.SPEND_OFF, steps=((30000, 3000),)),
            promo("p2", Kind.SPEND_PERCENT, steps=((10000, 800),), scope=Scope(categories=frozenset({"鞋"}))),
        ),
        paid=(10000, 16000),
        payable=26000,
        applied={"p2": 4000},
        not_applied={"p1": "threshold_not_met"},
        data={"p1": {"threshold_fen": 30000, "base_fen": 10000}},
        lines={"p2": ((2, 4000),)},
    ),
    case(
        "smaller-shop-offer-whose-lines-were-taken-is-outbid",
        cart=cart(line(1, 10000, sku="A", category="女装"), line(2, 20000, sku="B", category="鞋")),
        offers=(
            promo("p1", Kind.SPEND_OFF, steps=((30000, 3000),)),
            promo("p2", Kind.SPEND_PERCENT, steps=((10000, 900),), scope=Scope(categories=frozenset({"鞋"}))),
        ),
        paid=(9000, 18000),
        payable=27000,
        applied={"p1": 3000},
        not_applied={"p2": "outbid"},
        lines={"p1": ((1, 1000), (2, 2000))},
    ),
    case(
        "shop-tie-goes-to-higher-priority",
        cart=cart(line(1, 10000, sku="A", category="女装"), line(2, 20000, sku="B", category="鞋")),
        offers=(
            promo("p1", Kind.SPEND_OFF, steps=((30000, 3000),)),
            promo(
                "p2",
                Kind.SPEND_PERCENT,
                steps=((10000, 850),),
                scope=Scope(categories=frozenset({"鞋"})),
                priority=1,
            ),
        ),
        paid=(10000, 17000),
        payable=27000,
        applied={"p2": 3000},
        not_applied={"p1": "threshold_not_met"},
    ),
    case(
        "shop-tie-same-priority-goes-to-lower-promotion-id",
        cart=cart(line(1, 10000, sku="A", category="女装"), line(2, 20000, sku="B", category="鞋")),
        offers=(
            promo("p2", Kind.SPEND_PERCENT, steps=((10000, 850),), scope=Scope(categories=frozenset({"鞋"}))),
            promo("p1", Kind.SPEND_OFF, steps=((30000, 3000),)),
        ),
        paid=(9000, 18000),
        payable=27000,
        applied={"p1": 3000},
        not_applied={"p2": "outbid"},
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rule 5: coupons — one per coupon layer (plus one free-shipping coupon), taken in the order chosen.

COUPONS = [
    case(
        "second-shop-coupon-is-one-per-layer-even-if-better",
        cart=cart(line(1, 30000)),
        chosen=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=20000, off_fen=2000),
            coupon("c2", Kind.COUPON_OFF, threshold_fen=30000, off_fen=4000),
        ),
        paid=(28000,),
        payable=28000,
        applied={"c1": 2000},
        not_applied={"c2": "one_per_layer"},
    ),
    case(
        "second-platform-coupon-is-one-per-layer",
        cart=cart(line(1, 30000)),
        chosen=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=20000, off_fen=2000),
            coupon("c2", Kind.COUPON_OFF, PLATFORM_C, threshold_fen=10000, off_fen=1000),
            coupon("c3", Kind.COUPON_PERCENT, PLATFORM_C, permille=900),
        ),
        paid=(27000,),
        payable=27000,
        applied={"c1": 2000, "c2": 1000},
        not_applied={"c3": "one_per_layer"},
    ),
    case(
        "coupon-9-zhe-capped-at-30",
        cart=cart(line(1, 50000)),
        chosen=(coupon("c1", Kind.COUPON_PERCENT, permille=900, cap_fen=3000),),
        paid=(47000,),
        payable=47000,
        applied={"c1": 3000},
    ),
    case(
        "coupon-199.50-misses-200",
        cart=cart(line(1, 19950)),
        chosen=(coupon("c1", Kind.COUPON_OFF, threshold_fen=20000, off_fen=2000),),
        paid=(19950,),
        payable=19950,
        not_applied={"c1": "threshold_not_met"},
        data={"c1": {"threshold_fen": 20000, "base_fen": 19950}},
    ),
    case(
        "free-shipping-coupon-over-99",
        cart=cart(line(1, 9900), shipping_fen=1000),
        chosen=(coupon("c1", Kind.COUPON_SHIPPING, PLATFORM_C, threshold_fen=9900),),
        paid=(9900,),
        payable=9900,
        applied={"c1": 0},
        lines={"c1": ()},
        shipping_discount=1000,
    ),
    case(
        "free-shipping-coupon-capped-at-10",
        cart=cart(line(1, 9900), shipping_fen=1500),
        chosen=(coupon("c1", Kind.COUPON_SHIPPING, PLATFORM_C, threshold_fen=9900, cap_fen=1000),),
        paid=(9900,),
        payable=10400,
        applied={"c1": 0},
        shipping_discount=1000,
    ),
    case(
        "free-shipping-coupon-threshold-missed",
        cart=cart(line(1, 9890), shipping_fen=1000),
        chosen=(coupon("c1", Kind.COUPON_SHIPPING, PLATFORM_C, threshold_fen=9900),),
        paid=(9890,),
        payable=10890,
        not_applied={"c1": "threshold_not_met"},
        data={"c1": {"threshold_fen": 9900, "base_fen": 9890}},
    ),
    case(
        "free-shipping-coupon-comes-besides-the-layers-coupon",
        cart=cart(line(1, 20000), shipping_fen=800),
        chosen=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=20000, off_fen=2000),
            coupon("c2", Kind.COUPON_SHIPPING),
        ),
        paid=(18000,),
        payable=18000,
        applied={"c1": 2000, "c2": 0},
        shipping_discount=800,
    ),
    case(
        "shop-layer-free-shipping-threshold-sees-the-price-before-the-shop-coupon",
        # both coupons are in the shop-coupon layer: the shipping coupon's base is ¥200, not ¥180
        cart=cart(line(1, 20000), shipping_fen=800),
        chosen=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=20000, off_fen=2000),
            coupon("c2", Kind.COUPON_SHIPPING, threshold_fen=19000),
        ),
        paid=(18000,),
        payable=18000,
        applied={"c1": 2000, "c2": 0},
        shipping_discount=800,
    ),
    case(
        "platform-free-shipping-threshold-sees-the-price-after-the-shop-coupon",
        cart=cart(line(1, 20000), shipping_fen=800),
        chosen=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=20000, off_fen=2000),
            coupon("c2", Kind.COUPON_SHIPPING, PLATFORM_C, threshold_fen=19000),
        ),
        paid=(18000,),
        payable=18800,
        applied={"c1": 2000},
        not_applied={"c2": "threshold_not_met"},
        data={"c2": {"threshold_fen": 19000, "base_fen": 18000}},
    ),
    case(
        "second-free-shipping-coupon-is-one-per-layer",
        cart=cart(line(1, 20000), shipping_fen=800),
        chosen=(
            coupon("c1", Kind.COUPON_SHIPPING, PLATFORM_C, cap_fen=500),
            coupon("c2", Kind.COUPON_SHIPPING, PLATFORM_C),
        ),
        paid=(20000,),
        payable=20300,
        applied={"c1": 0},
        not_applied={"c2": "one_per_layer"},
        shipping_discount=500,
    ),
    case(
        "one-free-shipping-coupon-per-order-even-across-layers",
        # a shop 运费券 (¥3 off shipping) and a platform 运费券: one shipping coupon besides the layers' coupons
        cart=cart(line(1, 10000), shipping_fen=600),
        chosen=(
            coupon("c1", Kind.COUPON_SHIPPING, SHOP_C, cap_fen=300),
            coupon("c2", Kind.COUPON_SHIPPING, PLATFORM_C),
        ),
        paid=(10000,),
        payable=10300,
        applied={"c1": 0},
        not_applied={"c2": "one_per_layer"},
        shipping_discount=300,
    ),
    case(
        "gift-coupon-over-100",
        cart=cart(line(1, 10000)),
        chosen=(coupon("c1", Kind.COUPON_GIFT, threshold_fen=10000, gift_sku="G-SAMPLE", gift_quantity=2),),
        paid=(10000,),
        payable=10000,
        applied={"c1": 0},
        gifts={"c1": ("G-SAMPLE", 2)},
    ),
    case(
        "gift-coupon-threshold-missed",
        cart=cart(line(1, 9999)),
        chosen=(coupon("c1", Kind.COUPON_GIFT, threshold_fen=10000, gift_sku="G-SAMPLE", gift_quantity=2),),
        paid=(9999,),
        payable=9999,
        not_applied={"c1": "threshold_not_met"},
        data={"c1": {"threshold_fen": 10000, "base_fen": 9999}},
    ),
    case(
        "coupon-on-a-line-already-free-takes-nothing-off",
        cart=cart(line(1, 10000)),
        offers=(promo("p1", Kind.SPECIAL_PRICE, price_fen=0),),
        chosen=(coupon("c1", Kind.COUPON_OFF, off_fen=500),),
        paid=(0,),
        payable=0,
        applied={"p1": 10000},
        not_applied={"c1": "nothing_off"},
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rule 6: the split — pro rata, floored, remainder to the line owing most, spill when it is full.

SPLIT = [
    case(
        "pro-rata-floored-remainder-to-the-largest-line",
        # 满50减10 on ¥30 + ¥20 + ¥10: 5.00, 3.33(3), 1.66(7) -> 500, 333, 166 = 999; +1 to line 1
        cart=cart(line(1, 3000), line(2, 2000), line(3, 1000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((5000, 1000),)),),
        paid=(2499, 1667, 834),
        payable=5000,
        applied={"p1": 1000},
        lines={"p1": ((1, 501), (2, 333), (3, 166))},
        allocations={1: (("p1", 501),), 2: (("p1", 333),), 3: (("p1", 166),)},
    ),
    case(
        "remainder-tie-goes-to-the-lower-line-no",
        cart=cart(line(1, 2000), line(2, 2000), line(3, 2000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((5000, 1000),)),),
        paid=(1666, 1667, 1667),
        payable=5000,
        applied={"p1": 1000},
        lines={"p1": ((1, 334), (2, 333), (3, 333))},
    ),
    case(
        "remainder-spills-when-the-largest-line-is-full",
        # 无门槛 9.99 on ¥5 + ¥3 + ¥2: 4.99, 2.99, 1.99 = 9.97; 1 to line 1 (full at 5.00), 1 to line 2
        cart=cart(line(1, 500), line(2, 300), line(3, 200)),
        chosen=(coupon("c1", Kind.COUPON_OFF, off_fen=999),),
        paid=(0, 0, 1),
        payable=1,
        applied={"c1": 999},
        lines={"c1": ((1, 500), (2, 300), (3, 199))},
    ),
    case(
        "split-only-over-the-covered-lines",
        cart=cart(
            line(1, 6000, category="美妆"), line(2, 4000, category="美妆"), line(3, 5000, category="服装")
        ),
        chosen=(
            coupon(
                "c1",
                Kind.COUPON_OFF,
                threshold_fen=10000,
                off_fen=1500,
                scope=Scope(categories=frozenset({"美妆"})),
            ),
        ),
        paid=(5100, 3400, 5000),
        payable=13500,
        applied={"c1": 1500},
        lines={"c1": ((1, 900), (2, 600))},
    ),
    case(
        "split-in-proportion-to-what-lines-owe-after-the-item-layer",
        cart=cart(line(1, 10000, sku="A"), line(2, 3000, sku="B")),
        offers=(
            promo("p1", Kind.SPECIAL_PRICE, price_fen=7000, scope=Scope(skus=frozenset({"A"}))),
            promo("p2", Kind.SPEND_OFF, steps=((10000, 1000),)),
        ),
        paid=(6300, 2700),
        payable=9000,
        applied={"p1": 3000, "p2": 1000},
        lines={"p1": ((1, 3000),), "p2": ((1, 700), (2, 300))},
        order=("p1", "p2"),
        allocations={1: (("p1", 3000), ("p2", 700)), 2: (("p2", 300),)},
    ),
    case(
        "a-free-line-takes-no-share",
        cart=cart(line(1, 6000), line(2, 0, sku="GIFT-BAG"), line(3, 4000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((10000, 1000),)),),
        paid=(5400, 0, 3600),
        payable=9000,
        applied={"p1": 1000},
        lines={"p1": ((1, 600), (3, 400))},
        allocations={2: ()},
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rule 7: limits and budgets — a hard stop, budgets shared by the offers of one quote.

SPEND_300_OFF_30 = {"steps": ((30000, 3000),)}

BUDGETS = [
    case(
        "no-uses-left-is-limit-reached",
        cart=cart(line(1, 30000)),
        offers=(promo("p1", Kind.SPEND_OFF, uses_left=0, **SPEND_300_OFF_30),),
        paid=(30000,),
        payable=30000,
        not_applied={"p1": "limit_reached"},
    ),
    case(
        "the-last-use-applies",
        cart=cart(line(1, 30000)),
        offers=(promo("p1", Kind.SPEND_OFF, uses_left=1, **SPEND_300_OFF_30),),
        paid=(27000,),
        payable=27000,
        applied={"p1": 3000},
    ),
    case(
        "budget-one-fen-short-applies-nothing",
        cart=cart(line(1, 30000), budgets_left={"B-618": 2999}),
        offers=(promo("p1", Kind.SPEND_OFF, budget_keys=("B-618",), **SPEND_300_OFF_30),),
        paid=(30000,),
        payable=30000,
        not_applied={"p1": "budget_exhausted"},
        data={"p1": {"left_fen": 2999, "needed_fen": 3000}},
    ),
    case(
        "budget-exactly-enough-applies",
        cart=cart(line(1, 30000), budgets_left={"B-618": 3000}),
        offers=(promo("p1", Kind.SPEND_OFF, budget_keys=("B-618",), **SPEND_300_OFF_30),),
        paid=(27000,),
        payable=27000,
        applied={"p1": 3000},
    ),
    case(
        "budget-spent-by-the-shop-coupon-stops-the-platform-coupon",
        cart=cart(line(1, 30000), budgets_left={"B-1111": 3000}),
        chosen=(
            coupon("c1", Kind.COUPON_OFF, off_fen=2000, budget_keys=("B-1111",)),
            coupon("c2", Kind.COUPON_OFF, PLATFORM_C, off_fen=1500, budget_keys=("B-1111",)),
        ),
        paid=(28000,),
        payable=28000,
        applied={"c1": 2000},
        not_applied={"c2": "budget_exhausted"},
        data={"c2": {"left_fen": 1000, "needed_fen": 1500}},
    ),
    case(
        "budget-spent-by-a-promotion-stops-a-coupon",
        cart=cart(line(1, 30000), budgets_left={"B-1111": 4000}),
        offers=(promo("p1", Kind.SPEND_OFF, budget_keys=("B-1111",), **SPEND_300_OFF_30),),
        chosen=(coupon("c1", Kind.COUPON_OFF, off_fen=1500, budget_keys=("B-1111",)),),
        paid=(27000,),
        payable=27000,
        applied={"p1": 3000},
        not_applied={"c1": "budget_exhausted"},
        data={"c1": {"left_fen": 1000, "needed_fen": 1500}},
    ),
    case(
        "budget-short-stops-a-limited-time-price-too",
        cart=cart(line(1, 10000, 3), budgets_left={"B-flash": 5000}),
        offers=(promo("p1", Kind.SPECIAL_PRICE, price_fen=8000, budget_keys=("B-flash",)),),
        paid=(30000,),
        payable=30000,
        not_applied={"p1": "budget_exhausted"},
        data={"p1": {"left_fen": 5000, "needed_fen": 6000}},
    ),
    case(
        "budget-shared-by-two-shop-offers-the-bigger-spends-first",
        # women's 满300减30 (¥30) and shoes 满200减25 (¥25) share ¥50: the ¥30 goes first, ¥20 is left
        cart=cart(
            line(1, 30000, category="女装"), line(2, 20000, category="鞋"), budgets_left={"B-brand": 5000}
        ),
        offers=(
            promo(
                "p2",
                Kind.SPEND_OFF,
                steps=((20000, 2500),),
                scope=Scope(categories=frozenset({"鞋"})),
                budget_keys=("B-brand",),
            ),
            promo(
                "p1",
                Kind.SPEND_OFF,
                steps=((30000, 3000),),
                scope=Scope(categories=frozenset({"女装"})),
                budget_keys=("B-brand",),
            ),
        ),
        paid=(27000, 20000),
        payable=47000,
        applied={"p1": 3000},
        not_applied={"p2": "budget_exhausted"},
        data={"p2": {"left_fen": 2000, "needed_fen": 2500}},
    ),
    case(
        "coupon-with-no-uses-left-is-limit-reached",
        cart=cart(line(1, 30000)),
        chosen=(coupon("c1", Kind.COUPON_OFF, off_fen=500, uses_left=0),),
        paid=(30000,),
        payable=30000,
        not_applied={"c1": "limit_reached"},
    ),
    case(
        "a-budget-key-without-an-entry-has-no-cap",
        cart=cart(line(1, 30000), budgets_left={"B-other": 0}),
        offers=(promo("p1", Kind.SPEND_OFF, budget_keys=("B-618",), **SPEND_300_OFF_30),),
        paid=(27000,),
        payable=27000,
        applied={"p1": 3000},
    ),
    case(
        "any-one-short-budget-key-stops-it",
        cart=cart(line(1, 30000), budgets_left={"B-shop": 100000, "B-brand": 100}),
        offers=(promo("p1", Kind.SPEND_OFF, budget_keys=("B-shop", "B-brand"), **SPEND_300_OFF_30),),
        paid=(30000,),
        payable=30000,
        not_applied={"p1": "budget_exhausted"},
        data={"p1": {"left_fen": 100, "needed_fen": 3000}},
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rule 8: exclusive offers (不与其他优惠同享) against the combination; not_with layers.

HUNDRED = cart(line(1, 10000))
SPEND_100_OFF_10 = promo("p1", Kind.SPEND_OFF, steps=((10000, 1000),))
NO_THRESHOLD_5 = coupon("c1", Kind.COUPON_OFF, off_fen=500)

EXCLUSIVITY = [
    case(
        "exclusive-80-beats-the-combination-85",
        cart=HUNDRED,
        offers=(SPEND_100_OFF_10, promo("p9", Kind.SPECIAL_PRICE, price_fen=8000, exclusive=True)),
        chosen=(NO_THRESHOLD_5,),
        paid=(8000,),
        payable=8000,
        applied={"p9": 2000},
        not_applied={"p1": "excluded", "c1": "excluded"},
        data={"p1": {"by": "p9"}, "c1": {"by": "p9"}},
    ),
    case(
        "combination-85-beats-the-exclusive-90",
        cart=HUNDRED,
        offers=(SPEND_100_OFF_10, promo("p9", Kind.SPECIAL_PRICE, price_fen=9000, exclusive=True)),
        chosen=(NO_THRESHOLD_5,),
        paid=(8500,),
        payable=8500,
        applied={"p1": 1000, "c1": 500},
        not_applied={"p9": "excluded"},
        data={"p9": {"by": frozenset({"p1", "c1"})}},
    ),
    case(
        "tie-the-plan-with-fewer-coupons-wins",
        # exclusive ¥85 (no coupon) against 满100减10 + a ¥5 coupon (one coupon): both ¥85
        cart=HUNDRED,
        offers=(SPEND_100_OFF_10, promo("p9", Kind.SPECIAL_PRICE, price_fen=8500, exclusive=True)),
        chosen=(NO_THRESHOLD_5,),
        paid=(8500,),
        payable=8500,
        applied={"p9": 1500},
        not_applied={"p1": "excluded", "c1": "excluded"},
        data={"p1": {"by": "p9"}, "c1": {"by": "p9"}},
    ),
    case(
        "tie-then-the-plan-without-exclusive-offers-wins",
        cart=HUNDRED,
        offers=(
            promo("p1", Kind.SPEND_OFF, steps=((10000, 1500),)),
            promo("p9", Kind.SPECIAL_PRICE, price_fen=8500, exclusive=True),
        ),
        paid=(8500,),
        payable=8500,
        applied={"p1": 1500},
        not_applied={"p9": "excluded"},
        data={"p9": {"by": "p1"}},
    ),
    case(
        "tie-between-exclusives-then-the-lowest-key",
        cart=HUNDRED,
        offers=(
            promo("p9", Kind.MEMBER_PRICE, permille=800, exclusive=True),
            promo("p8", Kind.SPECIAL_PRICE, price_fen=8000, exclusive=True),
        ),
        paid=(8000,),
        payable=8000,
        applied={"p8": 2000},
        not_applied={"p9": "excluded"},
        data={"p9": {"by": "p8"}},
    ),
    case(
        "exclusive-coupon-beats-the-promotion",
        cart=HUNDRED,
        offers=(SPEND_100_OFF_10,),
        chosen=(coupon("c1", Kind.COUPON_OFF, off_fen=3000, exclusive=True),),
        paid=(7000,),
        payable=7000,
        applied={"c1": 3000},
        not_applied={"p1": "excluded"},
        data={"p1": {"by": "c1"}},
    ),
    case(
        "exclusive-offer-for-a-higher-tier-takes-no-part",
        cart=cart(line(1, 10000), tier_rank=1),
        offers=(
            SPEND_100_OFF_10,
            promo("p9", Kind.SPECIAL_PRICE, price_fen=5000, exclusive=True, min_tier_rank=3),
        ),
        paid=(9000,),
        payable=9000,
        applied={"p1": 1000},
        not_applied={"p9": "tier_too_low"},
    ),
    case(
        "exclusive-offer-for-another-channel-takes-no-part",
        cart=cart(line(1, 10000), channel="h5"),
        offers=(
            SPEND_100_OFF_10,
            promo("p9", Kind.SPECIAL_PRICE, price_fen=5000, exclusive=True, channels=frozenset({"app"})),
        ),
        paid=(9000,),
        payable=9000,
        applied={"p1": 1000},
        not_applied={"p9": "channel"},
    ),
    case(
        "each-plan-sees-the-whole-budget",
        # budget ¥30 for both; the exclusive plan's ¥25 is not spent when the other plan wins
        cart=cart(line(1, 10000), budgets_left={"B-shop": 3000}),
        offers=(
            promo("p1", Kind.SPEND_OFF, steps=((10000, 3000),), budget_keys=("B-shop",)),
            promo("p9", Kind.SPECIAL_PRICE, price_fen=7500, exclusive=True, budget_keys=("B-shop",)),
        ),
        paid=(7000,),
        payable=7000,
        applied={"p1": 3000},
        not_applied={"p9": "excluded"},
        data={"p9": {"by": "p1"}},
    ),
    case(
        "shop-offer-not-with-shop-coupons-excludes-the-coupon",
        cart=HUNDRED,
        offers=(promo("p1", Kind.SPEND_OFF, steps=((10000, 1000),), not_with=frozenset({SHOP_C})),),
        chosen=(NO_THRESHOLD_5,),
        paid=(9000,),
        payable=9000,
        applied={"p1": 1000},
        not_applied={"c1": "excluded"},
        data={"c1": {"by": "p1"}},
    ),
    case(
        "coupon-not-with-shop-offers-is-excluded-by-the-earlier-shop-offer",
        # symmetric: the same as above when the coupon is the one that says not_with
        cart=HUNDRED,
        offers=(SPEND_100_OFF_10,),
        chosen=(coupon("c1", Kind.COUPON_OFF, off_fen=500, not_with=frozenset({Layer.SHOP})),),
        paid=(9000,),
        payable=9000,
        applied={"p1": 1000},
        not_applied={"c1": "excluded"},
        data={"c1": {"by": "p1"}},
    ),
    case(
        "not-with-is-greedy-in-layer-order",
        # the limited-time price (¥1 off) comes first and shuts out the ¥20 满减
        cart=HUNDRED,
        offers=(
            promo("p1", Kind.SPECIAL_PRICE, price_fen=9900, not_with=frozenset({Layer.SHOP})),
            promo("p2", Kind.SPEND_OFF, steps=((5000, 2000),)),
        ),
        paid=(9900,),
        payable=9900,
        applied={"p1": 100},
        not_applied={"p2": "excluded"},
        data={"p2": {"by": "p1"}},
    ),
    case(
        "an-outbid-offer-excludes-nothing",
        cart=HUNDRED,
        offers=(
            promo("p1", Kind.SPECIAL_PRICE, price_fen=9900, not_with=frozenset({Layer.SHOP})),
            promo("p3", Kind.SPECIAL_PRICE, price_fen=9000),
            promo("p2", Kind.SPEND_OFF, steps=((5000, 2000),)),
        ),
        paid=(7000,),
        payable=7000,
        applied={"p3": 1000, "p2": 2000},
        not_applied={"p1": "outbid"},
        order=("p3", "p2"),
    ),
    case(
        "platform-coupon-not-with-shop-coupons",
        cart=HUNDRED,
        chosen=(
            NO_THRESHOLD_5,
            coupon("c2", Kind.COUPON_OFF, PLATFORM_C, off_fen=800, not_with=frozenset({SHOP_C})),
        ),
        paid=(9500,),
        payable=9500,
        applied={"c1": 500},
        not_applied={"c2": "excluded"},
        data={"c2": {"by": "c1"}},
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rules 9 and 3: tier and channel, scope.

ELIGIBILITY = [
    case(
        "app-only-offer-in-the-h5-shop-is-channel",
        cart=cart(line(1, 30000), channel="h5"),
        offers=(promo("p1", Kind.SPEND_OFF, channels=frozenset({"app"}), **SPEND_300_OFF_30),),
        paid=(30000,),
        payable=30000,
        not_applied={"p1": "channel"},
    ),
    case(
        "app-only-offer-with-no-channel-known-is-channel",
        cart=cart(line(1, 30000)),
        offers=(promo("p1", Kind.SPEND_OFF, channels=frozenset({"app"}), **SPEND_300_OFF_30),),
        paid=(30000,),
        payable=30000,
        not_applied={"p1": "channel"},
    ),
    case(
        "app-only-offer-in-the-app-applies",
        cart=cart(line(1, 30000), channel="app"),
        offers=(promo("p1", Kind.SPEND_OFF, channels=frozenset({"app", "mini"}), **SPEND_300_OFF_30),),
        paid=(27000,),
        payable=27000,
        applied={"p1": 3000},
    ),
    case(
        "app-only-coupon-in-the-h5-shop-is-channel",
        cart=cart(line(1, 30000), channel="h5"),
        chosen=(coupon("c1", Kind.COUPON_OFF, off_fen=500, channels=frozenset({"app"})),),
        paid=(30000,),
        payable=30000,
        not_applied={"c1": "channel"},
    ),
    case(
        "gold-only-spend-off-for-silver-is-tier-too-low",
        cart=cart(line(1, 30000), tier_rank=2),
        offers=(promo("p1", Kind.SPEND_OFF, min_tier_rank=3, **SPEND_300_OFF_30),),
        paid=(30000,),
        payable=30000,
        not_applied={"p1": "tier_too_low"},
    ),
    case(
        "excluded-sku-does-not-count-toward-the-threshold",
        # 美妆满200减20, gift sets excluded: ¥150 lipstick + ¥100 gift set -> only ¥150 counts
        cart=cart(
            line(1, 15000, sku="LIP-01", category="美妆"),
            line(2, 10000, sku="SET-99", category="美妆"),
            line(3, 10000, sku="TEE-01", category="服装"),
        ),
        offers=(
            promo(
                "p1",
                Kind.SPEND_OFF,
                steps=((20000, 2000),),
                scope=Scope(categories=frozenset({"美妆"}), exclude_skus=frozenset({"SET-99"})),
            ),
        ),
        paid=(15000, 10000, 10000),
        payable=35000,
        not_applied={"p1": "threshold_not_met"},
        data={"p1": {"threshold_fen": 20000, "base_fen": 15000}},
    ),
    case(
        "store-wide-except-beauty",
        cart=cart(
            line(1, 15000, sku="LIP-01", category="美妆"),
            line(2, 10000, sku="SET-99", category="美妆"),
            line(3, 10000, sku="TEE-01", category="服装"),
        ),
        offers=(
            promo(
                "p1",
                Kind.SPEND_OFF,
                steps=((10000, 1000),),
                scope=Scope(exclude_categories=frozenset({"美妆"})),
            ),
        ),
        paid=(15000, 10000, 9000),
        payable=34000,
        applied={"p1": 1000},
        lines={"p1": ((3, 1000),)},
    ),
    case(
        "offer-for-another-sku-is-not-in-scope",
        cart=cart(line(1, 30000, sku="TEE-01")),
        offers=(promo("p1", Kind.SPEND_OFF, scope=Scope(skus=frozenset({"NOPE"})), **SPEND_300_OFF_30),),
        paid=(30000,),
        payable=30000,
        not_applied={"p1": "not_in_scope"},
    ),
]

# ---------------------------------------------------------------------------------------------------
# Rule 10: the suggestion, when the member chose no coupon.

SUGGESTION = [
    case(
        "suggests-the-shop-coupon-saving-most",
        cart=cart(line(1, 25000)),
        candidates=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=10000, off_fen=1000),
            coupon("c2", Kind.COUPON_OFF, threshold_fen=20000, off_fen=3000),
            coupon("c3", Kind.COUPON_OFF, threshold_fen=30000, off_fen=5000),
        ),
        paid=(25000,),
        payable=25000,
        suggestion=frozenset({"c2"}),
        saves=3000,
    ),
    case(
        "suggests-one-per-layer-and-a-free-shipping-coupon",
        cart=cart(line(1, 25000), shipping_fen=1000),
        candidates=(
            coupon("c1", Kind.COUPON_OFF, threshold_fen=20000, off_fen=3000),
            coupon("c2", Kind.COUPON_OFF, PLATFORM_C, threshold_fen=15000, off_fen=1500),
            coupon("c3", Kind.COUPON_OFF, PLATFORM_C, off_fen=1000),
            coupon("c4", Kind.COUPON_SHIPPING, PLATFORM_C),
        ),
        paid=(25000,),
        payable=26000,
        suggestion=frozenset({"c1", "c2", "c4"}),
        saves=5500,
    ),
    case(
        "no-suggestion-when-no-candidate-helps",
        cart=cart(line(1, 25000)),
        candidates=(coupon("c3", Kind.COUPON_OFF, threshold_fen=30000, off_fen=5000),),
        paid=(25000,),
        payable=25000,
    ),
    case(
        "suggestion-tie-goes-to-the-first-candidate",
        cart=cart(line(1, 25000)),
        candidates=(
            coupon("c5", Kind.COUPON_OFF, threshold_fen=20000, off_fen=3000),
            coupon("c2", Kind.COUPON_OFF, threshold_fen=10000, off_fen=3000),
        ),
        paid=(25000,),
        payable=25000,
        suggestion=frozenset({"c5"}),
        saves=3000,
    ),
    case(
        "suggestion-counts-on-what-is-left-after-promotions",
        # 满200减20 brings ¥210 to ¥190: the 满200减30 coupon no longer fits, 满100减10 does
        cart=cart(line(1, 21000)),
        offers=(promo("p1", Kind.SPEND_OFF, steps=((20000, 2000),)),),
        candidates=(
            coupon("c2", Kind.COUPON_OFF, threshold_fen=20000, off_fen=3000),
            coupon("c1", Kind.COUPON_OFF, threshold_fen=10000, off_fen=1000),
        ),
        paid=(19000,),
        payable=19000,
        applied={"p1": 2000},
        suggestion=frozenset({"c1"}),
        saves=1000,
    ),
    case(
        "no-suggestion-when-the-member-chose-a-coupon",
        cart=cart(line(1, 25000)),
        chosen=(coupon("c1", Kind.COUPON_OFF, threshold_fen=10000, off_fen=1000),),
        candidates=(coupon("c2", Kind.COUPON_OFF, threshold_fen=20000, off_fen=3000),),
        paid=(24000,),
        payable=24000,
        applied={"c1": 1000},
    ),
]


@pytest.mark.parametrize("c", ROUNDING)
def test_rule_1_rounding(c):
    check(c)


@pytest.mark.parametrize("c", THRESHOLDS)
def test_rule_2_layers_and_thresholds(c):
    check(c)


@pytest.mark.parametrize("c", ITEM)
def test_rule_3_item_layer(c):
    check(c)


@pytest.mark.parametrize("c", SHOP)
def test_rule_4_shop_layer(c):
    check(c)


@pytest.mark.parametrize("c", COUPONS)
def test_rule_5_coupons(c):
    check(c)


@pytest.mark.parametrize("c", SPLIT)
def test_rule_6_split(c):
    check(c)


@pytest.mark.parametrize("c", BUDGETS)
def test_rule_7_limits_and_budgets(c):
    check(c)


@pytest.mark.parametrize("c", EXCLUSIVITY)
def test_rule_8_exclusivity(c):
    check(c)


@pytest.mark.parametrize("c", ELIGIBILITY)
def test_rule_9_tier_channel_and_scope(c):
    check(c)


@pytest.mark.parametrize("c", SUGGESTION)
def test_rule_10_suggestion(c):
    check(c)


@pytest.mark.parametrize(
    ("scope", "sku", "category", "covered"),
    [
        pytest.param(Scope(), "A", "c", True, id="empty-scope-covers-every-line"),
        pytest.param(Scope(skus=frozenset({"A"})), "A", "c", True, id="listed-sku"),
        pytest.param(Scope(skus=frozenset({"A"})), "B", "c", False, id="unlisted-sku"),
        pytest.param(Scope(categories=frozenset({"c"})), "B", "c", True, id="listed-category"),
        pytest.param(Scope(categories=frozenset({"c"})), "B", "d", False, id="unlisted-category"),
        pytest.param(
            Scope(skus=frozenset({"A"}), categories=frozenset({"c"})),
            "A",
            "d",
            True,
            id="sku-or-category-sku",
        ),
        pytest.param(
            Scope(skus=frozenset({"A"}), categories=frozenset({"c"})),
            "B",
            "c",
            True,
            id="sku-or-category-cat",
        ),
        pytest.param(
            Scope(skus=frozenset({"A"}), categories=frozenset({"c"})),
            "B",
            "d",
            False,
            id="sku-or-category-neither",
        ),
        pytest.param(Scope(exclude_skus=frozenset({"A"})), "A", "c", False, id="everything-but-this-sku"),
        pytest.param(Scope(exclude_skus=frozenset({"A"})), "B", "c", True, id="everything-but-another-sku"),
        pytest.param(
            Scope(categories=frozenset({"c"}), exclude_skus=frozenset({"A"})),
            "A",
            "c",
            False,
            id="category-minus-sku",
        ),
        pytest.param(
            Scope(skus=frozenset({"A"}), exclude_categories=frozenset({"c"})),
            "A",
            "c",
            False,
            id="sku-minus-category",
        ),
        pytest.param(
            Scope(exclude_categories=frozenset({"c"})), "B", "d", True, id="everything-but-a-category"
        ),
    ],
)
def test_scope_covers(scope, sku, category, covered):
    assert scope.covers(sku, category) is covered


def test_candidates_do_not_change_the_quote():
    # given
    basket = cart(line(1, 25000), line(2, 4000), shipping_fen=800)
    offers = (promo("p1", Kind.SPEND_OFF, steps=((20000, 2000),)),)
    candidates = (
        coupon("c1", Kind.COUPON_OFF, threshold_fen=10000, off_fen=1000),
        coupon("c4", Kind.COUPON_SHIPPING, PLATFORM_C),
    )
    # when
    with_candidates = quote(basket, offers, (), candidates)
    without = quote(basket, offers)
    # then
    assert with_candidates.lines == without.lines
    assert with_candidates.payable_fen == without.payable_fen
    assert with_candidates.applied == without.applied
    assert without.suggestion == ()
    assert without.suggestion_saves_fen == 0
    assert with_candidates.suggestion_saves_fen == 1000 + 800


def test_budget_data_names_the_short_budget():
    # given
    basket = cart(line(1, 30000), budgets_left={"B-shop": 100000, "B-brand": 100})
    offer = promo("p1", Kind.SPEND_OFF, budget_keys=("B-shop", "B-brand"), **SPEND_300_OFF_30)
    # when
    [refused] = quote(basket, [offer]).not_applied
    # then
    assert "B-brand" in dict(refused.data).values()


# ---------------------------------------------------------------------------------------------------
# The contract's shape: pure, frozen, lines in line_no order.


def test_lines_come_back_in_line_no_order_whatever_the_cart_order():
    # given: the cart lists line 3 first; the split tie goes to the lower line_no, not the first listed
    basket = Cart(lines=(line(3, 2000), line(1, 2000), line(2, 2000)))
    offers = (promo("p1", Kind.SPEND_OFF, steps=((5000, 1000),)),)
    # when
    result = quote(basket, offers)
    # then
    assert [q.line_no for q in result.lines] == [1, 2, 3]
    assert [q.paid_fen for q in result.lines] == [1666, 1667, 1667]
    assert result.applied[0].lines == ((1, 334), (2, 333), (3, 333))


def test_inputs_and_results_are_frozen():
    # given
    result = quote(cart(line(1, 10000)), [promo("p1", Kind.SPECIAL_PRICE, price_fen=9000)])
    # then
    for value in (result, result.lines[0], result.applied[0], Scope(), promo("p2", Kind.GIFT), line(1, 1)):
        assert dataclasses.is_dataclass(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.__setattr__(dataclasses.fields(value)[0].name, None)


def test_the_engine_imports_no_django_no_database_no_clock():
    # given: every import statement of the engine module, wherever it stands
    tree = ast.parse(Path(engine.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    # then
    forbidden = ("django", "datetime", "time", "random", "uuid", "yunying.core.models", "zoneinfo")
    assert not {name for name in imported for bad in forbidden if name == bad or name.startswith(bad + ".")}
