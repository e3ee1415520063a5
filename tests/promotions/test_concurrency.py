"""K parallel redemptions of something with limit L: exactly min(K, L) win, on SQLite and PostgreSQL;
a budget is never exceeded; a coupon is used once; claims never pass the total limit. Threads with
their own connections, released together by a Barrier (the style of tests/loyalty)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connections
from django.db.models import F

from tests.conftest import is_postgres
from tests.members.factories import MemberFactory
from tests.promotions.helpers import budget_make, ingest, order_from, promotion_make, quote
from tests.rush import at_once
from yunying.commerce.models import Order
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM
from yunying.promotions.models import BudgetEntry, Coupon, CouponState, Promotion
from yunying.promotions.services import coupon_claim, coupon_issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

K = 24
PHONE = "+8613900000009"


def _rush(calls):
    return at_once(calls, ok="ok")


def _orders(make_quote, prefix):
    """K orders, each priced with its own quote (a quote prices one order)."""
    quotes = [make_quote() for _ in range(K)]
    return [lambda n=n: ingest(order_from(quotes[n], f"{prefix}-{n}", phone=PHONE)) for n in range(K)]


def test_k_orders_against_a_use_limit_of_l_record_exactly_l():
    member = MemberFactory(phone=PHONE)
    promotion = promotion_make("spend_off", steps=[[10000, 1000]], use_limit=7)
    outcomes = _rush(_orders(lambda: quote(member.pk), "UL"))
    assert Counter(outcomes) == {"ok": 7, "promotion.limit_reached": K - 7}
    assert Promotion.objects.get(pk=promotion.pk).used_count == 7
    assert Order.objects.count() == 7


def test_k_orders_against_a_budget_never_spend_past_it():
    member = MemberFactory(phone=PHONE)
    promotion = promotion_make("spend_off", steps=[[10000, 3000]])
    budget = budget_make(promotion, 40_000)  # 13 discounts of 3000 fit, the 14th does not
    outcomes = _rush(_orders(lambda: quote(member.pk), "BU"))
    assert Counter(outcomes) == {"ok": 13, "promotion.budget_exhausted": K - 13}
    budget.refresh_from_db()
    assert budget.spent_fen == 39_000 <= budget.cap_fen
    spent = sum(BudgetEntry.objects.filter(budget=budget, kind="spend").values_list("amount_fen", flat=True))
    assert spent == budget.spent_fen  # the ledger and the running sum agree


def test_k_orders_with_one_coupon_use_it_once():
    member = MemberFactory(phone=PHONE)
    template = promotion_make("coupon_off", threshold_fen=0, off_fen=500)
    coupon = coupon_issue(promotion_id=template.pk, member_id=member.pk, source="issue", actor=SYSTEM).coupon
    outcomes = _rush(_orders(lambda: quote(member.pk, coupon_ids=[coupon.pk]), "CO"))
    assert Counter(outcomes) == {"ok": 1, "promotion.coupon_unavailable": K - 1}
    assert Coupon.objects.get(pk=coupon.pk).state == CouponState.USED


def test_k_members_claiming_l_coupons_get_exactly_l():
    members = [MemberFactory() for _ in range(K)]
    template = promotion_make("coupon_off", threshold_fen=0, off_fen=500, claimable=True, issue_limit=5)
    outcomes = _rush(
        [lambda m=m: coupon_claim(promotion_id=template.pk, member_id=m.pk, actor=SYSTEM) for m in members]
    )
    assert Counter(outcomes) == {"ok": 5, "promotion.issue_limit_reached": K - 5}
    assert Coupon.objects.filter(promotion=template).count() == 5
    assert Promotion.objects.get(pk=template.pk).issued_count == 5


def test_one_member_claiming_in_parallel_gets_only_their_limit():
    member = MemberFactory()
    template = promotion_make("coupon_off", threshold_fen=0, off_fen=500, claimable=True, per_member_limit=2)
    outcomes = _rush([lambda: coupon_claim(promotion_id=template.pk, member_id=member.pk, actor=SYSTEM)] * 12)
    assert Counter(outcomes) == {"ok": 2, "promotion.member_limit_reached": 10}
    assert Coupon.objects.filter(member=member).count() == 2


@pytest.mark.skipif(not is_postgres(), reason="the control needs real parallel writers (PostgreSQL)")
def test_control_read_then_write_overshoots_the_limit():
    """Without the conditional update the same rush passes the limit: the guard above is what holds."""
    promotion = promotion_make("spend_off", steps=[[10000, 1000]], use_limit=7)
    all_read = threading.Barrier(K)  # every thread reads before any writes: the race, every time

    def naive():
        from django.db import transaction

        with transaction.atomic():
            used = Promotion.objects.get(pk=promotion.pk).used_count
            all_read.wait(timeout=30)
            if used >= 7:
                raise DomainError("promotion.limit_reached")
            Promotion.objects.filter(pk=promotion.pk).update(used_count=F("used_count") + 1)

    with connections["default"].cursor() as cursor:  # the CHECK would stop the overshoot: lift it
        cursor.execute("ALTER TABLE promotions_promotion DROP CONSTRAINT promotion_used_within_limit")
    try:
        outcomes = _rush([naive] * K)
        assert Counter(outcomes)["ok"] == K  # all read 0, all wrote: K uses of a limit of 7
    finally:
        Promotion.objects.filter(pk=promotion.pk).update(used_count=0)
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "ALTER TABLE promotions_promotion ADD CONSTRAINT promotion_used_within_limit "
                "CHECK (use_limit IS NULL OR used_count <= use_limit)"
            )


def test_parallel_points_exchanges_under_one_key_spend_and_issue_once():
    from yunying.loyalty.ledger import points_earn
    from yunying.loyalty.models import PointAccount, PostingSource
    from yunying.promotions.services import coupon_buy_with_points

    member = MemberFactory()
    points_earn(
        member_id=member.pk,
        points=1000,
        key="seed",
        source=PostingSource.MANUAL,
        actor=SYSTEM,
        expires_at=None,
    )
    template = promotion_make(
        "coupon_off", threshold_fen=0, off_fen=500, points_price=300, per_member_limit=3
    )
    outcomes = _rush(
        [
            lambda: coupon_buy_with_points(
                promotion_id=template.pk, member_id=member.pk, key="tap", actor=SYSTEM
            )
        ]
        * 8
    )
    assert set(outcomes) <= {"ok", "core.busy"} and "ok" in outcomes
    assert Coupon.objects.filter(member=member).count() == 1
    assert PointAccount.objects.get(member=member).balance == 700
