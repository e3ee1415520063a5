"""Admission integrity (DESIGN invariants), second pass: the database is the guard in every mode,
nothing outlives a rollback, state changes race safely, and cancelling ends everything."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import BLOCKING_STATUSES, LIVE_STATUSES, Campaign, Signup, SignupStatus
from yunying.campaigns.selectors import campaign_stats, counts_from_events
from yunying.campaigns.services import admission, lifecycle, lottery
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM
from yunying.notify.models import OutboxMessage

St = SignupStatus


def _outcome(call) -> str:
    try:
        return f"ok:{getattr(call(), 'status', 'done')}"
    except DomainError as exc:
        return exc.code


def _race(calls, *, timeout=30):
    """Run the callables at once, one connection per thread; return their outcomes in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=timeout)
            return _outcome(call)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _assert_one_live_per_member_and_capacity(campaign):
    campaign.refresh_from_db()
    rows = Signup.objects.filter(campaign=campaign)
    confirmed = rows.filter(status=St.CONFIRMED).count()
    assert confirmed <= campaign.capacity
    assert confirmed == campaign.seats_taken
    twice = rows.filter(status__in=BLOCKING_STATUSES).values("member").annotate(n=Count("id")).filter(n__gt=1)
    assert not twice.exists()


# --- cancelling ends everything -------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_ends_every_live_sign_up_and_tells_each_member_once():
    # given: confirmed, waitlisted, pending (another campaign's review), registered (a lottery)
    campaign = CampaignFactory(status="published", capacity=2, waitlist_enabled=True)
    signups = [sign_up(campaign, mobile(n)) for n in range(4)]
    assert [s.status for s in signups] == [St.CONFIRMED] * 2 + [St.WAITLISTED] * 2
    # when
    lifecycle.campaign_cancel(campaign_id=campaign.pk, actor=SYSTEM, reason="场地变更")
    # then: nobody is live, no seat is held, the history says why, and each member is told once
    campaign.refresh_from_db()
    assert set(Signup.objects.filter(campaign=campaign).values_list("status", flat=True)) == {St.CANCELLED}
    assert campaign.seats_taken == 0
    assert counts_from_events(campaign.pk) == {St.CANCELLED: 4}
    assert campaign_stats(campaign).by_status[St.CANCELLED] == 4
    told = OutboxMessage.objects.filter(template="campaign_cancelled", status="pending")
    assert sorted(told.values_list("ref", flat=True)) == sorted(f"signup:{s.pk}" for s in signups)
    assert not OutboxMessage.objects.filter(template="event_reminder", status="pending").exists()


@pytest.mark.django_db
def test_nothing_moves_after_cancelling():
    # given: a cancelled campaign that had a confirmed member and a waiting one
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    first, second = sign_up(campaign, mobile(1)), sign_up(campaign, mobile(2))
    lifecycle.campaign_cancel(campaign_id=campaign.pk, actor=SYSTEM, reason="取消")
    # when: the confirmed member withdraws afterwards
    with pytest.raises(DomainError) as refused:
        admission.signup_withdraw(campaign_id=campaign.pk, signup_id=first.pk, actor=SYSTEM, reason="有事")
    # then: refused, and the waiting member is neither promoted nor told good news
    assert refused.value.code == "signup.invalid_transition"
    second.refresh_from_db()
    assert second.status == St.CANCELLED
    assert not OutboxMessage.objects.filter(template="signup_promoted").exists()


@pytest.mark.django_db
def test_cancelling_a_campaign_with_thousands_of_live_sign_ups():
    # given: 3,000 live sign-ups (one statement per table would pass SQLite's bound-parameter limit)
    from yunying.members.models import Member

    campaign = CampaignFactory(status="published", capacity=3000, seats_taken=3000)
    Member.objects.bulk_create([Member(phone_index=f"many{n}") for n in range(3000)])
    members = Member.objects.filter(phone_index__startswith="many").values_list("pk", flat=True)
    Signup.objects.bulk_create(
        [Signup(campaign=campaign, member_id=m, status=St.CONFIRMED, channel="h5") for m in members]
    )
    # when
    lifecycle.campaign_cancel(campaign_id=campaign.pk, actor=SYSTEM, reason="预算调整")
    # then
    assert Signup.objects.filter(campaign=campaign, status__in=LIVE_STATUSES).count() == 0
    assert OutboxMessage.objects.filter(template="campaign_cancelled").count() == 3000


# --- nothing outlives a rollback --------------------------------------------------------------------


@pytest.fixture(params=["database", "redis"])
def mode(request):
    """Each test runs on the plain database and with REDIS_URL set (rate limits, queue on Redis)."""
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return request.param


