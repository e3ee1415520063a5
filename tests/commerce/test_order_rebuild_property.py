"""Property: whatever sequence of refunds and cancellations a storefront sends (refused ones
included), the fields kept in step by the services equal what orders_rebuild derives from the
events, and refunds never exceed what was paid, per line or per order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.commerce.helpers import cancel, ingest, order_payload, refund
from yunying.commerce.models import Order, OrderEvent, OrderLine
from yunying.commerce.services import orders_rebuild
from yunying.core.errors import DomainError

pytestmark = pytest.mark.django_db

_ids = itertools.count()

lines_strategy = st.lists(
    st.tuples(st.integers(0, 5000), st.integers(1, 5)).map(
        lambda t: {"sku": "S", "unit_price_fen": t[0], "quantity": t[1], "paid_fen": t[0] * t[1] // 2}
    ),
    min_size=1,
    max_size=3,
)

operation = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "line_no": st.integers(1, 4),
            "amount_fen": st.integers(0, 6000),
            "quantity": st.integers(1, 6),
        },
    ),
    st.just("cancel"),
)


def _state(order_pk):
    order = Order.objects.get(pk=order_pk)
    return (
        order.refunded_fen,
        order.status,
        list(
            OrderLine.objects.filter(order_id=order_pk)
            .order_by("pk")
            .values_list("refunded_fen", "refunded_quantity")
        ),
    )


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines_strategy, operations=st.lists(operation, max_size=8))
def test_incremental_state_equals_the_rebuild_from_events(lines, operations):
    # given
    external_id = f"P{next(_ids)}"
    order = ingest(order_payload(external_id, lines=lines)).order
    # when
    for n, op in enumerate(operations):
        try:
            if op == "cancel":
                cancel(external_id, external_id=f"C{n}")
            else:
                raw = dict(op)
                if "quantity" in raw and "line_no" not in raw:
                    raw["line_no"] = 1
                refund(external_id, external_id=f"R{n}", **raw)
        except DomainError as refusal:
            assert refusal.code in {
                "order.over_refund",
                "order.refund_empty",
                "order.line_not_found",
                "order.cancelled",
                "order.not_cancellable",
            }
    # then
    incremental = _state(order.pk)
    assert orders_rebuild(order_ids=[order.pk]) == 0
    assert _state(order.pk) == incremental
    refunded_fen, _, per_line = incremental
    events = OrderEvent.objects.filter(order_id=order.pk, kind="refund")
    assert refunded_fen == sum(e.amount_fen for e in events) <= order.total_fen
    for line, (line_fen, line_qty) in zip(
        OrderLine.objects.filter(order_id=order.pk).order_by("pk"), per_line, strict=True
    ):
        assert line_fen <= line.paid_fen and line_qty <= line.quantity
    # and a wiped copy rebuilds to the same state
    Order.objects.filter(pk=order.pk).update(refunded_fen=0, status="paid")
    OrderLine.objects.filter(order_id=order.pk).update(refunded_fen=0, refunded_quantity=0)
    orders_rebuild(order_ids=[order.pk])
    assert _state(order.pk) == incremental
