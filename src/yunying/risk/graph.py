"""The shared-attribute graph (R1): members are linked when they share a device, payer, address or
identity number, or by an invite edge. Each node (a member, "m:<ref>", or an attribute,
"device:<hash>") belongs to one component; linking merges components into the oldest, so the size of
a member's ring is one count away. Rings show as big components, invite cycles (A invites B invites
C invites A) and chains of small first orders.

Events that share a node are serialised (SQLite's one writer; on PostgreSQL an advisory lock per
node key, taken in one order), so two events first seeing one device at once end in one component;
merges lock the components involved in id order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from yunying.core.rows import row_insert, rows_insert, rows_values
from yunying.risk.models import Component, Invite, Node

SMALL_FIRST_ORDER_FEN = 1000  # ¥10: the first order a brushing ring places to look like a buyer
INVITE_WALK = 12  # an invite chain longer than this is walked no further (a cycle is found before)


@dataclass(frozen=True)
class GraphFacts:
    component_size: int = 0
    small_first_orders: int = 0
    invite_cycle: bool = False
    first_seen_at: datetime | None = None


def _member_key(ref: str) -> str:
    return f"m:{ref}"


def graph_link(
    *, member_ref: str, attribute_keys: list[str], invited_by: str, at: datetime, order_fen: int | None
) -> GraphFacts:
    """Link a member to its attributes (and its inviter) and answer what the graph says of them.
    Runs inside the caller's transaction, on every judged event: hence core.rows and one hand-written
    count (a profile showed the ORM's statement building was most of the engine's time)."""
    if not member_ref:
        return GraphFacts()
    me = _member_key(member_ref)
    wanted = [me, *attribute_keys]
    invited = bool(invited_by) and invited_by != member_ref
    if invited:
        wanted.append(_member_key(invited_by))
        rows_insert([Invite(invitee=member_ref, inviter=invited_by)], skip_conflicts=True)
    if connection.vendor == "postgresql":
        _lock_keys(wanted)
    found = {key: (component, seen) for key, component, seen in rows_values(Node, ("key", "component_id", "first_seen_at"), key=wanted)}  # fmt: skip
    components = sorted({component for component, _seen in found.values()})
    target = _merge(components) if components else row_insert(Component()).pk
    missing = [key for key in wanted if key not in found]
    if missing:
        rows_insert(
            [Node(key=key, component_id=target, first_seen_at=at) for key in missing], skip_conflicts=True
        )
    if order_fen is not None:
        Node.objects.filter(key=me, first_order_fen__isnull=True).update(first_order_fen=order_fen)
    if components:
        members, small = _component_counts(target)
    else:  # a component made just now holds this member alone
        members, small = 1, int(order_fen is not None and order_fen <= SMALL_FIRST_ORDER_FEN)
    known = me in found
    return GraphFacts(
        component_size=members,
        small_first_orders=small,
        # An invite row is written with the invitee's node: a member first seen now, not invited now,
        # has none, and no walk is needed.
        invite_cycle=invite_cycle(member_ref) if known or invited else False,
        first_seen_at=found[me][1] if known else at,
    )


def _lock_keys(keys: list[str]) -> None:
    """Serialise the events that share a node (PostgreSQL; SQLite's one writer already does): two
    farm accounts first seen on one new device at once each read "no such device", one insert was
    skipped, and the ring stayed split in two. Transaction-scoped advisory locks, taken in one order so
    two events never wait for each other."""
    ids = sorted({int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True) for key in keys})  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY k) AS ordered",
            [ids],
        )


def _merge(components: list[int]) -> int:
    """Merge the components into the oldest and return it. Locking them in id order keeps two merges
    from deadlocking; SQLite needs no lock (the transaction holds its one write lock already)."""
    if connection.vendor == "sqlite":
        locked = components
    else:
        locked = list(Component.objects.select_for_update().filter(id__in=components).order_by("id").values_list("id", flat=True))  # fmt: skip
    if not locked:  # merged away by a concurrent event: start afresh
        return row_insert(Component()).pk
    target, others = locked[0], [pk for pk in components if pk != locked[0]]
    if others:
        Node.objects.filter(component_id__in=others).update(component_id=target)
        Component.objects.filter(id__in=others).delete()
    return target


def _component_counts(component_id: int) -> tuple[int, int]:
    """(members, members whose first order was small) in one component."""
    q = connection.ops.quote_name
    sql = f"""
        SELECT COUNT(*), SUM(CASE WHEN {q("first_order_fen")} <= %s THEN 1 ELSE 0 END)
        FROM {q(Node._meta.db_table)} WHERE {q("component_id")} = %s AND SUBSTR({q("key")}, 1, 2) = 'm:'
    """  # noqa: S608 (names are ours; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [SMALL_FIRST_ORDER_FEN, component_id])
        members, small = cursor.fetchone()
    return int(members or 0), int(small or 0)


def invite_cycle(member_ref: str) -> bool:
    """Whether following who invited whom from this member leads back to it."""
    seen = {member_ref}
    current = member_ref
    for _ in range(INVITE_WALK):
        inviters = rows_values(Invite, ("inviter",), invitee=current)
        if not inviters:
            return False
        current = inviters[0][0]
        if current == member_ref:
            return True
        if current in seen:
            return False  # a cycle further up that does not pass through this member
        seen.add(current)
    return False
