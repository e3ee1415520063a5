"""Reads of a member's points for the API and the pages (no writes; loyalty.ledger writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from yunying.loyalty.models import PointAccount, PointLot, PointPosting

EXPIRING_SOON_DAYS = 30


@dataclass(frozen=True)
class PointsSummary:
    balance: int
    pending: int
    debt: int
    earned_total: int
    next_expiry_at: datetime | None  # the earliest date a spendable lot expires
    next_expiry_points: int  # what expires then
    expiring_soon: int  # what expires within EXPIRING_SOON_DAYS
    next_pending_at: datetime | None  # when the next pending points become spendable


def points_summary(member_id: int, *, now: datetime | None = None) -> PointsSummary:
    """A member with no account yet has nothing: zeros, not an error."""
    now = now or timezone.now()
    account = PointAccount.objects.filter(member_id=member_id).first()
    if account is None:
        return PointsSummary(0, 0, 0, 0, None, 0, 0, None)
    spendable = PointLot.objects.filter(account=account, remaining__gt=0, pending_until__isnull=True)
    first = (
        spendable.filter(expires_at__isnull=False)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    next_points = 0
    if first is not None:
        next_points = spendable.filter(expires_at=first).aggregate(total=Sum("remaining"))["total"] or 0
    soon = (
        spendable.filter(expires_at__lte=now + timedelta(days=EXPIRING_SOON_DAYS)).aggregate(
            total=Sum("remaining")
        )["total"]
        or 0
    )
    pending_at = (
        PointLot.objects.filter(account=account, remaining__gt=0, pending_until__isnull=False)
        .order_by("pending_until")
        .values_list("pending_until", flat=True)
        .first()
    )
    return PointsSummary(
        balance=account.balance,
        pending=account.pending,
        debt=account.debt,
        earned_total=account.earned_total,
        next_expiry_at=first,
        next_expiry_points=next_points,
        expiring_soon=soon,
        next_pending_at=pending_at,
    )


def points_lots(member_id: int) -> QuerySet[PointLot]:
    """The member's lots with points left, soonest-expiring first (the order they are spent in)."""
    return (
        PointLot.objects.filter(account__member_id=member_id, remaining__gt=0)
        .select_related("posting")
        .order_by(F("expires_at").asc(nulls_last=True), "earned_at", "id")
    )


def points_history(member_id: int) -> QuerySet[PointPosting]:
    """Every posting, newest first. MATURE postings (moving no points) are kept: they say when pending
    points became spendable."""
    return PointPosting.objects.filter(account__member_id=member_id).order_by("-created_at", "-id")
