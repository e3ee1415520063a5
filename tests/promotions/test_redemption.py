"""Quote → order → refund: what an order redeems, what a refusal leaves (nothing), what refunds give
back. Through the services, on the real database."""

from __future__ import annotations

import pytest

from tests.commerce.helpers import cancel, refund
from tests.members.factories import MemberFactory
from tests.promotions.helpers import budget_make, ingest, order_from, promotion_make, quote
from yunying.commerce.models import Order
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM
from yunying.promotions.models import Budget, BudgetEntry, Coupon, CouponState, Promotion, Redemption
from yunying.promotions.services import coupon_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return MemberFactory(phone="+8613900000001")


def _spend_off():
    return promotion_make("spend_off", steps=[[20000, 3000]])


def _coupon(member, **terms):
    template = promotion_make("coupon_off", threshold_fen=10000, off_fen=1000, **terms)
    return coupon_issue(promotion_id=template.pk, member_id=member.pk, source="issue", actor=SYSTEM).coupon


def test_an_order_redeems_what_its_quote_applied(member):
    # given 满200减30, a 满100减10 coupon and a budget for the 满减
    spend_off = _spend_off()
    budget = budget_make(spend_off, 100_000)
    coupon = _coupon(member)
    result = quote(member.pk, coupon_ids=[coupon.pk])
    assert result.quote.payable_fen == 20000 - 3000 - 1000
    # when
    ingested = ingest(order_from(result, "SO-1", phone="+8613900000001"))
    # then
    assert ingested.order.total_fen == 16000
    redeemed = {r.offer_key: r.amount_fen for r in Redemption.objects.filter(order=ingested.order)}
    assert redeemed == {f"p{spend_off.pk}": 3000, f"c{coupon.pk}": 1000}
    coupon.refresh_from_db()
    assert coupon.state == CouponState.USED and coupon.order_id == ingested.order.pk
    assert Budget.objects.get(pk=budget.pk).spent_fen == 3000
    assert Promotion.objects.get(pk=spend_off.pk).used_count == 1


def test_an_order_whose_lines_are_not_the_quoted_ones_is_refused_and_nothing_is_written(member):
    _spend_off()
    result = quote(member.pk)
    payload = order_from(result, "SO-2", phone="+8613900000001")
    payload["lines"][0]["paid_fen"] -= 1  # charged a fen less than quoted
    with pytest.raises(DomainError) as refused:
        ingest(payload)
    assert refused.value.code == "promotion.quote_mismatch"
    assert not Order.objects.exists() and not Redemption.objects.exists()


def test_a_tampered_quote_is_refused(member):
    _spend_off()
    result = quote(member.pk)
    payload = order_from(result, "SO-3", phone="+8613900000001")
    payload["quote"] = result.token[:-2] + ("AA" if not result.token.endswith("AA") else "BB")
    with pytest.raises(DomainError) as refused:
        ingest(payload)
    assert refused.value.code == "promotion.quote_invalid"
    assert not Order.objects.exists()


def test_a_coupon_used_since_the_quote_refuses_the_second_order(member):
    coupon = _coupon(member)
    first = quote(member.pk, coupon_ids=[coupon.pk])
    second = quote(member.pk, coupon_ids=[coupon.pk])
    ingest(order_from(first, "SO-4", phone="+8613900000001"))
    with pytest.raises(DomainError) as refused:
        ingest(order_from(second, "SO-5", phone="+8613900000001"))
    assert refused.value.code == "promotion.coupon_unavailable"
    assert list(Order.objects.values_list("external_id", flat=True)) == ["SO-4"]


def test_a_budget_spent_since_the_quote_refuses_the_order_and_the_next_quote_says_so(member):
    spend_off = _spend_off()
    budget_make(spend_off, 4000)  # room for one 3000 discount
    first, second = quote(member.pk), quote(member.pk)
    ingest(order_from(first, "SO-6", phone="+8613900000001"))
    with pytest.raises(DomainError) as refused:
        ingest(order_from(second, "SO-7", phone="+8613900000001"))
    assert refused.value.code == "promotion.budget_exhausted"
    # the hard stop: the quote no longer applies it, and says why
    again = quote(member.pk)
    assert again.quote.payable_fen == 20000
    assert [(n.key, n.reason) for n in again.quote.not_applied] == [(f"p{spend_off.pk}", "budget_exhausted")]


