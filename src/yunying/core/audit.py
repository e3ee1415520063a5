"""Record who read personal data in clear. Called by every path that reveals it."""

from __future__ import annotations

from collections.abc import Iterable

from yunying.core.models import PersonalDataAccess
from yunying.core.permissions import Actor


def pii_access_record(*, actor: Actor, member_ids: Iterable[int], fields: list[str], purpose: str) -> int:
    rows = [
        PersonalDataAccess(
            member_id=member_id,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            fields=fields,
            purpose=purpose[:200],
        )
        for member_id in sorted(set(member_ids))
    ]
    PersonalDataAccess.objects.bulk_create(rows)
    return len(rows)
