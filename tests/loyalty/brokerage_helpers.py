"""Shortcuts for the brokerage tests: members, promoters, bindings and orders through the services."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from tests.commerce.helpers import ingest, order_payload
from yunying.core.permissions import Actor, Role
from yunying.loyalty import brokerage
from yunying.loyalty.models import CommissionEntry, Promoter
from yunying.members.models import Member

OPERATOR = Actor(kind="user", id=1, label="ops", role=Role.STRATEGY)
PAID_AT = "2026-12-01T10:00:00+08:00"
BEFORE_PAID = datetime.fromisoformat("2026-11-01T10:00:00+08:00")


def member(name: str) -> Member:
    return Member.objects.create(external_id=name)


def promoter(m: Member | None = None, *, partner: str = "", parent: Promoter | None = None) -> Promoter:
    return brokerage.promoter_create(
        member_id=m.pk if m else None,
        partner_name=partner,
        parent_code=parent.code if parent else "",
        actor=OPERATOR,
    )


def bind(m: Member, p: Promoter, *, at: datetime = BEFORE_PAID):
    return brokerage.member_bind(member_id=m.pk, code=p.code, source="code", actor=OPERATOR, now=at)


def buy(m: Member, external_id: str = "SO-1", *, lines=None, paid_at: str = PAID_AT):
    payload = order_payload(external_id)
    payload["member"] = {"external_id": m.external_id}
    payload["paid_at"] = paid_at
    if lines is not None:
        payload["lines"] = [
            {"sku": f"S{i}", "category": category, "unit_price_fen": paid, "quantity": 1, "paid_fen": paid}
            for i, (category, paid) in enumerate(lines)
        ]
    return ingest(payload).order


def owed(p: Promoter) -> int:
    return sum(CommissionEntry.objects.filter(promoter=p).values_list("amount_fen", flat=True))


def after_window() -> datetime:
    return timezone.now() + timedelta(days=60)
