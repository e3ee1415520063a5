"""Who stands behind an actor: rules that count people or tell them apart (the two-person rules,
reveal limits and their alerts) must not be fooled by one operator holding several API keys."""

from __future__ import annotations

from yunying.core.models import ApiKey
from yunying.core.permissions import Actor


def actor_person(actor: Actor) -> str | None:
    """Who stands behind an actor, for rules that count or tell people apart (the two-person rule,
    reveal limits): a console user by name; an API key by its owner, or the key itself when it names
    none; None for a key that does not exist. One person's many keys are one person."""
    if actor.kind != "api_key":
        return f"{actor.kind}:{actor.label}"
    owner = actor.owner or ApiKey.objects.filter(pk=actor.id).values_list("owner", flat=True).first()
    if owner is None:
        return None
    return f"user:{owner}" if owner else f"api_key:{actor.id}"
