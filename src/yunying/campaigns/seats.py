"""The capacity guard (C7): seats are taken and given back on the campaign row, in the database, in
every deployment.

Every function here runs inside the caller's transaction and changes only database rows, so a rollback
undoes it by itself: nothing outside the database is taken during an admission, and nothing can
outlive a failed one. (An earlier design kept the count in Redis; a Redis restart or a failed commit
could then over-admit or leave seats taken. DESIGN: Redis may refuse early, never admit alone — and
since every sign-up reads the campaign row anyway, that row already gives the early "full" answer.)

Each guard is one conditional statement that also checks the campaign's state and sign-up window, so
a sign-up can never commit after the campaign was closed, cancelled or drawn:

- `seat_take` — `UPDATE … SET seats_taken = seats_taken + n WHERE … AND seats_taken + n <= capacity`.
- `entry_hold` — for a sign-up that takes no seat (review, lottery, waiting list): the row read under a
  share lock on PostgreSQL, so a close, cancel or draw waits for the sign-up to commit and then sees it.

Lock order, to rule out deadlocks: a transaction that changes existing sign-ups of a campaign locks
the campaign row first (`campaign_lock`, or its own conditional UPDATE of the row). `signup_create`
inserts its new sign-up before its guard — a row nobody else can hold — so the campaign row's lock is
held only from the guard to the commit (DESIGN: the hot row is held as briefly as possible).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from yunying.campaigns.models import Campaign, CampaignStatus, Signup, SignupStatus

_TABLE = Campaign._meta.db_table
_OPEN = "status = 'published' AND signup_start_at <= %s AND signup_end_at > %s"
# Written out, not built by the ORM: it runs on every sign-up, while the campaign row is locked.
_SEAT_SQL = (
    f"UPDATE {_TABLE} SET seats_taken = seats_taken + %s "  # noqa: S608 (no input in the text)
    f"WHERE id = %s AND {_OPEN} AND seats_taken + %s <= capacity"
)
_HOLD_SQL = f"SELECT seats_taken, capacity FROM {_TABLE} WHERE id = %s AND {_OPEN}"  # noqa: S608

# Statuses in which a campaign still gives seats to sign-ups already in (review approvals, draws,
# waiting-list promotions); new sign-ups need it open (published and inside its window).
SEATED_STATUSES = (CampaignStatus.PUBLISHED, CampaignStatus.CLOSED)


def seat_take(campaign_id: int, *, now: datetime, count: int = 1) -> bool:
    """Take `count` seats for new sign-ups if the campaign is open now and has room. The WHERE clause
    is the guard: applied with the row locked, so concurrent callers never take more than there are."""
    with connection.cursor() as cursor:
        cursor.execute(_SEAT_SQL, [count, campaign_id, now, now, count])
        return cursor.rowcount == 1


@dataclass(frozen=True)
class Held:
    seats_taken: int
    capacity: int

    @property
    def full(self) -> bool:
        return self.seats_taken >= self.capacity


def entry_hold(campaign_id: int, *, now: datetime) -> Held | None:
    """The campaign's seat count if it is open now, else None; on PostgreSQL the row stays share-locked
    until commit, so a concurrent close, cancel, draw or seat release waits for this sign-up (SQLite
    runs one writer at a time: the read inside the write transaction is enough)."""
    sql = _HOLD_SQL + (" FOR SHARE" if connection.vendor == "postgresql" else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign_id, now, now])
        row = cursor.fetchone()
    return Held(*row) if row else None


def seats_take(campaign_id: int, count: int = 1) -> bool:
    """Take seats for sign-ups already in (approval, draw, promotion into new capacity): the campaign
    must be published or closed — never cancelled or finished — and have room."""
    return bool(
        Campaign.objects.filter(
            pk=campaign_id, status__in=SEATED_STATUSES, seats_taken__lte=F("capacity") - count
        ).update(seats_taken=F("seats_taken") + count)
    )


def seat_release(campaign_id: int) -> None:
    """Give one seat back (a confirmed sign-up left and nobody was waiting)."""
    Campaign.objects.filter(pk=campaign_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)


def campaign_lock(campaign_id: int) -> Campaign | None:
    """Lock the campaign row for this transaction (the first lock of any change to its sign-ups)."""
    return Campaign.objects.select_for_update(no_key=True).filter(pk=campaign_id).first()


def seats_sync(*, campaign_ids: list[int] | None = None) -> int:
    """Set Campaign.seats_taken to the confirmed count where they differ; returns how many rows were
    corrected. They never differ unless a row was edited by hand: `yunying repair-counters` checks."""
    confirmed = (
        Signup.objects.filter(campaign=OuterRef("pk"), status=SignupStatus.CONFIRMED)
        .values("campaign")
        .annotate(n=Count("id"))
        .values("n")
    )
    query = Campaign.objects.all()
    if campaign_ids is not None:
        query = query.filter(pk__in=campaign_ids)
    return query.exclude(seats_taken=Coalesce(Subquery(confirmed), 0)).update(
        seats_taken=Coalesce(Subquery(confirmed), 0)
    )
