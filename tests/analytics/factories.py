"""Members and order facts for the analytics tests, written straight to their tables: these tests
are about what analytics computes from the facts, not how the facts arrive (commerce's ingest)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from yunying.commerce.models import Order, OrderStatus
from yunying.members.models import Member

_ids = itertools.count(1)


def member(*, now: datetime, registered_days_ago: float = 400, **fields) -> Member:
    made = Member.objects.create(external_id=f"m{next(_ids)}", **fields)
    created_at = now - timedelta(days=registered_days_ago)
    Member.objects.filter(pk=made.pk).update(created_at=created_at)
    made.created_at = created_at
    return made


def order(
    who: Member,
    *,
    now: datetime,
    days_ago: float,
    total_fen: int,
    refunded_fen: int = 0,
    status: str = OrderStatus.PAID,
) -> Order:
    n = next(_ids)
    return Order.objects.create(
        external_id=f"o{n}",
        member=who,
        paid_at=now - timedelta(days=days_ago),
        total_fen=total_fen,
        refunded_fen=refunded_fen,
        status=status,
        fingerprint=f"f{n}",
    )
