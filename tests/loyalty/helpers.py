"""Points rules and ledger read-outs for the earning tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from django.db.models import Sum

from yunying.core.permissions import SYSTEM
from yunying.loyalty.models import PointAccount, PointPosting, PostingKind
from yunying.loyalty.rules import RulesInput, points_rules_save

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
BASE_RULES = RulesInput(
    points_per_unit=1,
    unit_fen=100,
    return_window_days=7,
    expiry_policy="year_end",
    expiry_years=1,
    signup_points=10,
    attendance_points=20,
    welcome_points=100,
    birthday_permille=2000,
    orders_paid_from=LONG_AGO,
)


def rules_set(**changes):
    return points_rules_save(values=replace(BASE_RULES, **changes), actor=SYSTEM)


def account(member_id: int) -> PointAccount:
    return PointAccount.objects.filter(member_id=member_id).first() or PointAccount(member_id=member_id)


def held(member_id: int) -> int:
    """Balance + pending: every point the member holds."""
    acc = account(member_id)
    return acc.balance + acc.pending


def earned_for(key: str) -> int:
    posting = PointPosting.objects.filter(business_key=key, kind=PostingKind.EARN).first()
    return posting.points if posting else 0


def reversed_for(key: str) -> int:
    """What reversals took back from the earning under `key` (taken + owed as debt)."""
    total = 0
    for taken, shortfall in PointPosting.objects.filter(
        related__business_key=key, kind=PostingKind.REVERSE
    ).values_list("points", "shortfall"):
        total += -taken + shortfall
    return total


def postings_sum(member_id: int) -> int:
    return PointPosting.objects.filter(account__member_id=member_id).aggregate(s=Sum("points"))["s"] or 0
