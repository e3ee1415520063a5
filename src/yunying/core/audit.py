"""The operator audit trail (S5) and the personal-data access log (S3).

`audit_record` writes one append-only row per operator action, in the caller's transaction, so the
row commits with the change and rolls back with it. `pii_access_record` records who read a member's
personal data in clear; every path that reveals it calls it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from yunying.core.chain import ACCESS_CHAIN, AUDIT_CHAIN, chain_append
from yunying.core.models import AuditEntry, PersonalDataAccess
from yunying.core.permissions import Actor, Role
from yunying.core.requestid import request_id
from yunying.core.scrub import scrub_personal

# Actions a member takes, directly or through the storefront's integration key, are the member's own:
# the sign-up history records them. The audit trail is for what the operations team (and the
# automation acting for it) does.
_NOT_OPERATORS = {Role.INTEGRATION}


def is_operator(actor: Actor) -> bool:
    return actor.kind != "member" and actor.role not in _NOT_OPERATORS


def audit_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the fields whose value changed, as (before, after)."""
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry | None:
    """Record an operator action. Must run inside the transaction that makes the change, so the row
    and the change commit or roll back together; callers pass only masked personal data.

    Returns None (nothing written) for a member's own action (see _NOT_OPERATORS)."""
    if not is_operator(actor):
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record runs inside the transaction of the change it records")
    entry = AuditEntry(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:150],
        actor_role=str(actor.role or ""),
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        before=dict(before or {}),
        after=dict(after or {}),
        reason=scrub_personal(reason)[:500],  # operators' words, read by every auditor without a reveal
        request_id=request_id(),
    )
    chain_append(AUDIT_CHAIN, AuditEntry, [entry])
    entry.save(force_insert=True)
    return entry


# The database refuses UPDATE and DELETE of audit rows. Flushing the whole database (the test runner,
# `yunying flush`) still empties the table: TRUNCATE fires no row trigger on PostgreSQL, and the
# SQLite backend drops and re-creates its triggers around its DELETE (core.sqlite_backend).
AUDIT_TABLE = "core_auditentry"
ALERT_TABLE = "core_alert"  # core.alerts: security alerts are evidence too
CONSENT_TABLE = "members_consentrecord"  # members.ConsentRecord: evidence of what a member agreed to (M3)
CONSENT_EVENT_TABLE = "members_consentevent"  # members.ConsentEvent: per-purpose grants and withdrawals
ACCESS_TABLE = "core_personaldataaccess"  # reads of personal data in clear (S3), hash-chained like audit
APPEND_ONLY_TABLES = (AUDIT_TABLE, ALERT_TABLE, CONSENT_TABLE, CONSENT_EVENT_TABLE, ACCESS_TABLE)


def append_only_sql(vendor: str, *, drop: bool = False, table: str = AUDIT_TABLE) -> list[str]:
    """The statements that make `table` append-only on this engine (or undo that)."""
    if vendor == "sqlite":
        if drop:
            return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        if drop:
            return [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP FUNCTION IF EXISTS {table}_append_only()",
            ]
        return [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} rows are append-only'; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ]
    return []


def append_only_ensure(connection) -> None:
    """Make every table of APPEND_ONLY_TABLES append-only again, idempotently; run after every migrate
    (core.apps). On SQLite a migration that adds or alters a column rebuilds the table, and the
    rebuilt table has no triggers: without this, one AddField silently made the audit trail editable."""
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for table in APPEND_ONLY_TABLES:
            if table in existing:
                for statement in append_only_sql(connection.vendor, drop=True, table=table):
                    cursor.execute(statement)
                for statement in append_only_sql(connection.vendor, table=table):
                    cursor.execute(statement)


_ACTOR = re.compile(r"^(?P<kind>[a-z_]+):(?P<id>\d{1,18})$")


def audit_list(
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Audit rows, newest first. `actor` is "<kind>:<id>" (api_key:3) or an exact actor label; a
    `since` / `until` date means that day's start / end in the configured time zone."""
    query = AuditEntry.objects.order_by("-id")
    if actor:
        match = _ACTOR.match(actor)
        if match:
            query = query.filter(actor_kind=match["kind"], actor_id=int(match["id"]))
        else:
            query = query.filter(actor_label=actor)
    if action:
        # "campaign" finds every campaign.* action; "campaign.cancel" that one.
        query = (
            query.filter(action=action) if "." in action else query.filter(action__startswith=f"{action}.")
        )
    if object_type:
        query = query.filter(object_type=object_type)
    if object_id:
        query = query.filter(object_id=object_id)
    if since is not None:
        query = query.filter(at__gte=_instant(since, end=False))
    if until is not None:
        query = query.filter(at__lt=_instant(until, end=True))
    return query


# Instants outside these bounds match every row or none; clamping keeps the UTC conversion of a
# year-1 or year-9999 filter from overflowing (a 500 otherwise).
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9998, 12, 31, tzinfo=UTC)


def _instant(value: date | datetime, *, end: bool) -> datetime:
    """An instant as given (naive ones in the configured zone); a date: its start, or its end."""
    if not isinstance(value, datetime):
        value = datetime.combine(min(max(value, _EARLIEST.date()), _LATEST.date()), time.min)
        value += timedelta(days=1) if end else timedelta(0)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=timezone.get_current_timezone())
    return min(max(value, _EARLIEST), _LATEST)


def pii_access_record(*, actor: Actor, member_ids: Iterable[int], fields: list[str], purpose: str) -> int:
    """Record reads of members' personal data in clear, one chained row per member."""
    rows = [
        PersonalDataAccess(
            member_id=member_id,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label[:150],
            actor_role=str(actor.role or ""),
            fields=fields,
            purpose=purpose[:200],
            request_id=request_id(),
        )
        for member_id in sorted(set(member_ids))
    ]
    # Hashed in order before the insert, under the chain's lock (held to the caller's commit).
    with transaction.atomic():
        chain_append(ACCESS_CHAIN, PersonalDataAccess, rows)
        PersonalDataAccess.objects.bulk_create(rows)
    from yunying.core.purposes import reveal_volume_record  # purposes → alerts → models: not at import

    reveal_volume_record(actor, len(rows))
    return len(rows)


def pii_access_list(
    *, member_id: int | None = None, actor: str | None = None
) -> QuerySet[PersonalDataAccess]:
    """Who read members' personal data in clear, newest first; `actor` as in audit_list."""
    query = PersonalDataAccess.objects.order_by("-id")
    if member_id is not None:
        query = query.filter(member_id=member_id)
    if actor:
        match = _ACTOR.match(actor)
        if match:
            query = query.filter(actor_kind=match["kind"], actor_id=int(match["id"]))
        else:
            query = query.filter(actor_label=actor)
    return query
