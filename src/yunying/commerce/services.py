"""The only writer of order facts: ingest an order, refund it, cancel it, rebuild the derived fields.

Idempotency is the storefront's ids: an order is keyed by its `external_id` (unique in the database),
a refund or cancellation by its own id within the order (unique too). Sent again with the same
content, the first record is returned and nothing is written (replayed=True); with other content,
order.conflict / order.event_conflict. Orders are facts: they are never edited.

Refund rules (documented in docs/api.md "Orders"):
- A refund names a line (`line_no`) or the whole order. A line refund by quantity without an amount
  refunds the line's share, paid_fen × quantity / line quantity rounded down, and the last items
  returned take whatever is left, so a line refunded item by item ends at exactly its paid_fen. A
  line refund with neither refunds all that is left of the line; an order refund without an amount,
  all that is left of the order.
- An order-level refund is not spread over the lines (the storefront did not say which); the order's
  refunded_fen counts both kinds, and never exceeds its total (order.over_refund, also a CHECK).
- Cancellation is for an order nothing was refunded from (order.not_cancellable otherwise): a
  cancelled order counts for nothing (eligibility, RFM), while a refunded one keeps its history.
  Nothing can be refunded from a cancelled order (order.cancelled).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from yunying.commerce.errors import OrderError
from yunying.commerce.events import OrderFact, OrderFactKind, order_publish
from yunying.commerce.models import Order, OrderEvent, OrderEventKind, OrderLine, OrderStatus
from yunying.commerce.validation import (
    CancelInput,
    OrderInput,
    RefundInput,
    cancel_fingerprint,
    order_fingerprint,
    refund_fingerprint,
)
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.members.services import member_commit, member_prepare


@dataclass(frozen=True)
class Ingested:
    order: Order
    replayed: bool


def order_ingest(*, order: OrderInput, actor: Actor, source: str = "api") -> Ingested:
    """Record an order from the storefront, once; the member is found or created (M2) by the
    identifiers the order names.

    Raises: order.conflict, member.identity_mismatch, member.phone_invalid."""
    # Validation, encryption and the member look-up outside the write transaction (member_prepare).
    prepared = member_prepare(
        phone=order.member.phone, external_id=order.member.external_id, channel=order.channel
    )
    with transaction.atomic():
        member = member_commit(prepared)  # rolled back with the order on a conflict
        fingerprint = order_fingerprint(order, member_id=member.pk)
        existing = Order.objects.filter(external_id=order.external_id).first()
        if existing is not None:
            return _replay_or_conflict(existing, fingerprint)
        try:
            # A savepoint: a concurrent duplicate loses on the unique external_id, and this
            # transaction stays usable to read the winner's row.
            with transaction.atomic():
                recorded = _insert(order, member_id=member.pk, fingerprint=fingerprint, source=source)
        except IntegrityError:
            winner = Order.objects.filter(external_id=order.external_id).first()
            if winner is None:
                raise
            return _replay_or_conflict(winner, fingerprint)
        audit_record(
            actor=actor,
            action="order.ingest",
            object_type="order",
            object_id=recorded.pk,
            after={"external_id": recorded.external_id, "total_fen": recorded.total_fen, "source": source},
        )
        order_publish(
            OrderFact(OrderFactKind.RECORDED, recorded.pk, member.pk, recorded.total_fen, recorded.paid_at)
        )
    return Ingested(recorded, replayed=False)


def _insert(order: OrderInput, *, member_id: int, fingerprint: str, source: str) -> Order:
    recorded = Order.objects.create(
        external_id=order.external_id,
        member_id=member_id,
        channel=order.channel,
        paid_at=order.paid_at,
        total_fen=order.total_fen,
        coupon_refs=list(order.coupon_refs),
        campaign_id=order.campaign_id,
        quote=order.quote,
        fingerprint=fingerprint,
        source=source,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=recorded,
            line_no=number,
            sku=line.sku,
            category=line.category,
            unit_price_fen=line.unit_price_fen,
            quantity=line.quantity,
            paid_fen=line.paid_fen,
        )
        for number, line in enumerate(order.lines, start=1)
    )
    return recorded


def _replay_or_conflict(existing: Order, fingerprint: str) -> Ingested:
    if existing.fingerprint != fingerprint:
        raise DomainError(OrderError.CONFLICT, external_id=existing.external_id)
    return Ingested(existing, replayed=True)


@dataclass(frozen=True)
class Recorded:
    event: OrderEvent
    order: Order
    replayed: bool


def _locked_order(external_id: str) -> Order:
    """The order, its row locked until the end of the transaction: every refund and cancellation of
    one order runs one after the other, so each reads what the previous one left.

    Raises: order.not_found."""
    order = Order.objects.select_for_update().filter(external_id=external_id).first()
    if order is None:
        raise DomainError(OrderError.NOT_FOUND)
    return order


def _replayed_event(order: Order, external_id: str, fingerprint: str) -> OrderEvent | None:
    existing = OrderEvent.objects.filter(order=order, external_id=external_id).first()
    if existing is not None and existing.fingerprint != fingerprint:
        raise DomainError(OrderError.EVENT_CONFLICT, external_id=external_id)
    return existing


def _status(*, total_fen: int, refunded_fen: int, refunds: int, all_items_returned: bool) -> str:
    """The status of an order not cancelled, from what was refunded (one rule for both paths)."""
    if refunds == 0:
        return OrderStatus.PAID
    if refunded_fen >= total_fen and (total_fen > 0 or all_items_returned):
        return OrderStatus.REFUNDED
    return OrderStatus.PARTIALLY_REFUNDED


def _line_amount(line: OrderLine, refund: RefundInput) -> int:
    """What a line refund takes, by the rules in the module docstring."""
    left_fen = line.paid_fen - line.refunded_fen
    if refund.amount_fen is not None:
        return refund.amount_fen
    if refund.quantity is None:
        return left_fen
    if line.refunded_quantity + refund.quantity >= line.quantity:
        return left_fen  # the last items take the rest: no fen lost to rounding
    return min(left_fen, line.paid_fen * refund.quantity // line.quantity)


def order_refund(*, external_id: str, refund: RefundInput, actor: Actor) -> Recorded:
    """Append a refund of a line or of the whole order, once per refund id.

    Raises: order.not_found, order.event_conflict, order.cancelled, order.line_not_found,
    order.over_refund, order.refund_empty, order.before_payment."""
    fingerprint = refund_fingerprint(refund)
    with transaction.atomic():
        order = _locked_order(external_id)
        existing = _replayed_event(order, refund.external_id, fingerprint)
        if existing is not None:
            return Recorded(existing, order, replayed=True)
        if order.status == OrderStatus.CANCELLED:
            raise DomainError(OrderError.CANCELLED)
        if refund.occurred_at < order.paid_at:
            raise DomainError(OrderError.BEFORE_PAYMENT, paid_at=order.paid_at.isoformat())
        lines = list(order.lines.order_by("line_no"))
        line = None
        if refund.line_no is not None:
            line = next((candidate for candidate in lines if candidate.line_no == refund.line_no), None)
            if line is None:
                raise DomainError(OrderError.LINE_NOT_FOUND, line_no=refund.line_no)
            amount = _line_amount(line, refund)
            quantity = refund.quantity or 0
            left_quantity = line.quantity - line.refunded_quantity
            if amount > line.paid_fen - line.refunded_fen or quantity > left_quantity:
                raise DomainError(
                    OrderError.OVER_REFUND,
                    line_no=line.line_no,
                    refundable_fen=line.paid_fen - line.refunded_fen,
                    refundable_quantity=left_quantity,
                )
        else:
            amount = (
                refund.amount_fen if refund.amount_fen is not None else order.total_fen - order.refunded_fen
            )
            quantity = 0
        if amount > order.total_fen - order.refunded_fen:
            raise DomainError(OrderError.OVER_REFUND, refundable_fen=order.total_fen - order.refunded_fen)
        if amount == 0 and quantity == 0:
            raise DomainError(OrderError.REFUND_EMPTY)
        event = OrderEvent.objects.create(
            order=order,
            external_id=refund.external_id,
            kind=OrderEventKind.REFUND,
            line=line,
            amount_fen=amount,
            quantity=quantity,
            reason=refund.reason,
            occurred_at=refund.occurred_at,
            fingerprint=fingerprint,
        )
        if line is not None:
            line.refunded_fen += amount
            line.refunded_quantity += quantity
            line.save(update_fields=["refunded_fen", "refunded_quantity"])
        before = {"refunded_fen": order.refunded_fen, "status": order.status}
        order.refunded_fen += amount
        order.status = _status(
            total_fen=order.total_fen,
            refunded_fen=order.refunded_fen,
            refunds=1,
            all_items_returned=all(each.refunded_quantity >= each.quantity for each in lines),
        )
        order.save(update_fields=["refunded_fen", "status"])
        audit_record(
            actor=actor,
            action="order.refund",
            object_type="order",
            object_id=order.pk,
            before=before,
            after={"refunded_fen": order.refunded_fen, "status": order.status, "refund": refund.external_id},
            reason=refund.reason,
        )
        order_publish(
            OrderFact(OrderFactKind.REFUNDED, order.pk, order.member_id, amount, refund.occurred_at, event.pk)
        )
    return Recorded(event, order, replayed=False)


def order_cancel(*, external_id: str, cancel: CancelInput, actor: Actor) -> Recorded:
    """Cancel an order nothing was refunded from; once (the same cancellation again is a replay).

    Raises: order.not_found, order.event_conflict, order.cancelled, order.not_cancellable,
    order.before_payment."""
    fingerprint = cancel_fingerprint(cancel)
    with transaction.atomic():
        order = _locked_order(external_id)
        existing = _replayed_event(order, cancel.external_id, fingerprint)
        if existing is not None:
            return Recorded(existing, order, replayed=True)
        if order.status == OrderStatus.CANCELLED:
            raise DomainError(OrderError.CANCELLED)
        if order.status != OrderStatus.PAID:
            raise DomainError(OrderError.NOT_CANCELLABLE, status=order.status)
        if cancel.occurred_at < order.paid_at:
            raise DomainError(OrderError.BEFORE_PAYMENT, paid_at=order.paid_at.isoformat())
        event = OrderEvent.objects.create(
            order=order,
            external_id=cancel.external_id,
            kind=OrderEventKind.CANCEL,
            reason=cancel.reason,
            occurred_at=cancel.occurred_at,
            fingerprint=fingerprint,
        )
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="order.cancel",
            object_type="order",
            object_id=order.pk,
            before={"status": OrderStatus.PAID},
            after={"status": OrderStatus.CANCELLED},
            reason=cancel.reason,
        )
        order_publish(
            OrderFact(
                OrderFactKind.CANCELLED,
                order.pk,
                order.member_id,
                order.total_fen,
                cancel.occurred_at,
                event.pk,
            )
        )
    return Recorded(event, order, replayed=False)


@dataclass(frozen=True)
class DerivedState:
    refunded_fen: int
    status: str
    lines: dict[int, tuple[int, int]]  # line id -> (refunded_fen, refunded_quantity)


def order_state_derive(
    order: Order, lines: Iterable[OrderLine], events: Iterable[OrderEvent]
) -> DerivedState:
    """The derived fields as the events alone say (pure: no database)."""
    lines = list(lines)
    per_line = {line.pk: [0, 0] for line in lines}
    refunded_fen = refunds = 0
    cancelled = False
    for event in events:
        if event.kind == OrderEventKind.CANCEL:
            cancelled = True
            continue
        refunds += 1
        refunded_fen += event.amount_fen
        if event.line_id is not None:
            per_line[event.line_id][0] += event.amount_fen
            per_line[event.line_id][1] += event.quantity
    returned = all(per_line[line.pk][1] >= line.quantity for line in lines)
    status = (
        OrderStatus.CANCELLED
        if cancelled
        else _status(
            total_fen=order.total_fen, refunded_fen=refunded_fen, refunds=refunds, all_items_returned=returned
        )
    )
    return DerivedState(refunded_fen, status, {pk: (fen, qty) for pk, (fen, qty) in per_line.items()})


def orders_rebuild(*, order_ids: Iterable[int] | None = None, batch: int = 500) -> int:
    """Recompute every order's (or the given orders') refunded amounts and status from its events,
    writing only what differs. Returns how many orders were corrected (0 when all were in step)."""
    query = Order.objects.order_by("pk")
    if order_ids is not None:
        query = query.filter(pk__in=list(order_ids))
    corrected = 0
    last = 0
    while True:
        with transaction.atomic():
            orders = list(query.select_for_update().filter(pk__gt=last)[:batch])
            if not orders:
                return corrected
            last = orders[-1].pk
            ids = [order.pk for order in orders]
            lines_by_order: dict[int, list[OrderLine]] = {pk: [] for pk in ids}
            for line in OrderLine.objects.filter(order_id__in=ids).order_by("pk"):
                lines_by_order[line.order_id].append(line)
            events_by_order: dict[int, list[OrderEvent]] = {pk: [] for pk in ids}
            for event in OrderEvent.objects.filter(order_id__in=ids).order_by("pk"):
                events_by_order[event.order_id].append(event)
            for order in orders:
                corrected += _correct(order, lines_by_order[order.pk], events_by_order[order.pk])


def _correct(order: Order, lines: list[OrderLine], events: list[OrderEvent]) -> int:
    derived = order_state_derive(order, lines, events)
    changed = 0
    for line in lines:
        refunded_fen, refunded_quantity = derived.lines[line.pk]
        if (line.refunded_fen, line.refunded_quantity) != (refunded_fen, refunded_quantity):
            OrderLine.objects.filter(pk=line.pk).update(
                refunded_fen=refunded_fen, refunded_quantity=refunded_quantity
            )
            changed = 1
    if (order.refunded_fen, order.status) != (derived.refunded_fen, derived.status):
        Order.objects.filter(pk=order.pk).update(refunded_fen=derived.refunded_fen, status=derived.status)
        changed = 1
    return changed
