"""Concurrent refunds of one order (SQLite and PostgreSQL): commerce serialises them on the order
row, and the points taken back and given back end exactly where a one-at-a-time run ends.

Threads, each with its own connection, are released together by a Barrier."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.commerce.helpers import ingest, order_payload, refund
from tests.loyalty.helpers import account, postings_sum, reversed_for, rules_set
from tests.rush import at_once
from yunying.commerce.models import Order, OrderLine
from yunying.core.permissions import SYSTEM
from yunying.loyalty.earning import earn_key
from yunying.loyalty.ledger import ledger_reconcile, points_earn, points_spend
from yunying.loyalty.models import PointPosting, PostingKind, PostingSource
from yunying.members.services import member_resolve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

THREADS = 10
PHONE = "+8613800000077"


def _rush(calls):
    return at_once(calls)


def test_parallel_refunds_of_one_order_keep_the_ledger_exact():
    # given: 300 points, 100 of them spent on the order; 10 lines of 1000 fen earning 10 points each
    rules_set(welcome_points=0)
    member = member_resolve(phone=PHONE, external_id=None)
    points_earn(
        member_id=member.pk, points=300, key="gift", source=PostingSource.GIFT, actor=SYSTEM, expires_at=None
    )
    points_spend(
        member_id=member.pk,
        points=100,
        key="checkout:SO-C",
        source=PostingSource.CHECKOUT,
        actor=SYSTEM,
        ref="SO-C",
    )
    lines = [
        {"sku": f"S{n}", "unit_price_fen": 1000, "quantity": 1, "paid_fen": 1000} for n in range(THREADS)
    ]
    paid_at = (timezone.now() - timedelta(days=10)).isoformat()
    order = ingest(order_payload("SO-C", phone=PHONE, paid_at=paid_at, lines=lines)).order
    assert account(member.pk).balance == 300 - 100 + 10 * THREADS
    # when: every line refunded at once, each in two halves, plus order-level refunds that find
    # nothing left (refused) — in parallel
    calls = []
    for n in range(THREADS):
        for half in range(2):
            calls.append(
                lambda n=n, half=half: refund(
                    "SO-C", external_id=f"R{n}-{half}", line_no=n + 1, amount_fen=500
                )
            )
    outcomes = _rush(calls)
    # then
    assert all(not isinstance(o, str) for o in outcomes), outcomes
    order = Order.objects.get(pk=order.pk)
    assert order.refunded_fen == order.total_fen
    keys = [earn_key(pk) for pk in OrderLine.objects.filter(order=order).values_list("pk", flat=True)]
    assert [reversed_for(key) for key in keys] == [10] * THREADS
    restored = sum(PointPosting.objects.filter(kind=PostingKind.RESTORE).values_list("points", flat=True))
    assert restored == 100
    acc = account(member.pk)
    assert (acc.balance, acc.pending, acc.debt) == (300, 0, 0)
    assert postings_sum(member.pk) == 300
    assert ledger_reconcile() == []


def test_parallel_partial_order_refunds_give_back_spent_points_in_proportion():
    # given
    rules_set(welcome_points=0)
    member = member_resolve(phone=PHONE, external_id=None)
    points_earn(
        member_id=member.pk, points=70, key="gift", source=PostingSource.GIFT, actor=SYSTEM, expires_at=None
    )
    points_spend(
        member_id=member.pk,
        points=70,
        key="checkout:SO-D",
        source=PostingSource.CHECKOUT,
        actor=SYSTEM,
        ref="SO-D",
    )
    lines = [{"sku": "A", "unit_price_fen": 7000, "quantity": 1, "paid_fen": 7000}]
    paid_at = (timezone.now() - timedelta(days=10)).isoformat()
    ingest(order_payload("SO-D", phone=PHONE, paid_at=paid_at, lines=lines))
    # when: seven refunds of 700 fen at once (¥49 of ¥70)
    _rush([lambda n=n: refund("SO-D", external_id=f"R{n}", amount_fen=700) for n in range(7)])
    # then: floor(70 × 4900 / 7000) = 49 given back, 49 of the 70 earned taken back
    restored = sum(PointPosting.objects.filter(kind=PostingKind.RESTORE).values_list("points", flat=True))
    assert restored == 49
    order = Order.objects.get(external_id="SO-D")
    key = earn_key(OrderLine.objects.get(order=order).pk)
    assert reversed_for(key) == 49
    acc = account(member.pk)
    assert acc.balance == 49 + 70 - 49
    assert ledger_reconcile() == []