def test_a_full_refund_gives_back_the_coupon_the_use_and_the_budget(member):
    spend_off = _spend_off()
    budget = budget_make(spend_off, 100_000)
    coupon = _coupon(member)
    ingest(order_from(quote(member.pk, coupon_ids=[coupon.pk]), "SO-8", phone="+8613900000001"))
    # when
    refund("SO-8", external_id="R1")
    # then
    coupon.refresh_from_db()
    assert coupon.state == CouponState.AVAILABLE and coupon.order_id is None
    assert Budget.objects.get(pk=budget.pk).spent_fen == 0
    assert Promotion.objects.get(pk=spend_off.pk).used_count == 0
    kinds = sorted(BudgetEntry.objects.filter(budget=budget).values_list("kind", "amount_fen"))
    assert kinds == [("release", 3000), ("spend", 3000)]


def test_a_line_refund_gives_back_that_lines_share_and_the_last_refund_the_rest(member):
    spend_off = _spend_off()
    budget = budget_make(spend_off, 100_000)
    ingest(order_from(quote(member.pk), "SO-9", phone="+8613900000001"))
    line2 = Redemption.objects.get().lines.get(line_no=2)  # CUP-1 × 2: 8000 of 20000 → 1200 of 3000
    assert line2.discount_fen == 1200
    # when one of the two cups comes back
    refund("SO-9", external_id="R1", line_no=2, quantity=1)
    # then half the line's discount goes back to the budget
    assert Budget.objects.get(pk=budget.pk).spent_fen == 3000 - 600
    refund("SO-9", external_id="R2", line_no=2, quantity=1)
    assert Budget.objects.get(pk=budget.pk).spent_fen == 3000 - 1200
    assert Redemption.objects.get().released_fen == 1200


def test_a_cancelled_order_gives_everything_back(member):
    spend_off = _spend_off()
    budget = budget_make(spend_off, 100_000)
    ingest(order_from(quote(member.pk), "SO-10", phone="+8613900000001"))
    cancel("SO-10")
    assert Budget.objects.get(pk=budget.pk).spent_fen == 0
    assert Promotion.objects.get(pk=spend_off.pk).used_count == 0
    assert Coupon.objects.count() == 0


def test_orders_without_a_quote_redeem_nothing(member):
    _spend_off()
    payload = order_from(quote(member.pk), "SO-11", phone="+8613900000001")
    del payload["quote"]
    ingest(payload)
    assert not Redemption.objects.exists()


def test_a_points_exchange_key_spends_for_one_member_and_coupon_only(member):
    from tests.loyalty.helpers import held
    from yunying.loyalty.ledger import points_earn
    from yunying.loyalty.models import PostingSource
    from yunying.promotions.services import coupon_buy_with_points

    points_earn(
        member_id=member.pk,
        points=1000,
        key="seed",
        source=PostingSource.MANUAL,
        actor=SYSTEM,
        expires_at=None,
    )
    first = promotion_make("coupon_off", threshold_fen=0, off_fen=500, points_price=300)
    second = promotion_make("coupon_off", threshold_fen=0, off_fen=900, points_price=300)
    # when the same key is used for two coupons, and again for the first
    a = coupon_buy_with_points(promotion_id=first.pk, member_id=member.pk, key="k1", actor=SYSTEM)
    b = coupon_buy_with_points(promotion_id=second.pk, member_id=member.pk, key="k1", actor=SYSTEM)
    again = coupon_buy_with_points(promotion_id=first.pk, member_id=member.pk, key="k1", actor=SYSTEM)
    # then each coupon was paid for once, and the retry returned the first coupon
    assert held(member.pk) == 400
    assert again.replayed and again.coupon.pk == a.coupon.pk and b.coupon.pk != a.coupon.pk


def _updates(queries) -> list[str]:
    """The tables a statement list updates, in order (the lock order of conditional updates)."""
    tables = []
    for query in queries:
        sql = query["sql"]
        if sql.upper().startswith("UPDATE"):
            table = sql.split()[1].strip('"')
            if table in ("promotions_coupon", "promotions_promotion", "promotions_budget"):
                tables.append(table)
    return tables


