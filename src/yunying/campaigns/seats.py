"""The capacity counter (C7): where seats are taken and given back.

Two ledgers with one interface, chosen by settings.REDIS_URL:

- DatabaseSeats (default): the counter is `Campaign.seats_taken`, moved by one conditional UPDATE
  inside the admission transaction; a rollback gives the seat back by itself.
- RedisSeats: the counter, the set of members holding a sign-up and the in-flight admissions live in
  Redis and change in one atomic Lua script, so a flash crowd never queues on the campaign row. The
  database stays the source of truth: a seat is taken in Redis first, the durable database write
  follows before the member gets an answer, and a failed write gives the seat back. A process that
  dies between the two leaves an in-flight entry; `seats_repair` rebuilds Redis from the database,
  keeping only in-flight entries younger than a grace period, and never lets Redis count fewer seats
  than are confirmed in the database. In this mode `Campaign.seats_taken` is a derived copy refreshed
  by `seats_sync` (worker, repair), not the guard.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from yunying.campaigns.models import BLOCKING_STATUSES, Campaign, CampaignStatus, Signup, SignupStatus
from yunying.core.redis import redis_client

GRACE_SECONDS = 30  # an admission not committed after this long is taken for dead (crash)


class Admit(StrEnum):
    SEAT = "seat"  # took a seat: confirmed
    WAIT = "wait"  # no seat left, joined the waiting list
    ENTRY = "entry"  # no seat needed now (review or lottery)
    FULL = "full"  # no seat and no waiting list
    DUPLICATE = "duplicate"  # this member already holds a sign-up (Redis ledger only)


_TAKE_SQL = (
    f"UPDATE {Campaign._meta.db_table} SET seats_taken = seats_taken + %s "  # noqa: S608 (no input)
    "WHERE id = %s AND seats_taken + %s <= capacity"
)


class DatabaseSeats:
    """Seats on the campaign row; the caller holds the admission transaction."""

    name = "database"

    def admit(self, campaign: Campaign, member_id: int, *, want: str) -> Admit:
        if want == Admit.ENTRY:
            return Admit.ENTRY
        if self.take(campaign.pk):
            return Admit.SEAT
        return Admit.WAIT if campaign.waitlist_enabled else Admit.FULL

    def undo_admit(self, campaign_id: int, member_id: int, admitted: Admit) -> None:
        """Nothing to do: a failed admission abandons its transaction, and the rollback undoes the
        UPDATE (the transaction may be unusable by now, so no query may run here)."""

    def take(self, campaign_id: int, count: int = 1) -> bool:
        """The WHERE clause is the capacity guard: applied row-locked, so concurrent callers can
        never take more seats than there are."""
        # Written out, not built by the ORM: it runs on every sign-up, inside the write lock.
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_SQL, [count, campaign_id, count])
            return cursor.rowcount == 1

    def undo_take(self, campaign_id: int, count: int = 1) -> None:
        Campaign.objects.filter(pk=campaign_id).update(seats_taken=F("seats_taken") - count)

    def leave(self, campaign_id: int, member_id: int, *, release_seat: bool) -> None:
        if release_seat:
            Campaign.objects.filter(pk=campaign_id, seats_taken__gt=0).update(
                seats_taken=F("seats_taken") - 1
            )

    def taken(self, campaign: Campaign) -> int:
        return campaign.seats_taken

    def looks_full(self, campaign: Campaign) -> bool:
        """From the row just read: no extra query. A hint for an early refusal, never the guard."""
        return campaign.seats_taken >= campaign.capacity

    def capacity_grew(self, campaign_id: int, fill: Callable[[], object]) -> None:
        """More seats: fill them from the waiting list in the same transaction, before anyone else."""
        fill()


# KEYS: cap, seats, members, pending. ARGV: member, want ("seat" | "entry"), waitlist ("1"/"0").
# Returns the Admit value. "missing" means the campaign is not loaded yet.
_ADMIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 'duplicate' end
local now = redis.call('TIME')[1]
local outcome = 'entry'
if ARGV[2] == 'seat' then
  if tonumber(redis.call('GET', KEYS[2])) < tonumber(redis.call('GET', KEYS[1])) then
    redis.call('INCR', KEYS[2])
    outcome = 'seat'
  elseif ARGV[3] == '1' then
    outcome = 'wait'
  else
    return 'full'
  end
end
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], outcome .. ':' .. now)
return outcome
"""

