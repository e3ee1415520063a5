"""Brokerage (分销): binding, commission by rule and level, refunds, release, statements, payouts,
and the abuse cases (self-binding, self-purchase, loops, a third level)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.commerce.helpers import cancel, refund
from tests.loyalty.brokerage_helpers import (
    OPERATOR,
    after_window,
    bind,
    buy,
    member,
    owed,
    promoter,
)
from yunying.core.errors import DomainError
from yunying.core.models import AuditEntry
from yunying.loyalty import brokerage
from yunying.loyalty.models import CommissionEntry, EntryKind, Promoter, PromoterState, Statement

pytestmark = pytest.mark.django_db


def _rules(**rates):
    for category, (l1, l2) in rates.items():
        brokerage.rule_set(category=category, level1_permille=l1, level2_permille=l2, actor=OPERATOR)


def _balance_is_ledger():
    assert brokerage.brokerage_reconcile() == []
    for p in Promoter.objects.all():
        assert p.balance_fen == owed(p)


# --- the rule, pure -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "permille", "expected"),
    [(10000, 50, 500), (9999, 50, 499), (1, 999, 0), (0, 1000, 0), (19, 100, 1), (-5, 100, 0)],
    ids=["exact", "rounds-down", "under-a-fen", "nothing-left", "1.9-fen", "negative-is-zero"],
)
def test_commission_rounds_down_to_the_fen(net, permille, expected):
    assert brokerage.commission_fen(net, permille) == expected


@pytest.mark.parametrize(
    ("lines", "order_refunded", "expected"),
    [
        ([(100, 0), (100, 0)], 0, [100, 100]),
        ([(100, 0), (100, 0)], 100, [50, 50]),
        ([(100, 0), (200, 0)], 100, [67, 133]),
        ([(100, 50), (100, 0)], 50, [50, 100]),
        ([(100, 50), (100, 0)], 200, [0, 0]),
        ([(1, 0), (1, 0), (1, 0)], 1, [0, 1, 1]),
    ],
    ids=["no-refund", "half-spread", "in-proportion", "line-refund-only", "all", "leftover-fen-to-first"],
)
def test_order_level_refunds_spread_over_the_lines(lines, order_refunded, expected):
    assert brokerage.lines_net(lines, order_refunded) == expected
    assert sum(expected) == max(sum(p for p, _ in lines) - order_refunded, 0)


@pytest.mark.parametrize("levels", [0, 3, 10, -1, True])
def test_three_levels_or_none_are_refused(levels):
    with pytest.raises(DomainError) as refused:
        brokerage.brokerage_configure(levels=levels, binding_days=0, applications_open=True, actor=OPERATOR)
    assert refused.value.code == "brokerage.levels_invalid"


@pytest.mark.parametrize(("l1", "l2"), [(1001, 0), (-1, 0), (600, 500), (10, "5")], ids=str)
def test_rates_out_of_range_are_refused(l1, l2):
    with pytest.raises(DomainError) as refused:
        brokerage.rule_set(category="tea", level1_permille=l1, level2_permille=l2, actor=OPERATOR)
    assert refused.value.code == "brokerage.rate_invalid"


# --- binding --------------------------------------------------------------------------------------


def test_first_binding_wins_and_binding_again_to_the_same_promoter_is_a_replay():
    # given
    a, b, buyer = promoter(member("a")), promoter(member("b")), member("buyer")
    # when
    first = bind(buyer, a)
    again = bind(buyer, a)
    # then
    assert first.created and not again.created and again.binding.pk == first.binding.pk
    with pytest.raises(DomainError) as refused:
        bind(buyer, b)
    assert refused.value.code == "brokerage.already_bound"


def test_with_a_binding_period_a_later_link_binds_anew():
    brokerage.brokerage_configure(levels=1, binding_days=30, applications_open=True, actor=OPERATOR)
    a, b, buyer = promoter(member("a")), promoter(member("b")), member("buyer")
    bind(buyer, a, at=datetime.fromisoformat("2026-01-01T00:00:00+08:00"))
    assert bind(buyer, b, at=datetime.fromisoformat("2026-03-01T00:00:00+08:00")).created


def test_self_binding_is_refused():
    me = member("me")
    mine = promoter(me)
    with pytest.raises(DomainError) as refused:
        bind(me, mine)
    assert refused.value.code == "brokerage.self_binding"


def test_circular_promotion_is_refused_two_and_three_long():
    # given: A brings B, B becomes a promoter (parent A); B brings C, C becomes a promoter (parent B)
    ma, mb, mc = member("a"), member("b"), member("c")
    a = promoter(ma)
    bind(mb, a)
    b = promoter(mb)
    bind(mc, b)
    c = promoter(mc)
    assert (b.parent_id, c.parent_id) == (a.pk, b.pk)
    # when / then: B would bring A; C would bring A
    for target in (b, c):
        with pytest.raises(DomainError) as refused:
            bind(ma, target)
        assert refused.value.code == "brokerage.circular"
    assert a.bindings.count() == 1 and not ma.promoter_bindings.exists()


def test_an_inactive_or_unknown_promoter_binds_nobody():
    p = promoter(member("p"))
    brokerage.promoter_transition(promoter_id=p.pk, state=PromoterState.SUSPENDED, actor=OPERATOR)
    with pytest.raises(DomainError) as refused:
        bind(member("x"), p)
    assert refused.value.code == "brokerage.promoter_inactive"
    with pytest.raises(DomainError) as refused:
        brokerage.member_bind(member_id=member("y").pk, code="NOPE", source="code", actor=OPERATOR)
    assert refused.value.code == "brokerage.promoter_not_found"


# --- commission -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "rates", "expected_l1", "expected_l2"),
    [
        (1, {"tea": (50, 20), "ware": (100, 0)}, 450 + 599, 0),
        (2, {"tea": (50, 20), "ware": (100, 0)}, 450 + 599, 180),
        (2, {"*": (10, 10)}, 90 + 59, 90 + 59),
        (1, {"tea": (0, 0)}, 0, 0),
        (2, {"tea": (30, 0), "*": (10, 5)}, 270 + 59, 29),
    ],
    ids=["one-level", "two-levels", "default-rule", "zero-rate", "category-over-default"],
)
def test_commission_per_category_and_level(levels, rates, expected_l1, expected_l2):
    # given: top brings mid, mid is a promoter and brings the buyer; lines tea 9000 and ware 5997
    brokerage.brokerage_configure(levels=levels, binding_days=0, applications_open=True, actor=OPERATOR)
    _rules(**rates)
    top, mid_member, buyer = promoter(member("top")), member("mid"), member("buyer")
    bind(mid_member, top)
    mid = promoter(mid_member)
    bind(buyer, mid)
    # when
    buy(buyer)
    # then
    assert owed(mid) == expected_l1 and owed(top) == expected_l2
    assert all(e.kind == EntryKind.EARN and e.released_at is None for e in CommissionEntry.objects.all())
    _balance_is_ledger()


def test_never_a_third_level():
    brokerage.brokerage_configure(levels=2, binding_days=0, applications_open=True, actor=OPERATOR)
    _rules(**{"*": (100, 100)})
    chain = [member(f"m{i}") for i in range(4)]
    promoters = [promoter(chain[0])]
    for m in chain[1:]:
        bind(m, promoters[-1])
        promoters.append(promoter(m))
    buyer = member("buyer")
    bind(buyer, promoters[-1])
    buy(buyer)
    assert [owed(p) > 0 for p in promoters] == [False, False, True, True]
    assert set(CommissionEntry.objects.values_list("level", flat=True)) == {1, 2}


def test_self_purchase_earns_nothing():
    # given: a promoter whose parent would earn level 2 on the promoter's own order
    brokerage.brokerage_configure(levels=2, binding_days=0, applications_open=True, actor=OPERATOR)
    _rules(**{"*": (100, 50)})
    top, me = promoter(member("top")), member("me")
    bind(me, top)
    mine = promoter(me)
    # when: the promoter buys (bound to top: top earns level 1 for bringing them, nothing to themselves)
    buy(me)
    # then
    assert owed(mine) == 0
    assert not CommissionEntry.objects.filter(promoter=mine).exists()


def test_an_unbound_buyer_or_an_order_before_the_binding_earns_nothing():
    _rules(**{"*": (100, 0)})
    p, buyer = promoter(member("p")), member("buyer")
    buy(member("stranger"), "SO-0")
    bind(buyer, p, at=datetime.fromisoformat("2026-12-02T00:00:00+08:00"))
    buy(buyer)  # paid on Dec 1st, before the binding
    assert not CommissionEntry.objects.exists()


def test_refunds_take_back_per_line_cumulatively_and_cancel_takes_back_all():
    # given: 5 % on tea (9000) and ware (5997)
    _rules(**{"*": (50, 0)})
    p, buyer = promoter(member("p")), member("buyer")
    bind(buyer, p)
    buy(buyer)
    buy(buyer, "SO-2")
    assert owed(p) == 2 * (450 + 299)
    # when: a third of the tea line, then the rest of it, then half the order
    refund("SO-1", external_id="R1", line_no=1, amount_fen=3000)
    assert owed(p) == 300 + 299 + 749
    refund("SO-1", external_id="R2", line_no=1)
    assert owed(p) == 299 + 749
    refund("SO-1", external_id="R3", amount_fen=2997)
    assert owed(p) == 150 + 749
    cancel("SO-2", external_id="C1")
    # then
    assert owed(p) == 150
    _balance_is_ledger()


def test_release_statement_payout_and_a_refund_after_release_carried_into_the_next_statement():
    # given: an order paid in November
    _rules(**{"*": (100, 0)})
    p, buyer = promoter(member("p")), member("buyer")
    bind(buyer, p, at=datetime.fromisoformat("2026-10-01T00:00:00+08:00"))
    buy(buyer, paid_at="2026-11-02T10:00:00+08:00")  # 900 + 599
    now = after_window()
    assert brokerage.promoter_summary(p).held_fen == 1499
    # when: the window closes and the month has ended
    assert brokerage.commission_release_due(now) == {"released": 2}
    assert brokerage.commission_release_due(now) == {}
    assert brokerage.promoter_summary(p).available_fen == 1499
    assert brokerage.statements_make(month=date(2026, 11, 1), actor=OPERATOR, now=now) == 1
    assert brokerage.statements_make(month=date(2026, 11, 1), actor=OPERATOR, now=now) == 0
    statement = Statement.objects.get(promoter=p)
    assert statement.total_fen == 1499
    assert brokerage.promoter_summary(p).statements_open_fen == 1499
    paid = brokerage.statement_pay(statement_id=statement.pk, reference="BANK-1", actor=OPERATOR, now=now)
    assert paid.paid_reference == "BANK-1"
    with pytest.raises(DomainError) as refused:
        brokerage.statement_pay(statement_id=statement.pk, reference="BANK-2", actor=OPERATOR, now=now)
    assert refused.value.code == "brokerage.statement_paid"
    assert owed(p) == 0 and brokerage.promoter_summary(p).paid_fen == 1499
    # a refund after payment: negative, released at once, outside any statement
    refund("SO-1", external_id="R1", line_no=2)
    negative = CommissionEntry.objects.get(kind=EntryKind.REVERSE)
    assert negative.amount_fen == -599 and negative.released_at is not None and negative.statement is None
    assert brokerage.promoter_summary(p).available_fen == -599
    # then: December's statement carries the negative into it
    buy(buyer, "SO-2")
    brokerage.commission_release_due(now)
    brokerage.statements_make(month=date(2026, 12, 1), actor=OPERATOR, now=now)
    december = Statement.objects.get(promoter=p, month=date(2026, 12, 1))
    assert december.total_fen == 1499 - 599
    assert AuditEntry.objects.filter(action="brokerage.statement_pay").count() == 1
    _balance_is_ledger()


def test_a_month_not_yet_ended_gets_no_statement():
    with pytest.raises(DomainError) as refused:
        brokerage.statements_make(month=date(2099, 1, 1), actor=OPERATOR)
    assert refused.value.code == "brokerage.month_not_closed"


def test_payout_needs_a_reference():
    with pytest.raises(DomainError) as refused:
        brokerage.statement_pay(statement_id=1, reference=" ", actor=OPERATOR)
    assert refused.value.code == "brokerage.reference_required"
    with pytest.raises(DomainError) as refused:
        brokerage.statement_pay(statement_id=999, reference="X", actor=OPERATOR)
    assert refused.value.code == "brokerage.statement_not_found"


def test_replaying_an_order_fact_posts_nothing():
    from yunying.commerce.events import OrderFact, OrderFactKind

    _rules(**{"*": (100, 0)})
    p, buyer = promoter(member("p")), member("buyer")
    bind(buyer, p)
    order = buy(buyer)
    refund("SO-1", external_id="R1", line_no=1, amount_fen=1000)
    before = list(CommissionEntry.objects.values_list("pk", flat=True))
    event = order.events.get()
    brokerage.order_fact_handle(OrderFact(OrderFactKind.RECORDED, order.pk, buyer.pk, 0, order.paid_at))
    brokerage.order_fact_handle(
        OrderFact(OrderFactKind.REFUNDED, order.pk, buyer.pk, 1000, order.paid_at, event.pk)
    )
    assert list(CommissionEntry.objects.values_list("pk", flat=True)) == before
    _balance_is_ledger()


def test_applying_promoters_and_the_operator_deciding():
    m = member("applicant")
    applied = brokerage.promoter_apply(member_id=m.pk, actor=OPERATOR)
    assert applied.state == PromoterState.APPLIED
    with pytest.raises(DomainError) as refused:
        brokerage.promoter_apply(member_id=m.pk, actor=OPERATOR)
    assert refused.value.code == "brokerage.promoter_exists"
    with pytest.raises(DomainError) as refused:
        bind(member("x"), applied)
    assert refused.value.code == "brokerage.promoter_inactive"
    approved = brokerage.promoter_transition(
        promoter_id=applied.pk, state=PromoterState.ACTIVE, actor=OPERATOR
    )
    assert approved.state == PromoterState.ACTIVE and approved.approved_at
    with pytest.raises(DomainError) as refused:
        brokerage.promoter_transition(promoter_id=applied.pk, state=PromoterState.REFUSED, actor=OPERATOR)
    assert refused.value.code == "brokerage.invalid_transition"
    brokerage.brokerage_configure(levels=1, binding_days=0, applications_open=False, actor=OPERATOR)
    with pytest.raises(DomainError) as refused:
        brokerage.promoter_apply(member_id=member("late").pk, actor=OPERATOR)
    assert refused.value.code == "brokerage.applications_closed"


def test_a_partner_without_an_account_and_the_audit_trail():
    with pytest.raises(DomainError) as refused:
        brokerage.promoter_create(actor=OPERATOR)
    assert refused.value.code == "brokerage.partner_name_required"
    top = promoter(member("top"))
    partner = promoter(partner="茶友会", parent=top)
    assert partner.member_id is None and partner.parent_id == top.pk
    assert AuditEntry.objects.filter(action="brokerage.promoter_create").count() == 2


def test_ranking_by_commission_orders_and_bound_members():
    _rules(**{"*": (100, 0)})
    big, small = promoter(member("big")), promoter(member("small"))
    for i in range(3):
        b = member(f"b{i}")
        bind(b, small)
    rich = member("rich")
    bind(rich, big)
    buy(rich)
    assert [p.pk for p in brokerage.promoter_ranking(order_by="commission")][:2] == [big.pk, small.pk]
    assert [p.pk for p in brokerage.promoter_ranking(order_by="bound")][:2] == [small.pk, big.pk]
    top = brokerage.promoter_ranking(order_by="orders")[0]
    assert (top.pk, top.orders_count, top.commission_fen) == (big.pk, 1, 1499)


def test_the_statements_job_makes_last_months_statements_once():
    # given: commission released in November
    _rules(**{"*": (100, 0)})
    p, buyer = promoter(member("p")), member("buyer")
    bind(buyer, p, at=datetime.fromisoformat("2026-10-01T00:00:00+08:00"))
    buy(buyer, paid_at="2026-11-02T10:00:00+08:00")
    brokerage.commission_release_due(after_window())
    december = datetime.fromisoformat("2026-12-03T09:00:00+08:00")
    # when / then
    assert brokerage.statements_due(december) == {"statements": 1}
    assert brokerage.statements_due(december) == {}
    assert Statement.objects.get().month == date(2026, 11, 1)


@pytest.mark.parametrize("n", [1, 5])
def test_ranking_and_summary_take_the_same_queries_for_1_and_n_promoters(n, django_assert_num_queries):
    _rules(**{"*": (100, 0)})
    for i in range(n):
        p, buyer = promoter(member(f"p{i}")), member(f"b{i}")
        bind(buyer, p)
        buy(buyer, f"SO-{i}")
    with django_assert_num_queries(1):
        rows = list(brokerage.promoter_ranking(order_by="commission"))
    assert len(rows) == n and all(row.commission_fen == 1499 for row in rows)
    with django_assert_num_queries(3):
        brokerage.promoter_summary(rows[0])


def test_an_order_of_a_member_brought_by_no_one_costs_one_query(django_assert_num_queries):
    from yunying.commerce.events import OrderFact, OrderFactKind

    _rules(**{"*": (100, 0)})
    order = buy(member("alone"))
    with django_assert_num_queries(1):
        brokerage.order_fact_handle(
            OrderFact(OrderFactKind.RECORDED, order.pk, order.member_id, order.total_fen, order.paid_at)
        )
    with django_assert_num_queries(1):
        brokerage.order_fact_handle(
            OrderFact(OrderFactKind.CANCELLED, order.pk, order.member_id, order.total_fen, order.paid_at, 1)
        )


def test_the_reconcile_command_finds_a_hand_edited_balance():
    from django.core.management import CommandError, call_command

    from yunying.core.models import Alert

    _rules(**{"*": (100, 0)})
    p, buyer = promoter(member("p")), member("buyer")
    bind(buyer, p)
    buy(buyer)
    call_command("brokerage_reconcile")
    Promoter.objects.filter(pk=p.pk).update(balance_fen=1)  # someone edits the table by hand
    with pytest.raises(CommandError):
        call_command("brokerage_reconcile")
    assert Alert.objects.filter(code="brokerage.drift").count() == 1
