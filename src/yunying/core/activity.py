"""What members do, announced by the app that sees it, for the apps that reward it (loyalty).

Core imports no domain app: campaigns announces a confirmed sign-up, members a registration, and
loyalty (which sits below campaigns) subscribes here from its AppConfig.ready() without campaigns
knowing it exists. Handlers run inside the transaction that records the fact, so a ledger row they
write commits or rolls back with it; anything that leaves the database belongs in
transaction.on_commit. `key` names the fact once (a sign-up id, a member id): a handler that posts
points uses it as its business key, so an announcement made twice rewards once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ActivityKind(StrEnum):
    MEMBER_REGISTERED = "member.registered"  # a new member (data: {"inviter_id": int | None})
    PROFILE_COMPLETED = "member.profile_completed"  # every question of a questionnaire answered
    SIGNUP_CONFIRMED = "signup.confirmed"  # data: {"campaign_id": int}
    SIGNUP_ATTENDED = "signup.attended"  # checked in at the event; data: {"campaign_id": int}
    # A confirmed sign-up withdrawn by the member or rejected by an operator (not a campaign the
    # operators cancelled): what it earned is taken back. data: {"campaign_id": int}
    SIGNUP_LEFT = "signup.left"
    TIER_UPGRADED = "tier.upgraded"  # data: {"rank": int} the level reached


@dataclass(frozen=True)
class Activity:
    kind: ActivityKind
    member_id: int
    key: str  # unique per kind: what happened, once
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


ActivityHandler = Callable[[Activity], None]

_handlers: dict[str, ActivityHandler] = {}


def activity_subscribe(name: str, handler: ActivityHandler) -> None:
    """Call `handler(activity)` for every activity; subscribing twice under one name replaces."""
    _handlers[name] = handler


def activity_unsubscribe(name: str) -> None:
    _handlers.pop(name, None)


def activity_publish(activity: Activity) -> None:
    """Called by the app that records the fact, inside its transaction."""
    for handler in list(_handlers.values()):
        handler(activity)