# KEYS: seats, members, pending. ARGV: member, release seat ("1"/"0"). The member no longer holds a
# sign-up (withdrawn, rejected, or its admission failed to commit).
_LEAVE = """
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[2] == '1' and tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
"""

# KEYS: cap, seats. ARGV: count. Take seats without a new holder (review approval, promotions).
_TAKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local seats = tonumber(redis.call('GET', KEYS[2]))
if seats + tonumber(ARGV[1]) <= tonumber(redis.call('GET', KEYS[1])) then
  redis.call('INCRBY', KEYS[2], ARGV[1])
  return 1
end
return 0
"""

# KEYS: cap, seats, members, pending, staging (the database's holders, written just before).
# ARGV: capacity, confirmed in the database, grace seconds, force ("1": load only if missing).
# In-flight admissions (not in the database yet, younger than the grace) keep their seat and
# membership; older ones died with their process and are dropped.
_REPAIR = """
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[5])
  return {-1, -1}
end
local now = tonumber(redis.call('TIME')[1])
local extra, dropped = 0, 0
local pending = redis.call('HGETALL', KEYS[4])
for i = 1, #pending, 2 do
  local member, value = pending[i], pending[i + 1]
  local sep = string.find(value, ':')
  local outcome, at = string.sub(value, 1, sep - 1), tonumber(string.sub(value, sep + 1))
  if redis.call('SISMEMBER', KEYS[5], member) == 1 then
    redis.call('HDEL', KEYS[4], member)
  elseif now - at <= tonumber(ARGV[3]) then
    redis.call('SADD', KEYS[5], member)
    if outcome == 'seat' then extra = extra + 1 end
  else
    redis.call('HDEL', KEYS[4], member)
    dropped = dropped + 1
  end
