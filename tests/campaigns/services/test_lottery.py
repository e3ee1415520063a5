"""Lottery admission: a seeded draw anyone can re-run and get the same winners (fairness, P6)."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import LotteryDraw, Signup, SignupEvent
from yunying.campaigns.services.admission import signup_withdraw
from yunying.campaigns.services.lifecycle import campaign_close
from yunying.campaigns.services.lottery import lottery_draw, lottery_rank, lottery_verify
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM


@given(seed=st.text(min_size=1, max_size=40), ids=st.lists(st.integers(1, 10**9), unique=True, max_size=60))
def test_ranking_depends_only_on_seed_and_the_set_of_ids(seed, ids):
    shuffled = ids[:]
    random.Random(len(ids)).shuffle(shuffled)
    assert lottery_rank(seed, ids) == lottery_rank(seed, shuffled)
    assert sorted(lottery_rank(seed, ids)) == sorted(ids)


def test_different_seeds_give_different_orders():
    ids = list(range(1, 101))
    assert lottery_rank("seed-a", ids) != lottery_rank("seed-b", ids)


def _lottery_campaign(entrants: int, *, capacity: int, waitlist: bool):
    campaign = CampaignFactory(
        status="published", admission_mode="lottery", capacity=capacity, waitlist_enabled=waitlist
    )
    signups = [sign_up(campaign, mobile(n)) for n in range(entrants)]
    assert {s.status for s in signups} == {"registered"}
    campaign_close(campaign_id=campaign.pk, actor=SYSTEM)
    return campaign, signups


@pytest.mark.django_db
def test_draw_fills_capacity_ranks_the_rest_and_can_be_re_run():
    # given
    campaign, signups = _lottery_campaign(12, capacity=5, waitlist=True)
    # when
    draw = lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    # then: winners are exactly the first five of the published algorithm's ranking
    ranking = lottery_rank(draw.seed, [s.pk for s in signups])
    statuses = dict(Signup.objects.filter(campaign=campaign).values_list("pk", "status"))
    assert {pk for pk, s in statuses.items() if s == "confirmed"} == set(ranking[:5])
    waitlist = list(
        Signup.objects.filter(campaign=campaign, status="waitlisted")
        .order_by("waitlist_rank")
        .values_list("pk", flat=True)
    )
    assert waitlist == ranking[5:]
    campaign.refresh_from_db()
    assert campaign.seats_taken == draw.winner_count == 5
    verification = lottery_verify(campaign_id=campaign.pk)
    assert verification.digest_matches and verification.winners_match
    assert verification.winner_ids == ranking[:5]


@pytest.mark.django_db
def test_without_waitlist_the_rest_are_not_selected_and_the_next_in_rank_is_promoted_on_withdrawal():
    campaign, _ = _lottery_campaign(6, capacity=2, waitlist=False)
    lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    assert Signup.objects.filter(campaign=campaign, status="not_selected").count() == 4

    campaign2, signups2 = _lottery_campaign(6, capacity=2, waitlist=True)
    draw2 = lottery_draw(campaign_id=campaign2.pk, actor=SYSTEM)
    ranking = lottery_rank(draw2.seed, [s.pk for s in signups2])
    signup_withdraw(campaign_id=campaign2.pk, signup_id=ranking[0], actor=SYSTEM, reason="放弃")
    assert Signup.objects.get(pk=ranking[2]).status == "confirmed"
    # withdrawal after the draw does not break verification
    assert lottery_verify(campaign_id=campaign2.pk).winners_match


@pytest.mark.django_db
def test_entrants_who_left_before_the_draw_are_skipped_and_verification_agrees():
    campaign = CampaignFactory(status="published", admission_mode="lottery", capacity=3)
    signups = [sign_up(campaign, mobile(n)) for n in range(8)]
    signup_withdraw(campaign_id=campaign.pk, signup_id=signups[0].pk, actor=SYSTEM, reason="不去了")
    campaign_close(campaign_id=campaign.pk, actor=SYSTEM)
    lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    assert Signup.objects.get(pk=signups[0].pk).status == "withdrawn"
    assert Signup.objects.filter(campaign=campaign, status="confirmed").count() == 3
    assert lottery_verify(campaign_id=campaign.pk).winners_match


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "close", "code"),
    [
        pytest.param({"admission_mode": "first_come"}, True, "campaign.not_lottery", id="not-lottery"),
        pytest.param({"admission_mode": "lottery"}, False, "campaign.draw_not_ready", id="still-open"),
    ],
)
def test_draw_refusals(kwargs, close, code):
    campaign = CampaignFactory(status="published", **kwargs)
    if close:
        campaign_close(campaign_id=campaign.pk, actor=SYSTEM)
    with pytest.raises(DomainError) as refused:
        lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    assert refused.value.code == code


@pytest.mark.django_db
def test_a_campaign_is_drawn_once():
    campaign, _ = _lottery_campaign(3, capacity=1, waitlist=False)
    lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    with pytest.raises(DomainError) as refused:
        lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    assert refused.value.code == "campaign.already_drawn"
    assert Signup.objects.filter(campaign=campaign, status="confirmed").count() == 1


@pytest.mark.django_db
def test_verify_before_a_draw_is_not_drawn():
    campaign = CampaignFactory(status="published", admission_mode="lottery")
    with pytest.raises(DomainError) as refused:
        lottery_verify(campaign_id=campaign.pk)
    assert refused.value.code == "campaign.not_drawn"


# --- the seed is committed before entries, and verification can fail ------------------------------


@pytest.fixture
def drawn(db):
    """A lottery published (seed committed), entered by 8, one leaving before the draw, then drawn."""
    from yunying.campaigns.services.lifecycle import campaign_publish

    campaign = CampaignFactory(status="draft", admission_mode="lottery", capacity=3)
    published = campaign_publish(campaign_id=campaign.pk, actor=SYSTEM)
    commitment = published.lottery_seed_sha256
    signups = [sign_up(published, mobile(n)) for n in range(8)]
    signup_withdraw(campaign_id=campaign.pk, signup_id=signups[0].pk, actor=SYSTEM, reason="不去了")
    campaign_close(campaign_id=campaign.pk, actor=SYSTEM)
    draw = lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    return campaign, signups, draw, commitment


def test_publishing_commits_to_a_seed_the_draw_reveals(drawn):
    campaign, _, draw, commitment = drawn
    # then: the hash was public from publication; the draw used that seed and revealed it
    assert len(commitment) == 64
    assert hashlib.sha256(draw.seed.encode()).hexdigest() == commitment == draw.seed_sha256
    assert commitment not in (draw.seed, "")
    # the seed itself was never stored in clear before the draw
    campaign.refresh_from_db()
    assert draw.seed not in campaign.lottery_seed_sealed


def test_entrant_count_counts_only_live_entrants(drawn):
    _, _, draw, _ = drawn
    assert draw.entrant_count == 7  # 8 entered, 1 left before the draw


def test_an_untampered_draw_verifies(drawn):
    campaign, *_ = drawn
    verification = lottery_verify(campaign_id=campaign.pk)
    assert verification.verified
    assert (verification.commitment_matches, verification.count_matches, verification.algorithm_known) == (
        True,
        True,
        True,
    )


def test_a_tampered_seed_fails_verification(drawn):
    # given: the recorded seed swapped for one that favours someone
    campaign, *_ = drawn
    LotteryDraw.objects.filter(campaign=campaign).update(seed="b" * 64)
    # when
    verification = lottery_verify(campaign_id=campaign.pk)
    # then
    assert not verification.commitment_matches
    assert not verification.verified


def test_a_seed_and_hash_both_rewritten_still_fail_against_the_published_commitment(drawn):
    campaign, *_ = drawn
    forged = "c" * 64
    LotteryDraw.objects.filter(campaign=campaign).update(
        seed=forged, seed_sha256=hashlib.sha256(forged.encode()).hexdigest()
    )
    assert not lottery_verify(campaign_id=campaign.pk).verified


def test_a_tampered_entrant_list_fails_verification(drawn):
    # given: one entrant's entry erased from the history
    campaign, signups, *_ = drawn
    SignupEvent.objects.filter(signup=signups[5], from_status="", to_status="registered").delete()
    # when
    verification = lottery_verify(campaign_id=campaign.pk)
    # then
    assert not verification.digest_matches
    assert not verification.verified


def test_a_tampered_algorithm_fails_verification(drawn):
    campaign, *_ = drawn
    LotteryDraw.objects.filter(campaign=campaign).update(algorithm="sha256-rank-v0")
    verification = lottery_verify(campaign_id=campaign.pk)
    assert not verification.algorithm_known
    assert not verification.winners_match
    assert not verification.verified


def test_a_tampered_winner_count_fails_verification(drawn):
    campaign, *_ = drawn
    LotteryDraw.objects.filter(campaign=campaign).update(winner_count=2)
    assert not lottery_verify(campaign_id=campaign.pk).verified


def test_knowing_the_seed_while_entries_are_open_does_not_tell_who_wins():
    """Whoever can unseal the seed early (the server's key holder) ranks today's entrants — and one
    more entrant reorders everyone, so the ranking cannot be steered by timing a favoured sign-up."""
    seed = "known-too-early"
    today = list(range(100, 120))
    # when: the list closes with one more entrant
    closed = [*today, 120]
    # then: the early ranking says little about the real one
    early = lottery_rank(seed, today)
    final = [i for i in lottery_rank(seed, closed) if i != 120]
    assert early != final
    assert early[0] != final[0] or early[1:4] != final[1:4]


def test_draws_made_with_the_first_algorithm_still_verify():
    ids = [3, 1, 2]
    assert lottery_rank("s", ids, algorithm="sha256-rank-v1") == sorted(
        ids, key=lambda i: (__import__("hashlib").sha256(f"s:{i}".encode()).hexdigest(), i)
    )
    with pytest.raises(ValueError, match="unknown draw algorithm"):
        lottery_rank("s", ids, algorithm="sha256-rank-v0")
