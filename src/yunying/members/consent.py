"""The privacy notice a member accepts, versioned, and consent per purpose (M3, N3).

Two append-only records, both kept by the database (triggers, core.audit):
- ConsentRecord: the member accepted version V of the notice (with the optional choices ticked on
  that page). A member whose latest acceptance is of an older version is asked again before
  anything more is collected.
- ConsentEvent: the member granted or withdrew one purpose (service, marketing, analytics, sensitive
  data) under version V, when, through which channel, from which keyed-hashed address. The latest
  event per purpose is the member's current choice; no event means not granted. Withdrawing is one
  call, as granting is, and effective at once: every reader (marketing_allowed, the outbox's check
  at delivery time) reads the table, nothing cached.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yunying.core.crypto import blind_index
from yunying.core.errors import DomainError
from yunying.members.errors import ConsentError, SigninError
from yunying.members.identity import identity_forget
from yunying.members.models import ConsentEvent, ConsentPurpose, ConsentRecord, Member

PURPOSES = tuple(ConsentPurpose)
OPTIONAL_PURPOSES = (ConsentPurpose.MARKETING, ConsentPurpose.ANALYTICS, ConsentPurpose.SENSITIVE)
CHANNELS = ("h5", "api", "console")
# How a consent was given, in words (stored rows also hold "migration", from the data import).
CHANNEL_LABELS = {
    "h5": _("H5 pages"),
    "api": _("Storefront or app (API)"),
    "console": _("Operator console"),
    "migration": _("Data migration"),
}


def policy_version() -> str:
    return settings.PRIVACY_POLICY_VERSION


def consent_latest(member: Member) -> ConsentRecord | None:
    return ConsentRecord.objects.filter(member=member).order_by("-id").first()


def consent_current(member: Member) -> ConsentRecord | None:
    """The member's acceptance of the notice in force, or None (never accepted, or an older one)."""
    latest = consent_latest(member)
    return latest if latest is not None and latest.policy_version == policy_version() else None


def _ip_hash(client_ip: str | None) -> str:
    return blind_index(client_ip, context="consent.client_ip") if client_ip else ""


def _latest_events(member: Member) -> dict[str, ConsentEvent]:
    latest: dict[str, ConsentEvent] = {}
    for event in ConsentEvent.objects.filter(member=member).order_by("id"):
        latest[event.purpose] = event
    return latest


def _events_for(
    member: Member, choices: dict[str, bool], *, version: str, channel: str, client_ip: str | None
) -> list[ConsentEvent]:
    """The events that record `choices`: one per purpose whose state or notice version changed, so
    the history reads as what the member did, not as every page they submitted."""
    latest = _latest_events(member)
    now = timezone.now()
    events = []
    for purpose, granted in choices.items():
        before = latest.get(purpose)
        if before is None and not granted:
            continue  # never granted: nothing to withdraw
        if before is not None and before.granted == granted and before.policy_version == version:
            continue
        events.append(
            ConsentEvent(
                member=member, purpose=purpose, granted=granted, policy_version=version,
                channel=channel, ip_hash=_ip_hash(client_ip), at=now,
            )
        )  # fmt: skip
    return events


def consent_record(
    *,
    member: Member,
    version: str,
    marketing: bool,
    sensitive: bool,
    client_ip: str | None,
    analytics: bool = False,
    channel: str = "h5",
    grants_only: bool = False,
) -> ConsentRecord:
    """Record that `member` accepted notice `version` (the one they were shown), with the optional
    purposes as ticked on that page.

    `grants_only`: the page was filled before signing in (a new device), when we could not show the
    member what they had agreed to: a box left unticked there withdraws nothing they granted before —
    withdrawing is done in their centre, knowingly.

    Raises: consent.stale_version (they read a notice no longer in force)."""
    if version != policy_version():
        raise DomainError(SigninError.CONSENT_STALE, version=version, current=policy_version())
    if grants_only and consent_latest(member) is not None:
        held = consent_state(member)
        marketing = marketing or held.get(ConsentPurpose.MARKETING, False)
        analytics = analytics or held.get(ConsentPurpose.ANALYTICS, False)
        sensitive = sensitive or held.get(ConsentPurpose.SENSITIVE, False)
    choices = {
        ConsentPurpose.SERVICE: True,
        ConsentPurpose.MARKETING: bool(marketing),
        ConsentPurpose.ANALYTICS: bool(analytics),
        ConsentPurpose.SENSITIVE: bool(sensitive),
    }
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            member=member,
            policy_version=version,
            marketing=bool(marketing),
            sensitive=bool(sensitive),
            ip_hash=_ip_hash(client_ip),
            accepted_at=timezone.now(),
        )
        events = _events_for(member, choices, version=version, channel=channel, client_ip=client_ip)
        ConsentEvent.objects.bulk_create(events)
        _sensitive_withdrawn(member, events)
    return record


