"""The shared-attribute graph (R1): members are linked when they share a device, payer, address or
identity number, or by an invite edge. Each node (a member, "m:<ref>", or an attribute,
"device:<hash>") belongs to one component; linking merges components into the oldest, so the size of
a member's ring is one count away. Rings show as big components, invite cycles (A invites B invites
C invites A) and chains of small first orders.

Concurrent merges lock the components involved in id order; a lost race on a node's first insert is
ignored (the node exists, in a component another event just made): the graph is a signal, a member
may read a moment-old size, never a wrong decision by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

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
    Runs inside the caller's transaction."""
    if not member_ref:
        return GraphFacts()
    me = _member_key(member_ref)
    wanted = [me, *attribute_keys]
    if invited_by and invited_by != member_ref:
        wanted.append(_member_key(invited_by))
        Invite.objects.get_or_create(invitee=member_ref, defaults={"inviter": invited_by})
    found = dict(Node.objects.filter(key__in=wanted).values_list("key", "component_id"))
    components = sorted(set(found.values()))
    if components:
        # The oldest component absorbs the others; locking them in id order keeps two merges from
        # deadlocking (a no-op on SQLite, whose write lock the transaction already holds).
        locked = list(Component.objects.select_for_update().filter(id__in=components).order_by("id").values_list("id", flat=True))  # fmt: skip
        target = locked[0] if locked else Component.objects.create().pk
        others = [pk for pk in components if pk != target]
        if others:
            Node.objects.filter(component_id__in=others).update(component_id=target)
            Component.objects.filter(id__in=others).delete()
    else:
        target = Component.objects.create().pk
    missing = [key for key in wanted if key not in found]
    if missing:
        Node.objects.bulk_create(
            [Node(key=key, component_id=target, first_seen_at=at) for key in missing], ignore_conflicts=True
        )
    if order_fen is not None:
        Node.objects.filter(key=me, first_order_fen__isnull=True).update(first_order_fen=order_fen)
    counts = Node.objects.filter(component_id=target).aggregate(
        members=Count("id", filter=Q(key__startswith="m:")),
        small=Count("id", filter=Q(key__startswith="m:", first_order_fen__lte=SMALL_FIRST_ORDER_FEN)),
    )
    first_seen = Node.objects.filter(key=me).values_list("first_seen_at", flat=True).first()
    return GraphFacts(
        component_size=counts["members"],
        small_first_orders=counts["small"],
        invite_cycle=invite_cycle(member_ref),
        first_seen_at=first_seen,
    )


def invite_cycle(member_ref: str) -> bool:
    """Whether following who invited whom from this member leads back to it."""
    seen = {member_ref}
    current = member_ref
    for _ in range(INVITE_WALK):
        current = Invite.objects.filter(invitee=current).values_list("inviter", flat=True).first()
        if current is None:
            return False
        if current == member_ref:
            return True
        if current in seen:
            return False  # a cycle further up that does not pass through this member
        seen.add(current)
    return False
