"""The lottery's seed commitment (P6): chosen at random when the campaign is published, sealed until
the draw, its SHA-256 public from the start. Its own module so that publishing (lifecycle) and drawing
(lottery) both use it without importing each other."""

from __future__ import annotations

import hashlib
import secrets

from yunying.campaigns.models import Campaign
from yunying.core import crypto

_SEED = "campaign.lottery_seed"


def seed_commitment(seed: str) -> str:
    """What is published before the draw: SHA-256 of the seed (256 random bits, so it hides it)."""
    return hashlib.sha256(seed.encode()).hexdigest()


def lottery_commit(*, campaign_id: int) -> str:
    """Choose the draw's seed now, seal it, publish its hash; a campaign keeps its first commitment.
    Called in the publish transaction. Returns the published commitment."""
    seed = secrets.token_hex(32)
    Campaign.objects.filter(pk=campaign_id, lottery_seed_sha256="").update(
        lottery_seed_sealed=crypto.encrypt(seed, context=_SEED, row=str(campaign_id)),
        lottery_seed_sha256=seed_commitment(seed),
    )
    return Campaign.objects.values_list("lottery_seed_sha256", flat=True).get(pk=campaign_id)


def committed_seed(campaign: Campaign) -> str | None:
    if not campaign.lottery_seed_sealed:
        return None
    return crypto.decrypt(campaign.lottery_seed_sealed, context=_SEED, row=str(campaign.pk))
