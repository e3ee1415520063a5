"""Reads of order facts for other apps and the pages (never writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet, Sum

from yunying.commerce.errors import OrderError
from yunying.commerce.models import Order, OrderEvent, OrderLine, OrderStatus
from yunying.core.errors import DomainError


def member_orders(member_id: int) -> QuerySet[Order]:
    """A member's orders, newest first, with their lines."""
    return Order.objects.filter(member_id=member_id).order_by("-paid_at", "-id").prefetch_related("lines")


@dataclass(frozen=True)
class PurchaseSummary:
    orders: int  # orders not cancelled
    paid_fen: int  # paid, less refunds, of orders not cancelled
    first_paid_at: datetime | None
    last_paid_at: datetime | None


def member_purchase_summary(
    member_id: int, *, since: datetime | None = None, until: datetime | None = None
) -> PurchaseSummary:
    """What a member bought in [since, until): the count of orders not cancelled and what they paid
    net of refunds."""
    query = Order.objects.filter(member_id=member_id).exclude(status=OrderStatus.CANCELLED)
    if since is not None:
        query = query.filter(paid_at__gte=since)
    if until is not None:
        query = query.filter(paid_at__lt=until)
    totals = query.aggregate(
        orders=Count("id"),
        paid=Sum("total_fen"),
        refunded=Sum("refunded_fen"),
        first=Min("paid_at"),
        last=Max("paid_at"),
    )
    return PurchaseSummary(
        orders=totals["orders"],
        paid_fen=(totals["paid"] or 0) - (totals["refunded"] or 0),
        first_paid_at=totals["first"],
        last_paid_at=totals["last"],
    )


def member_has_orders(member_id: int) -> bool:
    """True once a member has any order that was not cancelled (for "first order only")."""
    return Order.objects.filter(Q(member_id=member_id) & ~Q(status=OrderStatus.CANCELLED)).exists()


def order_get(external_id: str) -> Order:
    """An order by the storefront's id, with its lines and events (for presenting it in full).

    Raises: order.not_found."""
    order = (
        Order.objects.filter(external_id=external_id)
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("line_no")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("pk").select_related("line")),
        )
        .first()
    )
    if order is None:
        raise DomainError(OrderError.NOT_FOUND)
    return order
