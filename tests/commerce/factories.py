"""Order facts for tests and pages. commerce.services (order ingest) does not exist on this branch
yet: these write the commerce tables directly, as the ingest would; switch to order_ingest when it lands."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from yunying.commerce.models import Order, OrderEvent, OrderEventKind, OrderLine, OrderStatus


def order_make(member, external_id: str, lines: list[tuple[str, int, int]], *, paid_at: datetime | None = None,
               channel: str = "app") -> Order:  # fmt: skip
    """An order of `lines` (sku, unit price in fen, quantity), each line paid in full."""
    total = sum(price * qty for _, price, qty in lines)
    order = Order.objects.create(
        external_id=external_id, member=member, channel=channel, paid_at=paid_at or timezone.now(),
        total_fen=total, fingerprint=external_id,
    )  # fmt: skip
    for n, (sku, price, qty) in enumerate(lines, start=1):
        OrderLine.objects.create(
            order=order, line_no=n, sku=sku, category="", unit_price_fen=price, quantity=qty,
            paid_fen=price * qty,
        )  # fmt: skip
    return order


def order_refund_line(order: Order, line_no: int, *, quantity: int, external_id: str, at=None) -> OrderEvent:
    """A refund of `quantity` of one line, at its unit price; the order's derived amounts follow."""
    line = order.lines.get(line_no=line_no)
    amount = line.unit_price_fen * quantity
    event = OrderEvent.objects.create(
        order=order, external_id=external_id, kind=OrderEventKind.REFUND, line=line, amount_fen=amount,
        quantity=quantity, occurred_at=at or timezone.now(), fingerprint=external_id,
    )  # fmt: skip
    line.refunded_fen += amount
    line.refunded_quantity += quantity
    line.save(update_fields=["refunded_fen", "refunded_quantity"])
    order.refunded_fen += amount
    order.status = (
        OrderStatus.REFUNDED if order.refunded_fen == order.total_fen else OrderStatus.PARTIALLY_REFUNDED
    )
    order.save(update_fields=["refunded_fen", "status"])
    return event
