"""Velocity counters (R1): for each key of an event (its IP, /24, device, phone, identity, address,
payer hashes), how many events of that entry point in the last minute, hour and day, how many distinct
members in the last hour and day, and how many for the same campaign today.

Two stores behind one function, `velocity_record_and_count`: the database (the embedded default; one
insert and one grouped count) and Redis sorted sets when REDIS_URL is set (one pipelined round trip).
Both count the event itself, and both answer "as of `at`", so the backtest replays recorded time.
If Redis fails the database answers (a counter is a signal, not a guard).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import connection

from yunying.core.redis import redis_client
from yunying.risk.models import Hit

logger = logging.getLogger("yunying.risk")

DAY = 24 * 3600
WINDOWS = (("1m", 60), ("1h", 3600), ("24h", DAY))


# The key kinds every event has counts for: one the event lacks counts 0 (docs/risk.md "Signals").
# Not the campaign itself: in the database its counts would read every sign-up of a rush on every
# sign-up (quadratic); a campaign's rush is early warning's job, from the decisions.
KINDS = ("ip", "ip24", "device", "phone", "identity", "address", "building", "payer", "member")


def _zero() -> dict[str, int]:
    return {
        "events_1m": 0,
        "events_1h": 0,
        "events_24h": 0,
        "accounts_1h": 0,
        "accounts_24h": 0,
        "campaign_events": 0,
    }


def _database(keys: dict[str, str], *, entry: str, member_ref: str, campaign_ref: str, at: datetime) -> dict:
    table, key = Hit._meta.db_table, connection.ops.quote_name("key")
    adapt = connection.ops.adapt_datetimefield_value  # what the ORM stores, so comparisons agree
    # One row per key, written by hand: building nine model instances cost more than the insert.
    stored_at = adapt(at)
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(keys))
    insert = f"INSERT INTO {table} ({key}, entry, member_ref, campaign_ref, at) VALUES {rows}"  # noqa: S608
    since = {name: at - timedelta(seconds=seconds) for name, seconds in WINDOWS}
    placeholders = ", ".join(["%s"] * len(keys))
    # One grouped read for every key; "distinct members" ignores the empty ref (a member not known yet).
    sql = f"""
        SELECT {key},
               SUM(CASE WHEN entry = %s AND at > %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN entry = %s AND at > %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN entry = %s THEN 1 ELSE 0 END),
               COUNT(DISTINCT CASE WHEN at > %s AND member_ref <> '' THEN member_ref END),
               COUNT(DISTINCT CASE WHEN member_ref <> '' THEN member_ref END),
               SUM(CASE WHEN entry = %s AND campaign_ref = %s AND campaign_ref <> '' THEN 1 ELSE 0 END)
        FROM {table}
        WHERE {key} IN ({placeholders}) AND at > %s AND at <= %s
        GROUP BY {key}
    """  # noqa: S608 (the table name is ours; every value is a parameter)
    params = [
        entry,
        adapt(since["1m"]),
        entry,
        adapt(since["1h"]),
        entry,
        adapt(since["1h"]),
        entry,
        campaign_ref,
    ]
    params += [*keys.values(), adapt(since["24h"]), adapt(at)]
    by_key = {}
    with connection.cursor() as cursor:
        cursor.execute(
            insert, [v for k in keys.values() for v in (k, entry, member_ref, campaign_ref, stored_at)]
        )
        cursor.execute(sql, params)
        for key, e1m, e1h, e24h, a1h, a24h, camp in cursor.fetchall():
            by_key[key] = {
                "events_1m": int(e1m or 0),
                "events_1h": int(e1h or 0),
                "events_24h": int(e24h or 0),
                "accounts_1h": int(a1h or 0),
                "accounts_24h": int(a24h or 0),
                "campaign_events": int(camp or 0),
            }
    return {kind: by_key.get(key, _zero()) for kind, key in keys.items()}


def _redis(keys: dict[str, str], *, entry: str, member_ref: str, campaign_ref: str, at: datetime) -> dict:
    client = redis_client(settings.REDIS_URL)
    now = at.timestamp()
    event = uuid.uuid4().hex[:12]
    pipe = client.pipeline(transaction=False)
    for key in keys.values():
        events, accounts = f"risk:ev:{key}:{entry}", f"risk:ac:{key}"
        pipe.zadd(events, {event: now})
        pipe.zremrangebyscore(events, "-inf", now - DAY)
        for _name, seconds in WINDOWS:
            pipe.zcount(events, f"({now - seconds}", now)
        if member_ref:
            pipe.zadd(accounts, {member_ref: now})
        pipe.zremrangebyscore(accounts, "-inf", now - DAY)
        pipe.zcount(accounts, f"({now - 3600}", now)
        pipe.zcount(accounts, f"({now - DAY}", now)
        if campaign_ref:
            campaign = f"risk:cp:{key}:{entry}:{campaign_ref}"
            pipe.zadd(campaign, {event: now})
            pipe.zremrangebyscore(campaign, "-inf", now - DAY)
            pipe.zcount(campaign, f"({now - DAY}", now)
            pipe.expire(campaign, DAY + 60)
        pipe.expire(events, DAY + 60)
        pipe.expire(accounts, DAY + 60)
    replies = iter(pipe.execute())
    counts = {}
    for kind in keys:
        next(replies), next(replies)  # zadd, zremrangebyscore
        e1m, e1h, e24h = next(replies), next(replies), next(replies)
        if member_ref:
            next(replies)
        next(replies)
        a1h, a24h = next(replies), next(replies)
        camp = 0
        if campaign_ref:
            next(replies), next(replies)
            camp = next(replies)
            next(replies)
        next(replies), next(replies)  # expire, expire
        counts[kind] = {"events_1m": e1m, "events_1h": e1h, "events_24h": e24h, "accounts_1h": a1h, "accounts_24h": a24h, "campaign_events": camp}  # fmt: skip
    return counts


def velocity_record_and_count(
    keys: dict[str, str], *, entry: str, member_ref: str, campaign_ref: str, at: datetime
) -> dict[str, dict[str, int]]:
    """Record one event under each key and count, per key kind, what happened as of `at`; a kind of
    KINDS the event has no key for counts 0."""
    counts = {kind: _zero() for kind in KINDS}
    if not keys:
        return counts
    if settings.REDIS_URL:
        try:
            return counts | _redis(keys, entry=entry, member_ref=member_ref, campaign_ref=campaign_ref, at=at)
        except redis.RedisError as exc:
            logger.warning(
                "risk counters fell back to the database: Redis is not answering (%s)", type(exc).__name__
            )
    return counts | _database(keys, entry=entry, member_ref=member_ref, campaign_ref=campaign_ref, at=at)


def hits_prune(*, now: datetime) -> int:
    """Drop database hits older than the longest window (a periodic job)."""
    deleted, _ = Hit.objects.filter(at__lt=now - timedelta(seconds=DAY + 3600)).delete()
    return deleted
