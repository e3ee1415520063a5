"""Lottery admission (P6 fairness for hot campaigns): a seeded, reproducible draw.

Algorithm "sha256-rank-v2": every entrant sign-up id is ranked by
SHA-256("<seed>:<entrants digest>:<id>") in ascending hex order, where the digest is of the whole
closed entrant list. Mixing the list in means that whoever can read the sealed seed while entries are
open (anyone with the server's PII key) still cannot tell which sign-up id will win: every further
entrant changes every rank. (v1, SHA-256("<seed>:<id>"), is still verified for draws made with it.)
Then the first (capacity - seats taken) win, the rest are waitlisted in rank order
(or not selected when the campaign has no waiting list). The ranking depends only on the seed and
the set of ids, not on row order or the database, so anyone holding the published seed and entrant
list re-runs the draw (`lottery_rank`) and gets the same winners. The digest of the entrant list is
recorded so a changed list is detected.

The seed is committed before anyone enters: `lottery_commit` draws it at random when the campaign is
published, keeps it sealed, and publishes its SHA-256 on the campaign. The draw uses that seed and
reveals it; `lottery_verify` checks the revealed seed against the commitment, so the operator cannot
try seeds until a favoured entrant wins. Nobody chooses the seed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from yunying.campaigns import seats
from yunying.campaigns.errors import CampaignError
from yunying.campaigns.models import (
    AdmissionMode,
    Campaign,
    CampaignStatus,
    LotteryDraw,
    Signup,
    SignupEvent,
    SignupStatus,
)
from yunying.campaigns.selectors import campaign_get
from yunying.campaigns.services.events import event_record, signup_announce
from yunying.campaigns.services.lottery_seed import committed_seed, seed_commitment
from yunying.campaigns.services.notices import notice_signup
from yunying.core.activity import ActivityKind
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor

ALGORITHM = "sha256-rank-v2"
St = SignupStatus


def entrants_digest(entrant_ids: list[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(entrant_ids)).encode()).hexdigest()


def lottery_rank(seed: str, entrant_ids: list[int], *, algorithm: str = ALGORITHM) -> list[int]:
    """Entrant ids in draw order. Pure: the whole algorithm, for anyone to re-run.

    Raises: ValueError for an algorithm this code does not know."""
    if algorithm == "sha256-rank-v2":
        prefix = f"{seed}:{entrants_digest(entrant_ids)}"
    elif algorithm == "sha256-rank-v1":
        prefix = seed
    else:
        raise ValueError(f"unknown draw algorithm {algorithm!r}")
    return sorted(entrant_ids, key=lambda i: (hashlib.sha256(f"{prefix}:{i}".encode()).hexdigest(), i))


KNOWN_ALGORITHMS = frozenset({"sha256-rank-v1", "sha256-rank-v2"})


def _entrant_ids(campaign_id: int) -> list[int]:
    """Everyone who entered the draw: each sign-up whose first status was `registered`."""
    return sorted(
        SignupEvent.objects.filter(
            campaign_id=campaign_id, from_status="", to_status=St.REGISTERED
        ).values_list("signup_id", flat=True)
    )


def lottery_draw(*, campaign_id: int, actor: Actor) -> LotteryDraw:
    """Draw a closed lottery campaign (a published one whose window has ended is closed first) with
    the seed committed at publication, and reveal it.

    Raises: campaign.not_lottery, campaign.draw_not_ready, campaign.already_drawn."""
    from yunying.campaigns.services.lifecycle import campaign_close

    campaign = campaign_get(campaign_id)
    if campaign.admission_mode != AdmissionMode.LOTTERY:
        raise DomainError(CampaignError.NOT_LOTTERY)
    if LotteryDraw.objects.filter(campaign_id=campaign_id).exists():
        raise DomainError(CampaignError.ALREADY_DRAWN)
    with transaction.atomic():
        if campaign.status == CampaignStatus.PUBLISHED and campaign.signup_end_at <= timezone.now():
            campaign_close(campaign_id=campaign_id, actor=actor, reason="lottery draw")
        # The row is locked by a write that checks the state: a cancel at the same moment either
        # commits first (and the draw finds it cancelled) or waits for the draw to commit.
        if not Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.CLOSED).update(
            updated_at=timezone.now()
        ):
            raise DomainError(CampaignError.DRAW_NOT_READY, status=campaign_get(campaign_id).status)
        campaign = campaign_get(campaign_id)
        # A campaign published before seeds were committed has none: its seed is drawn now, at
        # random, and the draw says it had no commitment (seed_sha256 "").
        seed = committed_seed(campaign) or secrets.token_hex(32)
        entrants = _entrant_ids(campaign_id)
        still_in = set(
            Signup.objects.filter(pk__in=entrants, status=St.REGISTERED).values_list("pk", flat=True)
        )
        ranking = [i for i in lottery_rank(seed, entrants) if i in still_in]
        free = campaign.capacity - campaign.seats_taken
        winners, rest = ranking[:free], ranking[free:]
        try:
            with transaction.atomic():
                draw = LotteryDraw.objects.create(
                    campaign=campaign,
                    algorithm=ALGORITHM,
                    seed=seed,
                    seed_sha256=campaign.lottery_seed_sha256,
                    entrant_count=len(ranking),  # live entrants only: those who left were not drawn
                    entrants_digest=entrants_digest(entrants),
                    winner_count=len(winners),
                    actor_label=actor.label[:150],
                )
        except IntegrityError as exc:  # a concurrent draw won
            raise DomainError(CampaignError.ALREADY_DRAWN) from exc
        # The seat count moves once for all winners, inside the capacity guard.
        if winners and not seats.seats_take(campaign.pk, len(winners)):
            raise DomainError(CampaignError.FULL)
        audit_record(actor=actor, action="campaign.draw", object_type="campaign", object_id=campaign.pk, after={"draw_id": draw.pk, "entrant_count": draw.entrant_count, "winner_count": draw.winner_count})  # fmt: skip
        _apply(campaign, draw, winners, rest, actor=actor)
    return draw


def _apply(
    campaign: Campaign, draw: LotteryDraw, winners: list[int], rest: list[int], *, actor: Actor
) -> None:
    loser_status = St.WAITLISTED if campaign.waitlist_enabled else St.NOT_SELECTED
    outcomes = [(i, St.CONFIRMED, 0) for i in winners]
    outcomes += [(i, loser_status, rank) for rank, i in enumerate(rest, start=1)]
    signups = Signup.objects.in_bulk([i for i, _, _ in outcomes])
    for signup_id, status, rank in outcomes:
        signup = signups[signup_id]
        Signup.objects.filter(pk=signup_id).update(
            status=status, waitlist_rank=rank, updated_at=timezone.now()
        )
        signup.status = status
        event_record(
            signup, from_status=St.REGISTERED, to_status=status, actor=actor, reason=f"lottery {draw.pk}"
        )
        template = {St.CONFIRMED: "signup_confirmed", St.WAITLISTED: "signup_waitlisted"}.get(
            status, "signup_not_selected"
        )
        notice_signup(signup, campaign, template)
        if status == St.CONFIRMED:
            signup_announce(signup, ActivityKind.SIGNUP_CONFIRMED)


@dataclass(frozen=True)
class DrawVerification:
    draw: LotteryDraw
    entrant_ids: list[int]
    winner_ids: list[int]
    digest_matches: bool  # the entrant list is the one the draw recorded
    winners_match: bool  # re-running the algorithm gives the winners that were applied
    commitment_matches: bool  # the revealed seed is the one whose hash was published before entries
    algorithm_known: bool  # the recorded algorithm is one this code can re-run
    count_matches: bool  # the recorded entrant count is the live entrants the re-run ranks

    @property
    def verified(self) -> bool:
        return all(
            (
                self.digest_matches,
                self.winners_match,
                self.commitment_matches,
                self.algorithm_known,
                self.count_matches,
            )
        )


def lottery_verify(*, campaign_id: int) -> DrawVerification:
    """Re-run the recorded draw and compare it with what was applied and what was promised.

    Raises: campaign.not_found, campaign.not_drawn."""
    campaign = campaign_get(campaign_id)  # campaign.not_found before campaign.not_drawn
    draw = LotteryDraw.objects.filter(campaign_id=campaign_id).first()
    if draw is None:
        raise DomainError(CampaignError.NOT_DRAWN)
    entrants = _entrant_ids(campaign_id)
    applied = set(
        SignupEvent.objects.filter(
            campaign_id=campaign_id,
            from_status=St.REGISTERED,
            to_status=St.CONFIRMED,
            reason=f"lottery {draw.pk}",
        ).values_list("signup_id", flat=True)
    )
    # Entrants who withdrew before the draw were skipped by it; skip them in the re-run too.
    left_before = set(
        SignupEvent.objects.filter(campaign_id=campaign_id, from_status=St.REGISTERED, at__lte=draw.drawn_at)
        .exclude(reason=f"lottery {draw.pk}")
        .values_list("signup_id", flat=True)
    )
    algorithm_known = draw.algorithm in KNOWN_ALGORITHMS
    ranking = (
        [i for i in lottery_rank(draw.seed, entrants, algorithm=draw.algorithm) if i not in left_before]
        if algorithm_known
        else []
    )
    winners = ranking[: draw.winner_count]
    published = campaign.lottery_seed_sha256
    return DrawVerification(
        draw=draw,
        entrant_ids=entrants,
        winner_ids=winners,
        digest_matches=entrants_digest(entrants) == draw.entrants_digest,
        winners_match=algorithm_known and set(winners) == applied,
        commitment_matches=bool(published) and seed_commitment(draw.seed) == published == draw.seed_sha256,
        algorithm_known=algorithm_known,
        count_matches=algorithm_known and len(ranking) == draw.entrant_count,
    )
