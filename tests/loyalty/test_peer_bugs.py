"""Named tests for peer projects' bugs listed in issue 11."""

import pytest

from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import ledger_reconcile, points_earn, points_reverse, points_spend
from yunying.loyalty.models import PointAccount, PostingSource
from yunying.members.models import Member

pytestmark = pytest.mark.django_db


def test_odoo_257854_a_refund_of_spent_points_leaves_debt_paid_from_later_earnings():
    member = Member.objects.create(external_id="odoo-257854")
    points_earn(
        member_id=member.pk, points=100, key="e", source=PostingSource.ORDER, actor=SYSTEM, expires_at=None
    )
    points_spend(member_id=member.pk, points=80, key="s", source=PostingSource.REDEEM, actor=SYSTEM)
    points_reverse(earn_key="e", key="r", actor=SYSTEM)
    account = PointAccount.objects.get(member=member)
    assert (account.balance, account.debt) == (0, 80)
    points_earn(
        member_id=member.pk, points=50, key="e2", source=PostingSource.ORDER, actor=SYSTEM, expires_at=None
    )
    account.refresh_from_db()
    assert (account.balance, account.debt) == (0, 30)
    assert ledger_reconcile() == []