def test_a_cancellation_takes_its_locks_in_the_order_an_order_does(member):
    """Coupons, promotions, budgets: an order and a cancellation on one promotion and budget wait for
    each other instead of deadlocking (faults review: the give-back took the budget first)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    spend_off = _spend_off()
    budget_make(spend_off, 100_000)
    coupon = _coupon(member)
    with CaptureQueriesContext(connection) as redeemed:
        ingest(order_from(quote(member.pk, coupon_ids=[coupon.pk]), "SO-L1", phone="+8613900000001"))
    with CaptureQueriesContext(connection) as cancelled:
        cancel("SO-L1")
    order_of = ["promotions_coupon", "promotions_promotion", "promotions_budget"]
    for queries in (redeemed, cancelled):
        taken = [t for t in dict.fromkeys(_updates(queries))]
        assert taken == sorted(taken, key=order_of.index), taken


def test_the_budget_alert_row_commits_with_its_flag(member):
    """The alert is written in the order's transaction: no crash between commit and alert can leave
    the flag set and no alert (faults review). on_commit callbacks never run in this test."""
    from yunying.core.models import Alert

    spend_off = _spend_off()
    budget = budget_make(spend_off, 3000)  # one order spends all of it
    ingest(order_from(quote(member.pk), "SO-AL", phone="+8613900000001"))
    budget.refresh_from_db()
    assert budget.alerted_100_at is not None and budget.alerted_80_at is not None
    assert sorted(Alert.objects.values_list("code", flat=True)) == [
        "promotions.budget_100",
        "promotions.budget_80",
    ]


def test_an_order_level_refund_then_the_return_of_a_discounted_line_gives_back_exactly_once(member):
    """价保 (an order-level compensation) then a return of the discounted item: the line's share was
    given back twice and broke the release CHECK, a 500 that left the return unrecordable (attacker
    review). Budgets get back at most what was spent."""
    special = promotion_make("special_price", price_fen=6000, skus=["TEA-1"])  # 12000 → 6000 on line 1
    budget = budget_make(special, 100_000)
    ingest(order_from(quote(member.pk), "SO-PB", phone="+8613900000001"))
    order = Order.objects.get(external_id="SO-PB")
    line2 = order.lines.get(line_no=2)
    refund("SO-PB", external_id="R-COMP", amount_fen=line2.paid_fen - 1)  # order-level
    refund("SO-PB", external_id="R-RET", line_no=1)  # all of line 1
    redemption = Redemption.objects.get()
    assert redemption.released_fen <= redemption.amount_fen
    assert all(row.released_fen <= row.discount_fen for row in redemption.lines.all())
    spent = Budget.objects.get(pk=budget.pk).spent_fen
    assert 0 <= spent <= 6000
    refund("SO-PB", external_id="R-REST")  # the rest of the order: everything back
    assert Budget.objects.get(pk=budget.pk).spent_fen == 0


def test_withdrawing_a_coupon_through_one_template_leaves_another_templates_coupons_alone(member):
    from yunying.promotions.services import coupon_void

    mine = _coupon(member)
    other = promotion_make("coupon_off", threshold_fen=0, off_fen=100)
    with pytest.raises(DomainError) as refused:
        coupon_void(coupon_id=mine.pk, promotion_id=other.pk, actor=SYSTEM, reason="wrong page")
    assert refused.value.code == "promotion.coupon_not_found"
    mine.refresh_from_db()
    assert mine.state == CouponState.AVAILABLE


def test_a_limit_below_what_is_used_is_a_field_error_not_a_500(member):
    """The table's CHECK refused it as an IntegrityError, a 500 (new-user review)."""
    from yunying.core.errors import ValidationFailed
    from yunying.promotions.services import promotion_update
    from yunying.promotions.terms import promotion_validate

    spend_off = promotion_make("spend_off", steps=[[20000, 3000]], use_limit=3)
    ingest(order_from(quote(member.pk), "SO-LIM-1", phone="+8613900000001"))
    ingest(order_from(quote(member.pk), "SO-LIM-2", phone="+8613900000001"))
    spend_off.refresh_from_db()
    assert spend_off.used_count == 2
    raw = {"name": "x", "kind": "spend_off", "starts_at": spend_off.starts_at, "steps": [[20000, 3000]]}
    spec, _ = promotion_validate({**raw, "use_limit": 1})
    with pytest.raises(ValidationFailed) as refused:
        promotion_update(promotion_id=spend_off.pk, spec=spec, base_version=spend_off.version, actor=SYSTEM)
    assert [error["field"] for error in refused.value.errors] == ["use_limit"]
    spec, _ = promotion_validate({**raw, "use_limit": 2})  # down to what is used: fine
    assert promotion_update(
        promotion_id=spend_off.pk, spec=spec, base_version=spend_off.version, actor=SYSTEM
    )


def test_a_code_with_a_nul_is_unknown_not_a_database_error(member):
    from yunying.promotions.services import code_redeem

    with pytest.raises(DomainError) as refused:
        code_redeem(code="ABC\x00DEF", member_id=member.pk, actor=SYSTEM)
    assert refused.value.code == "promotion.code_unknown"