@pytest.mark.django_db
def test_a_callers_rolled_back_transaction_gives_the_seat_back(mode):
    # given: one seat
    campaign = CampaignFactory(status="published", capacity=1)
    # when: a caller's outer transaction signs a member up, then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        sign_up(campaign, mobile(1))
        raise RuntimeError("the caller's next step failed")
    # then: the next member gets the seat, and the first may sign up again
    assert sign_up(campaign, mobile(2)).status == St.CONFIRMED
    campaign.refresh_from_db()
    assert campaign.seats_taken == 1
    with pytest.raises(DomainError) as full:
        sign_up(campaign, mobile(1))
    assert full.value.code == "campaign.full"


@pytest.mark.django_db
def test_a_failed_idempotency_record_gives_the_seat_back_and_the_retry_runs_again(mode, api, monkeypatch):
    # given: one seat, and storing the answer fails once
    from yunying.core import idempotency

    campaign = CampaignFactory(status="published", capacity=1)
    real = idempotency._jsonable
    calls = []

    def fail_once(payload):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return real(payload)

    monkeypatch.setattr(idempotency, "_jsonable", fail_once)
    body = {"member": {"phone": mobile(1)}, "channel": "h5"}
    url = f"/api/v1/campaigns/{campaign.pk}/signups"
    # when
    first = api.post_json(url, body, HTTP_IDEMPOTENCY_KEY="k-1")
    retry = api.post_json(url, body, HTTP_IDEMPOTENCY_KEY="k-1")
    # then: the failed attempt left nothing behind; the retry did the work once
    assert first.status_code == 500
    assert retry.status_code == 201 and retry.json()["status"] == St.CONFIRMED
    assert Signup.objects.filter(campaign=campaign).count() == 1
    _assert_one_live_per_member_and_capacity(campaign)


# --- state races: the conditional writes include the campaign's state -------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
@pytest.mark.parametrize("end", ["close", "cancel"])
def test_no_sign_up_commits_after_the_campaign_closes_or_is_cancelled(end):
    # given: 30 members signing up while an operator ends the campaign
    campaign = CampaignFactory(status="published", capacity=100)
    seen_after_end = []

    def finish():
        if end == "close":
            result = lifecycle.campaign_close(campaign_id=campaign.pk, actor=SYSTEM, reason="提前截止")
        else:
            result = lifecycle.campaign_cancel(campaign_id=campaign.pk, actor=SYSTEM, reason="取消")
        # read right after the ending committed: whatever commits later came after it
        seen_after_end.append(Signup.objects.filter(campaign=campaign, status__in=LIVE_STATUSES).count())
        return result

    calls = [lambda n=n: sign_up(campaign, mobile(n)) for n in range(30)] + [finish]
    # when
    outcomes = Counter(_race(calls))
    # then: nothing joined after the end, and refusals say the campaign is not open
    live = Signup.objects.filter(campaign=campaign, status__in=LIVE_STATUSES).count()
    assert live == seen_after_end[0]
    if end == "cancel":
        assert live == 0
    assert set(outcomes) <= {
        "ok:confirmed",
        "campaign.not_open",
        f"ok:{'closed' if end == 'close' else 'cancelled'}",
    }
    _assert_one_live_per_member_and_capacity(campaign)


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_a_draw_and_a_cancel_at_the_same_moment_never_leave_winners_in_a_cancelled_campaign():
    for round_ in range(3):
        # given: a closed lottery with entrants
        campaign = CampaignFactory(status="published", capacity=3, admission_mode="lottery")
        for n in range(8):
            sign_up(campaign, mobile(100 * round_ + n))
        Campaign.objects.filter(pk=campaign.pk).update(status="closed")
        # when
        outcomes = _race(
            [
                lambda c=campaign: lottery.lottery_draw(campaign_id=c.pk, actor=SYSTEM),
                lambda c=campaign: lifecycle.campaign_cancel(campaign_id=c.pk, actor=SYSTEM, reason="取消"),
            ]
        )
        # then: the cancel always wins in the end; no one is live in a cancelled campaign
        campaign.refresh_from_db()
        assert campaign.status == "cancelled", outcomes
        assert not Signup.objects.filter(campaign=campaign, status__in=LIVE_STATUSES).exists()
        assert campaign.seats_taken == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_waitlist_joiners_and_a_leaving_member_never_strand_a_free_seat():
    # given: a full campaign with a waiting list; one confirmed member leaves while others join
    campaign = CampaignFactory(status="published", capacity=5, waitlist_enabled=True)
    confirmed = [sign_up(campaign, mobile(n)) for n in range(5)]
    leave = lambda: admission.signup_withdraw(  # noqa: E731
        campaign_id=campaign.pk, signup_id=confirmed[0].pk, actor=SYSTEM, reason="有事"
    )
    calls = [leave] + [lambda n=n: sign_up(campaign, mobile(50 + n)) for n in range(10)]
    # when
    _race(calls)
    # then: the seat went to a waiting member (or a newcomer): no seat is free while anyone waits
    campaign.refresh_from_db()
    waiting = Signup.objects.filter(campaign=campaign, status=St.WAITLISTED).count()
    assert campaign.seats_taken == 5 and waiting == 9
    _assert_one_live_per_member_and_capacity(campaign)