end
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('RENAME', KEYS[5], KEYS[3])
else
  redis.call('DEL', KEYS[3])
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], tonumber(ARGV[2]) + extra)
return {extra, dropped}
"""


@lru_cache(maxsize=4)
def _scripts(url: str):
    client = redis_client(url)
    return {name: client.register_script(body) for name, body in [
        ("admit", _ADMIT), ("leave", _LEAVE), ("take", _TAKE), ("repair", _REPAIR),
    ]}  # fmt: skip


def _keys(campaign_id: int) -> dict[str, str]:
    # One hash tag per campaign: every key of a campaign lives on one Redis Cluster slot.
    tag = f"yy:{{c{campaign_id}}}"
    return {n: f"{tag}:{n}" for n in ("cap", "seats", "members", "pending", "staging")}


@dataclass(frozen=True)
class RepairResult:
    campaign_id: int
    confirmed: int
    seats: int
    in_flight: int
    dropped: int


# Campaigns this process found full, until when it trusts that without asking Redis again.
SEEN_FULL_SECONDS = 1.0
_seen_full: dict[int, float] = {}


class RedisSeats:
    name = "redis"

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def client(self) -> redis.Redis:
        return redis_client(self.url)

    def _run(self, script: str, keys: list[str], args: list) -> object:
        return _scripts(self.url)[script](keys=keys, args=args)

    def admit(self, campaign: Campaign, member_id: int, *, want: str) -> Admit:
        k = _keys(campaign.pk)
        args = [member_id, want, "1" if campaign.waitlist_enabled else "0"]
        for _ in range(2):
            outcome = self._run("admit", [k["cap"], k["seats"], k["members"], k["pending"]], args)
            if outcome == Admit.FULL:
                _seen_full[campaign.pk] = time.monotonic() + SEEN_FULL_SECONDS
            if outcome != "missing":
                return Admit(outcome)
            self.repair(campaign.pk, only_if_missing=True)
        raise RuntimeError(f"campaign {campaign.pk} could not be loaded into Redis")

    def undo_admit(self, campaign_id: int, member_id: int, admitted: Admit) -> None:
        """The database write failed: give the seat and the membership back at once."""
        if admitted in (Admit.SEAT, Admit.WAIT, Admit.ENTRY):
            self._leave_now(campaign_id, member_id, release_seat=admitted == Admit.SEAT)

    def take(self, campaign_id: int, count: int = 1) -> bool:
        k = _keys(campaign_id)
        taken = self._run("take", [k["cap"], k["seats"]], [count])
        if taken == -1:
            self.repair(campaign_id, only_if_missing=True)
            taken = self._run("take", [k["cap"], k["seats"]], [count])
        return taken == 1

    def undo_take(self, campaign_id: int, count: int = 1) -> None:
        self.client.decrby(_keys(campaign_id)["seats"], count)

    def _leave_now(self, campaign_id: int, member_id: int, *, release_seat: bool) -> None:
        k = _keys(campaign_id)
        self._run(
            "leave", [k["seats"], k["members"], k["pending"]], [member_id, "1" if release_seat else "0"]
        )

    def leave(self, campaign_id: int, member_id: int, *, release_seat: bool) -> None:
        # Only after the database commits: until then the seat is still held.
        transaction.on_commit(lambda: self._leave_now(campaign_id, member_id, release_seat=release_seat))

    def taken(self, campaign: Campaign) -> int:
        value = self.client.get(_keys(campaign.pk)["seats"])
        return int(value) if value is not None else campaign.seats_taken

    def looks_full(self, campaign: Campaign) -> bool:
        """Whether this process saw the campaign full within the last SEEN_FULL_SECONDS: no round
        trip (a GET per sign-up cost ~4 % of one). A hint for an early refusal, never the guard."""
        return time.monotonic() < _seen_full.get(campaign.pk, 0.0)

    def capacity_grew(self, campaign_id: int, fill: Callable[[], object]) -> None:
        """Redis learns the new capacity only once it is committed (a rolled-back raise must never
        admit more); then the waiting list fills the new seats."""

        def after_commit() -> None:
            self.repair(campaign_id)
            with transaction.atomic():
                fill()

        transaction.on_commit(after_commit)

    def repair(
        self, campaign_id: int, *, grace_seconds: int = GRACE_SECONDS, only_if_missing: bool = False
    ) -> RepairResult:
        """Rebuild this campaign's Redis state from the database (see the module docstring)."""
        campaign = Campaign.objects.get(pk=campaign_id)
        holders = list(
            Signup.objects.filter(campaign_id=campaign_id, status__in=BLOCKING_STATUSES).values_list(
                "member_id", flat=True
            )
        )
        confirmed = Signup.objects.filter(campaign_id=campaign_id, status=SignupStatus.CONFIRMED).count()
        k = _keys(campaign_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(k["staging"])
        for start in range(0, len(holders), 5000):
            pipe.sadd(k["staging"], *holders[start : start + 5000])
        pipe.execute()
        extra, dropped = self._run(
            "repair",
            [k["cap"], k["seats"], k["members"], k["pending"], k["staging"]],
            [campaign.capacity, confirmed, grace_seconds, "1" if only_if_missing else "0"],
        )
        return RepairResult(campaign_id, confirmed, confirmed + max(extra, 0), max(extra, 0), max(dropped, 0))


def ledger() -> DatabaseSeats | RedisSeats:
    """The active ledger, read from settings at each call (tests switch it)."""
    if settings.REDIS_URL:
        return RedisSeats(settings.REDIS_URL)
    return DatabaseSeats()


ACTIVE_STATUSES = [CampaignStatus.PUBLISHED, CampaignStatus.CLOSED]


def seats_sync(*, campaign_ids: list[int] | None = None) -> int:
    """Set Campaign.seats_taken to the confirmed count (Redis mode keeps it as a derived copy)."""
    confirmed = (
        Signup.objects.filter(campaign=OuterRef("pk"), status=SignupStatus.CONFIRMED)
        .values("campaign")
        .annotate(n=Count("id"))
        .values("n")
    )
    query = Campaign.objects.filter(status__in=ACTIVE_STATUSES)
    if campaign_ids is not None:
        query = Campaign.objects.filter(pk__in=campaign_ids)
    return query.exclude(seats_taken=Coalesce(Subquery(confirmed), 0)).update(
        seats_taken=Coalesce(Subquery(confirmed), 0)
    )


def seats_repair_all(*, grace_seconds: int = GRACE_SECONDS) -> tuple[int, list[RepairResult]]:
    """Refresh the rows' derived seat counts and, with Redis, rebuild Redis for every active campaign.
    Returns how many rows were corrected and the Redis results."""
    corrected = seats_sync()
    active = ledger()
    if not isinstance(active, RedisSeats):
        return corrected, []
    ids = Campaign.objects.filter(status__in=ACTIVE_STATUSES).values_list("pk", flat=True)
    return corrected, [active.repair(campaign_id, grace_seconds=grace_seconds) for campaign_id in ids]
