"""Property test: any sequence of earn / spend / reverse (refund) / replay keeps the ledger reconciled,
the balance never negative, and the figures equal to a simple pure-Python reference model."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import ledger_reconcile, points_earn, points_reverse, points_spend
from yunying.loyalty.models import PointAccount, PostingSource
from yunying.members.models import Member

pytestmark = pytest.mark.django_db

_ids = itertools.count()

ops = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 500)),
        st.tuples(st.just("spend"), st.integers(1, 500)),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
        st.tuples(st.just("replay"), st.integers(0, 20)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops)
def test_any_sequence_keeps_the_ledger_reconciled_and_equal_to_the_reference(steps):
    member = Member.objects.create(external_id=f"prop-{next(_ids)}")
    balance = debt = 0  # the reference model
    earns: list[tuple[str, int]] = []  # (key, points not yet reversed)
    originals: dict[str, int] = {}
    for n, (op, arg) in enumerate(steps):
        key = f"{member.pk}-{n}"
        if op == "earn":
            points_earn(
                member_id=member.pk,
                points=arg,
                key=key,
                source=PostingSource.MANUAL,
                actor=SYSTEM,
                expires_at=None,
            )
            paid = min(debt, arg)
            debt -= paid
            balance += arg - paid
            earns.append((key, arg))
            originals[key] = arg
        elif op == "spend":
            if arg > balance:
                with pytest.raises(DomainError):
                    points_spend(
                        member_id=member.pk, points=arg, key=key, source=PostingSource.REDEEM, actor=SYSTEM
                    )
            else:
                points_spend(
                    member_id=member.pk, points=arg, key=key, source=PostingSource.REDEEM, actor=SYSTEM
                )
                balance -= arg
        elif op == "reverse" and earns:
            i = arg % len(earns)
            earn_key, left = earns[i]
            if left:
                points_reverse(earn_key=earn_key, key=key, actor=SYSTEM)
                taken = min(balance, left)
                balance -= taken
                debt += left - taken
                earns[i] = (earn_key, 0)
        elif op == "replay" and earns:
            earn_key = earns[arg % len(earns)][0]
            before = PointAccount.objects.get(member=member).balance
            points_earn(  # the same key and amount again: a replay posts nothing
                member_id=member.pk,
                points=originals[earn_key],
                key=earn_key,
                source=PostingSource.MANUAL,
                actor=SYSTEM,
                expires_at=None,
            )
            assert PointAccount.objects.get(member=member).balance == before
        account = PointAccount.objects.filter(member=member).first()
        if account is not None:
            assert account.balance >= 0
            assert account.balance == balance
            assert account.debt == debt
    assert ledger_reconcile([member.pk]) == []