# --- Redis emptied mid-burst ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_emptying_redis_in_the_middle_of_a_burst_never_oversells_nor_admits_twice(redis_url):
    import redis

    # given: 80 requests from 60 members for 20 seats, with rate limits and the queue on Redis
    campaign = CampaignFactory(status="published", capacity=20)
    phones = [mobile(n) for n in range(60)] + [mobile(n) for n in range(20)]
    client = redis.Redis.from_url(redis_url)
    done = []

    def call(phone):
        try:
            return sign_up(campaign, phone)
        finally:
            done.append(phone)
            if len(done) == 30:
                client.flushdb()  # Redis restarts empty, fails over or is restored from a snapshot

    # when
    outcomes = Counter(_race([lambda p=p: call(p) for p in phones]))
    # then
    assert outcomes["ok:confirmed"] == 20
    _assert_one_live_per_member_and_capacity(campaign)


# --- the hot path's cost is fixed ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("earlier", [1, 10])
def test_sign_up_costs_the_same_queries_however_many_came_before(earlier, django_assert_num_queries):
    from django.db import connection

    # given
    campaign = CampaignFactory(status="published", capacity=100)
    for n in range(earlier):
        sign_up(campaign, mobile(n))
    sign_up(CampaignFactory(status="published"), mobile(999))  # a member seen before
    # when / then: a new member and a known one, each a fixed number of statements; loyalty reads
    # the points rules (one indexed row) for the new member's welcome and for the confirmation, and
    # the task lists a confirmed sign-up may complete (one indexed read); risk control's own
    # transaction adds 12 (its counters, graph, the member's prior score, lists, rules and decision), the same
    # however many came before
    postgres = connection.vendor == "postgresql"  # + the graph's advisory lock (SQLite: its one writer)
    with django_assert_num_queries(25 if postgres else 24):
        sign_up(campaign, mobile(500))
    with CaptureQueriesContext(connection) as queries:
        sign_up(campaign, mobile(999))
    # + the duplicate check and the participation count need no more (risk: 12, and on PostgreSQL the
    # graph's advisory lock and the lock on the member's component, which SQLite's one writer makes
    # needless); + the known member locked and read again in the write transaction, so an erasure that
    # committed since is seen (members.services.member_commit)
    assert len(queries) == (26 if postgres else 24)


@pytest.mark.django_db
def test_a_finished_campaigns_sign_ups_are_history_nobody_withdraws_or_frees_a_seat():
    # given: a campaign whose event is over, with one confirmed member
    campaign = CampaignFactory(status="published", capacity=2)
    signup = sign_up(campaign, mobile(1))
    Campaign.objects.filter(pk=campaign.pk).update(status="finished")
    # when
    with pytest.raises(DomainError) as refused:
        admission.signup_withdraw(campaign_id=campaign.pk, signup_id=signup.pk, actor=SYSTEM, reason="补退")
    # then
    assert refused.value.code == "signup.invalid_transition"
    campaign.refresh_from_db()
    assert campaign.seats_taken == 1
    signup.refresh_from_db()
    assert signup.status == St.CONFIRMED


@pytest.mark.django_db
def test_words_for_operators_never_land_in_the_member_facing_reason():
    # given: a promotion from the waiting list and a review approval
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    first, waiting = sign_up(campaign, mobile(1)), sign_up(campaign, mobile(2))
    admission.signup_withdraw(campaign_id=campaign.pk, signup_id=first.pk, actor=SYSTEM, reason="有事")
    reviewed = CampaignFactory(status="published", review_mode="manual")
    pending = sign_up(reviewed, mobile(3))
    approved = admission.signup_confirm(campaign_id=reviewed.pk, signup_id=pending.pk, actor=SYSTEM)
    # then: the member-facing reason stays empty; the internal word is the operators' note
    waiting.refresh_from_db()
    assert (waiting.status, waiting.status_reason, waiting.status_note) == (St.CONFIRMED, "", "promoted")
    assert (approved.status_reason, approved.status_note) == ("", "approved")


@pytest.mark.django_db
def test_a_full_campaign_still_tells_an_ineligible_member_what_stands_in_their_way():
    # given: a full campaign for adults only
    from datetime import date

    from yunying.members.services import Profile

    campaign = CampaignFactory(status="published", capacity=1, eligibility={"min_age": 18})
    sign_up(campaign, mobile(1), profile=Profile(birth_date=date(1990, 1, 1)))
    # when: a 12-year-old tries
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(2), profile=Profile(birth_date=date(2014, 1, 1)))
    # then: told why, not merely that it is full
    assert refused.value.code == "signup.ineligible"
