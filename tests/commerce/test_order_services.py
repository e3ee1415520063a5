"""Ingest, replay, conflict, refunds (per line, whole order, over-refund), cancellation, hooks."""

from __future__ import annotations

import pytest

from tests.commerce.helpers import STOREFRONT, cancel, ingest, order_payload, refund
from yunying.commerce.events import order_subscribe, order_unsubscribe
from yunying.commerce.models import Order, OrderEvent, OrderLine
from yunying.commerce.services import orders_rebuild
from yunying.core.errors import DomainError
from yunying.core.models import AuditEntry
from yunying.core.permissions import Actor, Role
from yunying.members.models import Member
from yunying.members.services import member_find

pytestmark = pytest.mark.django_db

TOTAL = 9000 + 5997


def _snapshot():
    """Everything the order services write: a refusal must leave all of it as it was."""
    return (
        list(Order.objects.order_by("pk").values()),
        list(OrderLine.objects.order_by("pk").values()),
        list(OrderEvent.objects.order_by("pk").values()),
        Member.objects.count(),
    )


@pytest.fixture
def facts():
    seen = []
    order_subscribe("test", seen.append)
    yield seen
    order_unsubscribe("test")


def test_ingest_records_the_order_lines_and_member(facts):
    # when
    result = ingest()
    # then
    order = result.order
    assert not result.replayed
    assert order.total_fen == TOTAL and order.status == "paid" and order.source == "api"
    assert [(line.line_no, line.sku, line.paid_fen) for line in order.lines.order_by("line_no")] == [
        (1, "TEA-1", 9000),
        (2, "CUP-1", 5997),
    ]
    assert order.member == member_find(phone="+8613800000001")
    assert order.member.source_channel == "app"
    assert [(f.kind, f.order_id, f.amount_fen) for f in facts] == [("recorded", order.pk, TOTAL)]


def test_the_same_order_again_is_a_replay_that_writes_nothing(facts):
    first = ingest()
    before = _snapshot()
    # when
    again = ingest()
    # then
    assert again.replayed and again.order.pk == first.order.pk
    assert _snapshot() == before
    assert len(facts) == 1


def test_the_same_member_by_another_identifier_is_still_a_replay():
    first = ingest(order_payload(member={"phone": "+8613800000001", "external_id": "U1"}))
    again = ingest(order_payload(member={"external_id": "U1"}))
    assert again.replayed and again.order.pk == first.order.pk


@pytest.mark.parametrize(
    "change",
    [
        {"paid_at": "2026-01-01T00:00:00+00:00"},
        {"lines": [{"sku": "TEA-1", "unit_price_fen": 5000, "quantity": 2, "paid_fen": 8000}]},
        {"member": {"phone": "+8613800000002"}},
        {"coupon_refs": []},
        {"channel": "web"},
    ],
    ids=["paid_at", "lines", "member", "coupons", "channel"],
)
def test_the_same_id_with_other_content_is_a_conflict(change):
    ingest()
    before = _snapshot()
    with pytest.raises(DomainError) as refused:
        ingest(order_payload(**change))
    assert refused.value.code == "order.conflict"
    assert _snapshot() == before  # not even the new member of a conflicting order


def test_refund_by_line_quantity_takes_the_share_and_the_last_item_the_rest(facts):
    order = ingest().order
    # when: the cups (3 for 5997) come back one by one
    amounts = [
        refund(order.external_id, external_id=f"R{n}", line_no=2, quantity=1).event.amount_fen
        for n in range(3)
    ]
    # then
    assert amounts == [1999, 1999, 1999]
    line = OrderLine.objects.get(order=order, line_no=2)
    assert (line.refunded_fen, line.refunded_quantity) == (5997, 3)
    order.refresh_from_db()
    assert order.refunded_fen == 5997 and order.status == "partially_refunded"
    assert [f.kind for f in facts] == ["recorded", "refunded", "refunded", "refunded"]


def test_rounding_down_share_never_loses_a_fen():
    order = ingest(
        order_payload(lines=[{"sku": "A", "unit_price_fen": 400, "quantity": 3, "paid_fen": 1000}])
    ).order
    amounts = [
        refund(order.external_id, external_id=f"R{n}", line_no=1, quantity=1).event.amount_fen
        for n in range(3)
    ]
    assert amounts == [333, 333, 334]


def test_refund_everything_marks_the_order_refunded():
    order = ingest().order
    refund(order.external_id, external_id="R1", line_no=1)
    refund(order.external_id, external_id="R2", amount_fen=5997)
    order.refresh_from_db()
    assert order.refunded_fen == TOTAL and order.status == "refunded"
    assert OrderLine.objects.get(order=order, line_no=1).refunded_fen == 9000


def test_whole_order_refund_without_amount_refunds_what_is_left():
    order = ingest().order
    refund(order.external_id, external_id="R1", amount_fen=100)
    event = refund(order.external_id, external_id="R2").event
    assert event.amount_fen == TOTAL - 100 and event.line_id is None


