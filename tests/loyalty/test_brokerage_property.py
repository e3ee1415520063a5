"""Property: any sequence of order / refund / cancel / replay / release keeps each line's commission at
the rule × its non-refunded part (floor, per level), a promoter's balance at the sum of its ledger,
and never more than one earning per line and level."""

from __future__ import annotations

import itertools

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.commerce.helpers import cancel, ingest, order_payload, refund
from tests.loyalty.brokerage_helpers import OPERATOR, after_window, bind, member, promoter
from yunying.commerce.events import OrderFact, OrderFactKind
from yunying.commerce.models import Order, OrderStatus
from yunying.core.errors import DomainError
from yunying.loyalty import brokerage
from yunying.loyalty.models import CommissionEntry, EntryKind

pytestmark = pytest.mark.django_db

_ids = itertools.count()

lines_strategy = st.lists(
    st.tuples(st.sampled_from(["tea", "ware", "other"]), st.integers(0, 5000), st.integers(1, 3)),
    min_size=1,
    max_size=3,
)
operation = st.one_of(
    st.fixed_dictionaries({"line_no": st.integers(1, 3)}, optional={"amount_fen": st.integers(1, 6000)}),
    st.fixed_dictionaries({"amount_fen": st.integers(1, 6000)}),
    st.just("cancel"),
    st.just("replay"),
    st.just("release"),
)


def _expected(order: Order, rates: dict[str, tuple[int, int]]) -> dict[tuple[int, int], int]:
    lines = list(order.lines.order_by("line_no"))
    if order.status == OrderStatus.CANCELLED:
        nets = [0] * len(lines)
    else:
        nets = brokerage.lines_net([(ln.paid_fen, ln.refunded_fen) for ln in lines], order.refunded_fen)
    expected = {}
    for line, net in zip(lines, nets, strict=True):
        l1, l2 = rates.get(line.category, rates["*"])
        expected[(line.pk, 1)] = brokerage.commission_fen(net, l1)
        expected[(line.pk, 2)] = brokerage.commission_fen(net, l2)
    return expected


@hsettings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=lines_strategy,
    operations=st.lists(operation, max_size=8),
    tea=st.integers(0, 500),
    other=st.integers(0, 300),
)
def test_commission_follows_the_rule_on_the_non_refunded_part(lines, operations, tea, other):
    # given: two levels; the rates as drawn, before the order (they are kept with each earning)
    n = next(_ids)
    brokerage.brokerage_configure(levels=2, binding_days=0, applications_open=True, actor=OPERATOR)
    rates = {"tea": (tea, 1000 - tea if tea > 400 else 7), "*": (other, other // 3)}
    for category, (l1, l2) in rates.items():
        brokerage.rule_set(category=category, level1_permille=l1, level2_permille=l2, actor=OPERATOR)
    top, mid_member, buyer = promoter(member(f"t{n}")), member(f"m{n}"), member(f"b{n}")
    bind(mid_member, top)
    mid = promoter(mid_member)
    bind(buyer, mid)
    payload = order_payload(f"P{n}")
    payload["member"] = {"external_id": buyer.external_id}
    payload["lines"] = [
        {"sku": "S", "category": c, "unit_price_fen": price, "quantity": q, "paid_fen": price * q}
        for c, price, q in lines
    ]
    order = ingest(payload).order
    facts = [OrderFact(OrderFactKind.RECORDED, order.pk, buyer.pk, order.total_fen, order.paid_at)]
    # when
    for i, op in enumerate(operations):
        try:
            if op == "cancel":
                event = cancel(order.external_id, external_id=f"C{i}").event
                facts.append(
                    OrderFact(OrderFactKind.CANCELLED, order.pk, buyer.pk, 0, order.paid_at, event.pk)
                )
            elif op == "replay":
                for fact in facts:
                    brokerage.order_fact_handle(fact)
            elif op == "release":
                brokerage.commission_release_due(after_window())
            else:
                event = refund(order.external_id, external_id=f"R{i}", **op).event
                facts.append(
                    OrderFact(OrderFactKind.REFUNDED, order.pk, buyer.pk, 0, order.paid_at, event.pk)
                )
        except DomainError as refusal:
            assert refusal.code in {
                "order.over_refund",
                "order.cancelled",
                "order.not_cancellable",
                "order.line_not_found",
                "order.refund_empty",
            }
    # then
    order.refresh_from_db()
    got = {
        (row["line_id"], row["level"]): row["total"]
        for row in CommissionEntry.objects.filter(order=order)
        .values("line_id", "level")
        .annotate(total=Sum("amount_fen"))
    }
    expected = _expected(order, rates)
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
    earns = CommissionEntry.objects.filter(order=order, kind=EntryKind.EARN)
    assert earns.count() == len({(e.line_id, e.level) for e in earns})
    assert brokerage.brokerage_reconcile() == []
