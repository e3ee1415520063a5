"""Properties of earning and refunds (hypothesis): the arithmetic alone, then through commerce and
the ledger for any order and any sequence of refunds (refused ones included)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from fractions import Fraction

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.commerce.helpers import cancel, ingest, order_payload, refund
from tests.loyalty.helpers import account, earned_for, held, postings_sum, reversed_for, rules_set
from yunying.commerce.models import Order, OrderLine, OrderStatus
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM
from yunying.loyalty.earning import earn_key
from yunying.loyalty.ledger import ledger_reconcile, points_earn, points_spend
from yunying.loyalty.models import PointPosting, PostingKind, PostingSource
from yunying.loyalty.rules import line_points, share_floor, spread
from yunying.members.services import member_resolve

# ---------------------------------------------------------------------------------------------------
# Pure


@given(
    paid=st.integers(0, 10**9),
    per_unit=st.integers(0, 100),
    unit=st.integers(1, 10**5),
    multipliers=st.lists(st.integers(0, 10_000), max_size=3),
)
def test_line_points_is_the_floor_of_the_exact_product(paid, per_unit, unit, multipliers):
    exact = Fraction(paid * per_unit, unit)
    for permille in multipliers:
        exact *= Fraction(permille, 1000)
    assert line_points(
        paid_fen=paid, points_per_unit=per_unit, unit_fen=unit, multipliers=multipliers
    ) == int(exact // 1)


capacities_and_weights = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=5
).map(lambda pairs: ([w for w, _ in pairs], [min(c, w) for w, c in pairs]))


@given(data=capacities_and_weights, amount=st.integers(0, 60_000), more=st.integers(0, 1000))
def test_spread_fills_exactly_within_capacities_and_grows_with_the_amount(data, amount, more):
    weights, capacities = data
    shares = spread(amount, weights, capacities)
    assert sum(shares) == min(amount, sum(capacities))
    assert all(0 <= share <= cap for share, cap in zip(shares, capacities, strict=True))
    bigger = spread(amount + more, weights, capacities)
    assert all(b >= a for a, b in zip(shares, bigger, strict=True))  # no Alabama paradox


@given(total=st.integers(0, 10**6), parts=st.lists(st.integers(1, 10**4), min_size=1, max_size=6))
def test_cumulative_floors_end_exactly_at_the_total(total, parts):
    whole = sum(parts)
    taken = 0
    refunded = 0
    for part in parts:
        refunded += part
        step = share_floor(total, refunded, whole) - taken
        assert step >= 0
        taken += step
    assert taken == total


# ---------------------------------------------------------------------------------------------------
# Through commerce and the ledger

_ids = itertools.count()

lines_strategy = st.lists(st.integers(0, 30_000), min_size=1, max_size=3)
operation = st.one_of(
    st.fixed_dictionaries({"line_no": st.integers(1, 3)}, optional={"amount_fen": st.integers(1, 20_000)}),
    st.fixed_dictionaries({}, optional={"amount_fen": st.integers(1, 40_000)}),
    st.just("cancel"),
    st.just("replay"),
)


def _restored(spend) -> int:
    if spend is None:
        return 0
    return sum(
        PointPosting.objects.filter(related=spend, kind=PostingKind.RESTORE).values_list("points", flat=True)
    )


def _expected_reversed(order: Order, lines: list[OrderLine], earned: list[int]) -> list[int]:
    """The reference: each line's earned points × its refunded part, rounded down; an order-level
    refund's part of a line weighed by paid_fen among what each line has left."""
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return list(earned)
    order_level = order.refunded_fen - sum(line.refunded_fen for line in lines)
    # A reference water-filling by bisection on the level λ (independent of rules.spread's loop).
    caps = [line.paid_fen - line.refunded_fen for line in lines]
    low, high = Fraction(0), Fraction(10**9)
    for _ in range(200):
        mid = (low + high) / 2
        if (
            sum(min(Fraction(c), mid * line.paid_fen) for c, line in zip(caps, lines, strict=True))
            < order_level
        ):
            low = mid
        else:
            high = mid
    result = []
    for line, cap, points in zip(lines, caps, earned, strict=True):
        part = line.refunded_fen + min(Fraction(cap), high * line.paid_fen)
        result.append(points * min(part, line.paid_fen) // line.paid_fen if line.paid_fen else 0)
    return result


GIFT = 1000


@pytest.mark.django_db
@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines_strategy, operations=st.lists(operation, max_size=7), spent=st.integers(0, GIFT))
def test_any_refund_sequence_leaves_exactly_the_points_of_what_was_kept(lines, operations, spent):
    # given: a member who paid `spent` of their points towards an order paid long enough ago that
    # its points are spendable
    rules_set(welcome_points=0)
    n = next(_ids)
    external_id = f"P-{n}"
    phone = f"+861390000{n:04d}"
    member = member_resolve(phone=phone, external_id=None)
    points_earn(
        member_id=member.pk,
        points=GIFT,
        key=f"gift-{n}",
        source=PostingSource.GIFT,
        actor=SYSTEM,
        expires_at=None,
    )
    spend = None
    if spent:
        spend = points_spend(
            member_id=member.pk, points=spent, key=f"checkout-{n}", source=PostingSource.CHECKOUT, actor=SYSTEM,
            ref=external_id,
        ).posting  # fmt: skip
    payload = order_payload(
        external_id,
        phone=phone,
        paid_at=(timezone.now() - timedelta(days=10)).isoformat(),
        lines=[
            {"sku": f"S{i}", "unit_price_fen": fen, "quantity": 1, "paid_fen": fen}
            for i, fen in enumerate(lines)
        ],
    )
    order = ingest(payload).order
    keys = [
        earn_key(pk)
        for pk in OrderLine.objects.filter(order=order).order_by("line_no").values_list("pk", flat=True)
    ]
    earned = [earned_for(key) for key in keys]
    last = None
    # when: refunds, cancellations and replays in any order (refused ones change nothing)
    for step, op in enumerate(operations):
        try:
            if op == "cancel":
                cancel(external_id, external_id=f"C{step}")
            elif op == "replay":
                if last is not None:
                    assert refund(external_id, **last).replayed
            else:
                raw = {"external_id": f"R{step}", "occurred_at": timezone.now().isoformat(), **op}
                refund(external_id, **raw)
                last = raw
        except DomainError:
            pass
        # then, after every step
        order.refresh_from_db()
        order_lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
        expected = _expected_reversed(order, order_lines, earned)
        assert [reversed_for(key) for key in keys] == expected
        restored = _restored(spend)
        if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
            assert restored == spent
        else:
            assert restored == (spent * order.refunded_fen // order.total_fen if order.total_fen else 0)
        assert held(order.member_id) == GIFT - spent + restored + sum(earned) - sum(expected)
    acc = account(order.member_id)
    assert acc.debt == 0 and postings_sum(order.member_id) == acc.balance + acc.pending
    assert ledger_reconcile([order.member_id]) == []
