"""The append-only sign-up history; written in the same transaction as every state change."""

from __future__ import annotations

from yunying.campaigns.models import Signup, SignupEvent
from yunying.core.permissions import Actor
from yunying.core.rows import row_insert


def event_record(signup: Signup, *, from_status: str, to_status: str, actor: Actor, reason: str = "") -> None:
    event = SignupEvent(
        signup=signup,
        campaign_id=signup.campaign_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:500],
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:150],
    )
    row_insert(event)  # on every sign-up: a prepared statement, not the ORM (core.rows)