def consent_change(
    *, member: Member, purpose: str, granted: bool, channel: str, client_ip: str | None
) -> ConsentEvent | None:
    """Grant or withdraw one optional purpose, effective at once; returns the event written, or
    None when the member's choice already was that (nothing to record).

    Raises: consent.purpose_unknown, consent.purpose_required (service cannot be withdrawn here:
    it is being a member at all), consent.notice_not_accepted (grant before accepting the notice)."""
    if purpose not in ConsentPurpose.values:
        raise DomainError(ConsentError.PURPOSE_UNKNOWN, purpose=purpose[:40])
    if purpose == ConsentPurpose.SERVICE:
        raise DomainError(ConsentError.PURPOSE_REQUIRED, purpose=purpose)
    if channel not in CHANNELS:
        raise ValueError(f"unknown consent channel {channel!r}")
    if granted and consent_current(member) is None:
        raise DomainError(ConsentError.NOTICE_NOT_ACCEPTED)
    with transaction.atomic():
        # The member's row locked: two taps at once cannot both read "withdrawn" and both grant.
        Member.objects.select_for_update().filter(pk=member.pk).first()
        events = _events_for(
            member, {purpose: bool(granted)}, version=policy_version(), channel=channel, client_ip=client_ip
        )
        if not events:
            return None
        events[0].save()
        _sensitive_withdrawn(member, events)
        return events[0]


def _sensitive_withdrawn(member: Member, events: list[ConsentEvent]) -> None:
    """Sensitive information is held only while its separate consent stands (PIPL Art. 29): its
    withdrawal erases the real-name check in the same transaction."""
    if any(e.purpose == ConsentPurpose.SENSITIVE and not e.granted for e in events):
        identity_forget(member.pk)


def consent_state(member: Member) -> dict[str, bool]:
    """Each purpose → granted now (the latest event; none is not granted)."""
    latest = _latest_events(member)
    return {str(p): bool(latest[p].granted) if p in latest else False for p in PURPOSES}


def consent_history(member: Member) -> list[ConsentEvent]:
    """Every grant and withdrawal of the member, newest first."""
    return list(ConsentEvent.objects.filter(member=member).order_by("-id"))


# Ids per query: an audience can be a million members, and SQLite takes at most 32,766 parameters.
IDS_PER_QUERY = 5000


def purpose_allowed(member_ids: set[int], purpose: str) -> set[int]:
    """The members among `member_ids` whose latest event for `purpose` is a grant: one query per
    IDS_PER_QUERY members."""
    latest = ConsentEvent.objects.filter(member_id=OuterRef("member_id"), purpose=purpose).order_by("-id")
    ordered = sorted(member_ids)
    allowed: set[int] = set()
    for start in range(0, len(ordered), IDS_PER_QUERY):
        rows = (
            ConsentEvent.objects.filter(member_id__in=ordered[start : start + IDS_PER_QUERY], purpose=purpose)
            .filter(id=Subquery(latest.values("id")[:1]))
            .filter(granted=True)
            .values_list("member_id", flat=True)
        )
        allowed.update(rows)
    return allowed


def marketing_allowed(member_ids: set[int]) -> set[int]:
    """The members among `member_ids` who agreed to marketing and have not withdrawn (N3)."""
    return purpose_allowed(set(member_ids), ConsentPurpose.MARKETING)


def consent_check(member_ids: set[int], purpose: str) -> set[int]:
    """The check the outbox runs at delivery time (registered from members.apps): a service
    message goes to every member; any other purpose only to members who granted it."""
    if purpose == ConsentPurpose.SERVICE:
        return set(member_ids)
    return purpose_allowed(set(member_ids), purpose)
