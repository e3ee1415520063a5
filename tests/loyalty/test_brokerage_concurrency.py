"""Concurrency: a member bound by many promoters' links at once gets exactly one binding; a statement
paid by several operators at once is paid once (one payout entry). SQLite and PostgreSQL; threads
with a connection each, released together by a Barrier."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from tests.loyalty.brokerage_helpers import OPERATOR, after_window, bind, buy, member, promoter
from tests.rush import at_once
from yunying.loyalty import brokerage
from yunying.loyalty.models import CommissionEntry, EntryKind, Promoter, PromoterBinding, Statement

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

THREADS = 8


def _rush(calls):
    return at_once(calls)


def test_concurrent_bindings_of_one_member_leave_one():
    # given
    buyer = member("buyer")
    promoters = [promoter(member(f"p{i}")) for i in range(THREADS)]
    # when
    outcomes = _rush([lambda p=p: bind(buyer, p).created for p in promoters])
    # then
    assert outcomes.count(True) == 1
    assert set(outcomes) - {True} <= {"brokerage.already_bound", "core.busy"}
    assert PromoterBinding.objects.filter(member=buyer).count() == 1


def test_concurrent_payments_of_one_statement_pay_once():
    # given: a released commission frozen into November's statement
    brokerage.rule_set(category="*", level1_permille=100, level2_permille=0, actor=OPERATOR)
    p, buyer = promoter(member("p")), member("buyer")
    from datetime import datetime

    bind(buyer, p, at=datetime.fromisoformat("2026-10-01T00:00:00+08:00"))
    buy(buyer, paid_at="2026-11-02T10:00:00+08:00")
    now = after_window()
    brokerage.commission_release_due(now)
    brokerage.statements_make(month=date(2026, 11, 1), actor=OPERATOR, now=now)
    statement = Statement.objects.get()
    # when
    outcomes = _rush(
        [
            lambda i=i: (
                brokerage.statement_pay(statement_id=statement.pk, reference=f"B{i}", actor=OPERATOR).state
            )
            for i in range(THREADS)
        ]
    )
    # then
    assert outcomes.count("paid") == 1
    assert set(outcomes) - {"paid"} <= {"brokerage.statement_paid", "core.busy"}
    assert CommissionEntry.objects.filter(kind=EntryKind.PAYOUT).count() == 1
    assert Promoter.objects.get(pk=p.pk).balance_fen == 0
    assert brokerage.brokerage_reconcile() == []


def test_two_bindings_closing_a_loop_at_once_leave_no_loop():
    # given: two promoters, neither brought by anyone
    ma, mb = member("a"), member("b")
    a, b = promoter(ma), promoter(mb)
    # when: A's member follows B's link while B's member follows A's, repeatedly at once
    outcomes = _rush([lambda: bind(ma, b).created, lambda: bind(mb, a).created])
    # then
    assert sorted(map(str, outcomes)) == ["True", "brokerage.circular"]
    a.refresh_from_db()
    b.refresh_from_db()
    assert not (a.parent_id == b.pk and b.parent_id == a.pk)


def test_control_without_the_chain_lock_both_loop_bindings_succeed(monkeypatch):
    """The guard above is what holds: with the chain's lock replaced by a rendezvous (both read the
    chain, then both write), the loop closes. PostgreSQL only: SQLite's write transactions already
    run one at a time, so there the second never reaches the rendezvous."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes write transactions: no race to show")
    rendezvous = threading.Barrier(2)
    monkeypatch.setattr(brokerage, "_lock_promoters", lambda ids: rendezvous.wait(timeout=30))
    ma, mb = member("a"), member("b")
    a, b = promoter(ma), promoter(mb)
    outcomes = _rush([lambda: bind(ma, b).created, lambda: bind(mb, a).created])
    a.refresh_from_db()
    b.refresh_from_db()
    assert outcomes == [True, True] and (a.parent_id, b.parent_id) == (b.pk, a.pk)
