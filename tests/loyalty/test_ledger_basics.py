"""The ledger's primitives, one behaviour each (the property and concurrency suites build on these)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import (
    ledger_reconcile,
    points_earn,
    points_expire_due,
    points_mature_due,
    points_restore,
    points_reverse,
    points_spend,
)
from yunying.loyalty.models import PointAccount, PostingSource
from yunying.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return Member.objects.create(external_id="m-1")


def _account(member) -> PointAccount:
    return PointAccount.objects.get(member=member)


def earn(member, points, key, **kwargs):
    kwargs.setdefault("expires_at", None)
    return points_earn(
        member_id=member.pk, points=points, key=key, source=PostingSource.MANUAL, actor=SYSTEM, **kwargs
    )


def spend(member, points, key):
    return points_spend(
        member_id=member.pk, points=points, key=key, source=PostingSource.REDEEM, actor=SYSTEM
    )


def test_spend_takes_the_oldest_expiring_lot_first(member):
    now = timezone.now()
    late = earn(member, 100, "late", expires_at=now + timedelta(days=300)).posting
    soon = earn(member, 100, "soon", expires_at=now + timedelta(days=10)).posting
    earn(member, 100, "never")
    spend(member, 150, "s1")
    assert soon.lot.__class__.objects.get(pk=soon.lot.pk).remaining == 0
    assert late.lot.__class__.objects.get(pk=late.lot.pk).remaining == 50
    assert _account(member).balance == 150
    assert ledger_reconcile() == []


def test_a_replay_posts_nothing_and_another_posting_under_the_key_conflicts(member):
    first = earn(member, 10, "k")
    again = earn(member, 10, "k")
    assert again.replayed and again.posting.pk == first.posting.pk
    assert _account(member).balance == 10
    with pytest.raises(DomainError) as refused:
        earn(member, 11, "k")
    assert refused.value.code == "loyalty.key_conflict"


def test_spending_more_than_the_balance_is_refused_and_changes_nothing(member):
    earn(member, 10, "e")
    with pytest.raises(DomainError) as refused:
        spend(member, 11, "s")
    assert refused.value.code == "loyalty.insufficient_points"
    assert refused.value.data["balance"] == 10
    assert _account(member).balance == 10


def test_a_reversal_of_spent_points_becomes_debt_paid_by_the_next_earning(member):
    earn(member, 100, "order-1")
    spend(member, 80, "s")
    posted = points_reverse(earn_key="order-1", key="refund-1", actor=SYSTEM)
    assert (posted.posting.points, posted.posting.shortfall) == (-20, 80)
    account = _account(member)
    assert (account.balance, account.debt) == (0, 80)
    earn(member, 50, "later")
    account = _account(member)
    assert (account.balance, account.debt) == (0, 30)
    earn(member, 50, "later-2")
    account = _account(member)
    assert (account.balance, account.debt) == (20, 0)
    assert ledger_reconcile() == []


def test_restored_points_go_back_to_their_lots_and_expire_at_once_when_those_have(member):
    now = timezone.now()
    earn(member, 100, "e", expires_at=now + timedelta(days=1))
    spend(member, 60, "s")
    points_expire_due(now + timedelta(days=2))
    assert _account(member).balance == 0
    points_restore(spend_key="s", key="r", actor=SYSTEM, now=now + timedelta(days=3))
    assert _account(member).balance == 0  # the lot had expired: what came back expired with it
    assert ledger_reconcile() == []


def test_pending_points_become_spendable_when_the_window_closes(member):
    now = timezone.now()
    earn(member, 100, "order-line", pending_until=now + timedelta(days=7))
    account = _account(member)
    assert (account.balance, account.pending) == (0, 100)
    with pytest.raises(DomainError):
        spend(member, 1, "s")
    assert points_mature_due(now + timedelta(days=8)) == {"matured": 1}
    account = _account(member)
    assert (account.balance, account.pending) == (100, 0)
    assert points_mature_due(now + timedelta(days=9)) == {}
    assert ledger_reconcile() == []


def test_expiry_takes_what_is_left_once(member):
    now = timezone.now()
    earn(member, 100, "e", expires_at=now + timedelta(days=1))
    spend(member, 30, "s")
    assert points_expire_due(now + timedelta(days=2)) == {"expired_lots": 1, "expired_points": 70}
    assert points_expire_due(now + timedelta(days=3)) == {}
    assert _account(member).balance == 0
    assert ledger_reconcile() == []


def test_a_refund_of_points_that_already_expired_takes_nothing_else_and_makes_no_debt(member):
    """Earned, expired unused, then the order refunded: those points never served the member, so the
    refund takes none of their other points and leaves no debt (earning-rules helper's finding)."""
    now = timezone.now()
    earn(member, 100, "order-line", expires_at=now + timedelta(days=1))
    earn(member, 50, "check-in")
    points_expire_due(now + timedelta(days=2))
    posted = points_reverse(earn_key="order-line", key="refund", actor=SYSTEM, now=now + timedelta(days=3))
    assert (posted.posting.points, posted.posting.shortfall, posted.posting.written_off) == (0, 0, 100)
    account = _account(member)
    assert (account.balance, account.debt) == (50, 0)
    with pytest.raises(DomainError):  # nothing is left to take back
        points_reverse(earn_key="order-line", key="refund-2", actor=SYSTEM, points=1)
    assert ledger_reconcile() == []


def test_a_refund_after_part_was_spent_and_the_rest_expired_recovers_only_the_spent_part(member):
    now = timezone.now()
    earn(member, 100, "order-line", expires_at=now + timedelta(days=1))
    earn(member, 100, "check-in")
    spend(member, 30, "s")  # from the order's lot: it expires first
    points_expire_due(now + timedelta(days=2))  # its other 70 expire
    posted = points_reverse(earn_key="order-line", key="refund", actor=SYSTEM, now=now + timedelta(days=3))
    assert (posted.posting.points, posted.posting.shortfall, posted.posting.written_off) == (-30, 0, 70)
    assert _account(member).balance == 70
    assert ledger_reconcile() == []
