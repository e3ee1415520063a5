"""What the member 360 page shows (M7), gathered from each domain's selectors: the page's view stays
thin, and the API's GET /members/{id} reads the same facts.
Consent is members.consent's: the state per purpose now and every grant and withdrawal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from yunying.analytics.selectors import member_segments
from yunying.campaigns import selectors as campaign_selectors
from yunying.campaigns.models import SignupStatus
from yunying.commerce import selectors as commerce
from yunying.commerce.models import OrderEventKind
from yunying.console.access import ROLE_LABELS, role_of
from yunying.core.audit import audit_list, pii_access_list
from yunying.core.audit_labels import actor_text, field_label
from yunying.core.models import ApiKey, PersonalDataAccess
from yunying.core.permissions import Role
from yunying.members import tags as member_tags
from yunying.members.consent import consent_history, consent_state
from yunying.members.models import ConsentPurpose, Member, TagKind

RECENT_ORDERS = 20
ACCESS_ROWS = 50
TIMELINE_ROWS = 100
# Operator actions on a member that belong on their timeline (look-ups and reveals are in the
# access log, which has its own section).
TIMELINE_ACTIONS = ("member.correct", "member.link", "member.tag_add", "member.tag_remove")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # signup | order | refund | cancel | consent | tag | correction: the icon and colour
    title: str
    detail: str = ""
    who: str = ""


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    who: str
    role: str
    fields: list[str]
    purpose: str


def access_rows(member_id: int, *, limit: int = ACCESS_ROWS) -> list[AccessRow]:
    """Who saw this member's data in clear, newest first, with the role they held (now): two
    queries for the operators and keys named, not one per row."""
    rows: list[PersonalDataAccess] = list(pii_access_list(member_id=member_id)[:limit])
    user_ids = {r.actor_id for r in rows if r.actor_kind == "user" and r.actor_id}
    key_ids = {r.actor_id for r in rows if r.actor_kind == "api_key" and r.actor_id}
    users = get_user_model().objects.filter(pk__in=user_ids).prefetch_related("groups")
    roles: dict[tuple[str, int], Role | None] = {("user", u.pk): role_of(u) for u in users}
    for key in ApiKey.objects.filter(pk__in=key_ids):
        # not `key.role in Role`: on Python 3.11 that raises TypeError for a str (new user review)
        roles[("api_key", key.pk)] = Role(key.role) if key.role in set(Role) else None
    labels = ROLE_LABELS | {Role.INTEGRATION: _("Integration")}
    return [
        AccessRow(
            at=r.at,
            who=actor_text(r.actor_kind, r.actor_label),
            role=str(labels.get(roles.get((r.actor_kind, r.actor_id)), "") or r.actor_kind),
            fields=list(r.fields),
            purpose=r.purpose,
        )
        for r in rows
    ]


def _timeline(member: Member, *, signup_events, orders, order_events, consents, tag_links) -> list:
    status_labels = dict(SignupStatus.choices)
    entries = [
        TimelineEntry(
            e.at,
            "signup",
            e.campaign.title,
            f"{status_labels.get(e.from_status, '—')} → {status_labels.get(e.to_status, e.to_status)}"
            + (f" · {e.reason}" if e.reason else ""),
            actor_text(e.actor_kind, e.actor_label),
        )
        for e in signup_events
    ]
    entries += [
        TimelineEntry(
            o.paid_at,
            "order",
            _("Order %(id)s") % {"id": o.external_id},
            _("paid ¥%(amount)s") % {"amount": fen_text(o.total_fen)},
        )
        for o in orders
    ]
    for e in order_events:
        if e.kind == OrderEventKind.REFUND:
            detail = _("refunded ¥%(amount)s") % {"amount": fen_text(e.amount_fen)}
            if e.line is not None:
                detail += f" · {e.line.sku} × {e.quantity}"
            entries.append(
                TimelineEntry(
                    e.occurred_at, "refund", _("Order %(id)s") % {"id": e.order.external_id}, detail
                )
            )
        else:
            entries.append(
                TimelineEntry(
                    e.occurred_at, "cancel", _("Order %(id)s") % {"id": e.order.external_id}, _("cancelled")
                )
            )
    entries += [
        TimelineEntry(
            c.at,
            "consent",
            (_("Consent granted: %(purpose)s") if c.granted else _("Consent withdrawn: %(purpose)s"))
            % {"purpose": c.get_purpose_display()},
            _("privacy notice %(version)s") % {"version": c.policy_version},
        )
        for c in consents
    ]
    # Manual tags have their operator's audit row (below); a rule-based tag's only trace is its link.
    entries += [
        TimelineEntry(link.added_at, "tag", _("Tagged %(tag)s") % {"tag": link.tag.name}, "", link.added_by)
        for link in tag_links
        if link.tag.kind != TagKind.MANUAL
    ]
    for entry in audit_list(object_type="member", object_id=str(member.pk)).filter(
        action__in=TIMELINE_ACTIONS
    )[:TIMELINE_ROWS]:
        if entry.action in ("member.tag_add", "member.tag_remove"):
            detail = str((entry.after if entry.action == "member.tag_add" else entry.before).get("tag", ""))
        else:
            changed = sorted(set(entry.before) | set(entry.after))
            detail = pgettext("list separator", ", ").join(field_label(field) for field in changed)
        entries.append(
            TimelineEntry(
                entry.at,
                "correction",
                str(ACTION_LABELS.get(entry.action, entry.action)),
                detail + (f" · {entry.reason}" if entry.reason else ""),
                actor_text(entry.actor_kind, entry.actor_label),
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:TIMELINE_ROWS]


ACTION_LABELS = {
    "member.correct": gettext_lazy("Profile corrected"),
    "member.link": gettext_lazy("Identifier linked"),
    "member.tag_add": gettext_lazy("Tag added"),
    "member.tag_remove": gettext_lazy("Tag removed"),
}


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def fen_text(fen: int) -> str:
    """Integer fen as yuan text with two decimals, without a float: 12345 → "123.45"."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def member_360(member: Member) -> dict:
    """Everything the 360 page shows besides the (masked or revealed) profile."""
    orders = list(commerce.member_orders(member.pk)[:RECENT_ORDERS])
    order_events = commerce.member_order_events(member.pk)
    signup_events = campaign_selectors.member_timeline(member.pk)
    consents = consent_history(member)  # grants and withdrawals, newest first
    tag_links = member_tags.member_tags(member.pk)
    return {
        "summary": commerce.member_purchase_summary(member.pk),
        "orders": orders,
        "signups": campaign_selectors.member_signups(member.pk),
        "tag_links": tag_links,
        "consents": consents,
        "consent_state": [(ConsentPurpose(p).label, granted) for p, granted in consent_state(member).items()],
        "segments": list(member_segments(member.pk)),
        "accesses": access_rows(member.pk),
        "timeline": _timeline(
            member,
            signup_events=signup_events,
            orders=orders,
            order_events=order_events,
            consents=consents,
            tag_links=tag_links,
        ),
    }