def test_a_refund_replayed_posts_nothing(facts):
    order = ingest().order
    first = refund(
        order.external_id,
        external_id="R1",
        line_no=1,
        amount_fen=500,
        occurred_at="2026-12-01T10:00:00+08:00",
    )
    before = _snapshot()
    again = refund(
        order.external_id, external_id="R1", line_no=1, amount_fen=500, occurred_at="2026-12-01T02:00:00Z"
    )
    assert again.replayed and again.event.pk == first.event.pk
    assert _snapshot() == before and len(facts) == 2


REFUSALS = [
    ("over the line", {"external_id": "R9", "line_no": 1, "amount_fen": 9001}, "order.over_refund"),
    ("more items than bought", {"external_id": "R9", "line_no": 1, "quantity": 3}, "order.over_refund"),
    ("over the order", {"external_id": "R9", "amount_fen": TOTAL + 1}, "order.over_refund"),
    ("no such line", {"external_id": "R9", "line_no": 3}, "order.line_not_found"),
    ("nothing", {"external_id": "R9", "amount_fen": 0}, "order.refund_empty"),
    ("same id other content", {"external_id": "R1", "amount_fen": 2}, "order.event_conflict"),
]


@pytest.mark.parametrize("raw, code", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refund_refusals_change_nothing(raw, code):
    order = ingest().order
    refund(order.external_id, external_id="R1", amount_fen=1)
    before = _snapshot()
    with pytest.raises(DomainError) as refused:
        refund(order.external_id, **raw)
    assert refused.value.code == code
    assert _snapshot() == before


def test_over_refund_counts_earlier_refunds_of_both_kinds():
    order = ingest().order
    refund(order.external_id, external_id="R1", amount_fen=TOTAL - 100)  # order level
    with pytest.raises(DomainError) as refused:
        refund(order.external_id, external_id="R2", line_no=1, amount_fen=101)
    assert refused.value.code == "order.over_refund" and refused.value.data["refundable_fen"] == 100


def test_unknown_order():
    with pytest.raises(DomainError) as refused:
        refund("NOPE", external_id="R1")
    assert refused.value.code == "order.not_found"


def test_cancel_a_paid_order_once(facts):
    order = ingest().order
    first = cancel(order.external_id, reason="out of stock")
    order.refresh_from_db()
    assert order.status == "cancelled" and first.event.external_id == "cancel"
    again = cancel(order.external_id, reason="out of stock", occurred_at=first.event.occurred_at.isoformat())
    assert again.replayed
    assert [f.kind for f in facts] == ["recorded", "cancelled"]
    with pytest.raises(DomainError) as refused:
        cancel(order.external_id, external_id="C2")
    assert refused.value.code == "order.cancelled"
    with pytest.raises(DomainError) as refused:
        refund(order.external_id, external_id="R1")
    assert refused.value.code == "order.cancelled"


def test_a_refunded_order_cannot_be_cancelled():
    order = ingest().order
    refund(order.external_id, external_id="R1", amount_fen=1)
    with pytest.raises(DomainError) as refused:
        cancel(order.external_id)
    assert refused.value.code == "order.not_cancellable"


def test_operator_actions_are_audited_integration_ones_are_the_storefronts():
    from yunying.commerce.services import order_refund
    from yunying.commerce.validation import refund_validate

    order = ingest().order
    assert not AuditEntry.objects.filter(object_type="order").exists()  # the storefront's own fact
    operator = Actor(kind="user", id=1, label="ops", role=Role.STRATEGY)
    parsed, _ = refund_validate(
        {
            "external_id": "R1",
            "amount_fen": 10,
            "occurred_at": "2026-12-01T10:00:00+08:00",
            "reason": "goodwill",
        }
    )
    order_refund(external_id=order.external_id, refund=parsed, actor=operator)
    entry = AuditEntry.objects.get(object_type="order", action="order.refund")
    assert (
        entry.object_id == str(order.pk) and entry.after["refunded_fen"] == 10 and entry.reason == "goodwill"
    )
    assert STOREFRONT.role == Role.INTEGRATION


def test_a_hook_that_fails_rolls_the_order_back():
    def broken(fact):
        raise RuntimeError("loyalty down")

    order_subscribe("broken", broken)
    try:
        with pytest.raises(RuntimeError):
            ingest()
    finally:
        order_unsubscribe("broken")
    assert not Order.objects.exists() and not Member.objects.exists()


def test_rebuild_corrects_drifted_fields_and_leaves_good_ones():
    order = ingest().order
    refund(order.external_id, external_id="R1", line_no=2, quantity=1)
    assert orders_rebuild() == 0
    Order.objects.filter(pk=order.pk).update(refunded_fen=0, status="paid")
    OrderLine.objects.filter(order=order).update(refunded_fen=0, refunded_quantity=0)
    # when
    assert orders_rebuild() == 1
    # then
    order.refresh_from_db()
    assert order.refunded_fen == 1999 and order.status == "partially_refunded"
    assert OrderLine.objects.get(order=order, line_no=2).refunded_quantity == 1
