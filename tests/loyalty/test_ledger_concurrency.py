"""Parallel spends against one balance never go below zero and exactly the affordable ones succeed
(the "concurrent payments drive points negative" peer bug); parallel grants under one key credit once,
under distinct keys the sum. Threads with their own connections, released together by a Barrier."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.rush import at_once
from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import ledger_reconcile, points_earn, points_spend
from yunying.loyalty.models import PointAccount, PostingSource
from yunying.members.models import Member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]


def _rush(calls):
    return at_once(calls, ok="ok")


def _earn(member_id, points, key):
    return points_earn(
        member_id=member_id,
        points=points,
        key=key,
        source=PostingSource.MANUAL,
        actor=SYSTEM,
        expires_at=None,
    )


def test_concurrent_spends_never_go_negative_and_exactly_the_affordable_succeed():
    member = Member.objects.create(external_id="rush-spend")
    _earn(member.pk, 1000, "seed")
    outcomes = _rush(
        [
            lambda n=n: points_spend(
                member_id=member.pk, points=30, key=f"s{n}", source=PostingSource.REDEEM, actor=SYSTEM
            )
            for n in range(50)
        ]
    )
    assert Counter(outcomes) == {"ok": 33, "loyalty.insufficient_points": 17}
    assert PointAccount.objects.get(member=member).balance == 10
    assert ledger_reconcile() == []


def test_concurrent_grants_with_one_key_credit_once_and_with_distinct_keys_the_sum():
    member = Member.objects.create(external_id="rush-grant")
    outcomes = _rush([lambda: _earn(member.pk, 100, "same")] * 20)
    assert set(outcomes) == {"ok"}  # the others are replays
    assert PointAccount.objects.get(member=member).balance == 100
    _rush([lambda n=n: _earn(member.pk, 100, f"k{n}") for n in range(20)])
    assert PointAccount.objects.get(member=member).balance == 2100
    assert ledger_reconcile() == []


def test_fuint71_parallel_gifts_from_a_100_point_balance_credit_100_once():
    from yunying.loyalty.ledger import points_gift

    giver = Member.objects.create(external_id="gift-from")
    receiver = Member.objects.create(external_id="gift-to")
    _earn(giver.pk, 100, "seed")
    outcomes = _rush(
        [lambda n=n: points_gift(giver.pk, receiver.pk, 100, f"g{n}", actor=SYSTEM) for n in range(20)]
    )
    assert Counter(outcomes) == {"ok": 1, "loyalty.insufficient_points": 19}
    assert PointAccount.objects.get(member=giver).balance == 0
    assert PointAccount.objects.get(member=receiver).balance == 100
    assert ledger_reconcile() == []


def test_two_expiry_workers_at_once_expire_each_lot_once_and_spends_meanwhile_stay_exact():
    from datetime import timedelta

    from django.utils import timezone

    from yunying.loyalty.ledger import points_expire_due

    now = timezone.now()
    members = [Member.objects.create(external_id=f"exp-{n}") for n in range(5)]
    for member in members:
        for lot in range(4):
            points_earn(
                member_id=member.pk, points=10, key=f"{member.pk}-{lot}", source=PostingSource.MANUAL, actor=SYSTEM,
                expires_at=now + timedelta(days=1) if lot < 3 else None,
            )  # fmt: skip
    later = now + timedelta(days=2)
    outcomes = _rush(
        [lambda: points_expire_due(later), lambda: points_expire_due(later)]
        + [
            lambda m=m: points_spend(
                member_id=m.pk, points=5, key=f"sp-{m.pk}", source=PostingSource.REDEEM, actor=SYSTEM
            )
            for m in members
        ]
    )
    assert outcomes.count("ok") == 7
    for member in members:
        # 30 expiring + 10 lasting; a spend of 5 came either before (from an expiring lot) or after
        assert PointAccount.objects.get(member=member).balance in (5, 10)
    assert ledger_reconcile() == []
