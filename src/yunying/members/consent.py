"""The privacy notice a member accepts, versioned, and the record of each acceptance (M3).

Append-only: every acceptance is a new row (version, the optional marketing and sensitive-data
choices, when, a keyed hash of the address); the latest row is the member's current choice. A member
whose latest acceptance is of an older version is asked again before anything more is collected.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from yunying.core.crypto import blind_index
from yunying.core.errors import DomainError
from yunying.members.errors import SigninError
from yunying.members.models import ConsentRecord, Member


def policy_version() -> str:
    return settings.PRIVACY_POLICY_VERSION


def consent_latest(member: Member) -> ConsentRecord | None:
    return ConsentRecord.objects.filter(member=member).order_by("-id").first()


def consent_current(member: Member) -> ConsentRecord | None:
    """The member's acceptance of the notice in force, or None (never accepted, or an older one)."""
    latest = consent_latest(member)
    return latest if latest is not None and latest.policy_version == policy_version() else None


def consent_record(
    *, member: Member, version: str, marketing: bool, sensitive: bool, client_ip: str | None
) -> ConsentRecord:
    """Record that `member` accepted notice `version` (the one they were shown).

    Raises: consent.stale_version (they read a notice no longer in force)."""
    if version != policy_version():
        raise DomainError(SigninError.CONSENT_STALE, version=version, current=policy_version())
    return ConsentRecord.objects.create(
        member=member,
        policy_version=version,
        marketing=bool(marketing),
        sensitive=bool(sensitive),
        ip_hash=blind_index(client_ip, context="consent.client_ip") if client_ip else "",
        accepted_at=timezone.now(),
    )


def marketing_allowed(member_ids: set[int]) -> set[int]:
    """The members among `member_ids` whose latest consent record allows marketing (M3): a member who
    never consented, or withdrew, is left out."""
    allowed: set[int] = set()
    ids = sorted(member_ids)
    for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        latest = (
            ConsentRecord.objects.filter(member_id__in=chunk).values("member_id").annotate(last=Max("id"))
        )
        last_ids = [row["last"] for row in latest]
        allowed |= set(
            ConsentRecord.objects.filter(id__in=last_ids, marketing=True).values_list("member_id", flat=True)
        )
    return allowed
