"""The Redis seat ledger (REDIS_URL): same guarantees as the database ledger, checked against a real
Redis on SQLite and PostgreSQL — capacity under a rush, give-back when the database write fails, and
repair from the database after a crash."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connections

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import MemberFactory, mobile
from yunying.campaigns import seats
from yunying.campaigns.models import Signup
from yunying.campaigns.seats import Admit, RedisSeats, _keys, seats_repair_all, seats_sync
from yunying.campaigns.services import admission, lifecycle, lottery
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM


def _ledger() -> RedisSeats:
    ledger = seats.ledger()
    assert isinstance(ledger, RedisSeats)
    return ledger


def _redis_seats(campaign) -> int:
    return int(_ledger().client.get(_keys(campaign.pk)["seats"]))


def _confirmed(campaign) -> int:
    return Signup.objects.filter(campaign=campaign, status="confirmed").count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_rush_on_redis_never_oversells(redis_url):
    # given: 120 requests from 100 members for 30 seats
    campaign = CampaignFactory(status="published", capacity=30)
    phones = [mobile(n) for n in range(100)] + [mobile(n) for n in range(20)]
    barrier = threading.Barrier(len(phones))

    def run(phone):
        try:
            barrier.wait(timeout=30)
            return f"ok:{sign_up(campaign, phone).status}"
        except DomainError as exc:
            return exc.code
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        outcomes = Counter(pool.map(run, phones))
    # then
    assert outcomes["ok:confirmed"] == 30 == _confirmed(campaign) == _redis_seats(campaign)
    assert set(outcomes) <= {"ok:confirmed", "campaign.full", "signup.duplicate"}
    assert Signup.objects.filter(campaign=campaign).values("member").distinct().count() == 30


@pytest.mark.django_db
def test_the_hot_path_does_not_touch_the_campaign_row(redis_url):
    # given
    campaign = CampaignFactory(status="published", capacity=5)
    # when
    sign_up(campaign, mobile(1))
    # then: the seat is counted in Redis; the row's copy is refreshed by seats_sync, not per sign-up
    campaign.refresh_from_db()
    assert (_redis_seats(campaign), campaign.seats_taken) == (1, 0)
    seats_sync(campaign_ids=[campaign.pk])
    campaign.refresh_from_db()
    assert campaign.seats_taken == 1


@pytest.mark.django_db
def test_duplicates_are_refused_by_redis_before_the_database(redis_url, django_assert_max_num_queries):
    campaign = CampaignFactory(status="published", capacity=5)
    sign_up(campaign, mobile(1))
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(1))
    assert refused.value.code == "signup.duplicate"
    assert _redis_seats(campaign) == 1


@pytest.mark.django_db
def test_a_failed_database_write_gives_the_seat_back(redis_url, monkeypatch):
    # given: the database refuses the write after Redis gave the seat
    campaign = CampaignFactory(status="published", capacity=1)

    def refuse(*args, **kwargs):
        raise IntegrityError("simulated failure after the seat was taken")

    monkeypatch.setattr("yunying.campaigns.services.admission.event_record", refuse)
    # when
    with pytest.raises(IntegrityError):
        sign_up(campaign, mobile(1))
    # then: the seat and the membership are free again
    monkeypatch.undo()
    assert _redis_seats(campaign) == 0
    assert sign_up(campaign, mobile(1)).status == "confirmed"


@pytest.mark.django_db
def test_full_campaign_refuses_and_waitlist_queues(redis_url):
    full = CampaignFactory(status="published", capacity=1)
    queue = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    sign_up(full, mobile(1))
    with pytest.raises(DomainError) as refused:
        sign_up(full, mobile(2))
    assert refused.value.code == "campaign.full"
    assert [sign_up(queue, mobile(n)).status for n in (1, 2)] == ["confirmed", "waitlisted"]


@pytest.mark.django_db
def test_a_campaign_seen_full_refuses_without_writing_until_the_memory_lapses(redis_url, monkeypatch):
    # given: the process learnt from the admission script that the campaign is full
    from yunying.members.models import Member

    full = CampaignFactory(status="published", capacity=1)
    sign_up(full, mobile(1))
    with pytest.raises(DomainError):
        sign_up(full, mobile(2))
    members = Member.objects.count()
    # when: the seat frees up in Redis behind this process's back (as another process's withdrawal)
    _ledger().client.set(_keys(full.pk)["seats"], 0)
    with pytest.raises(DomainError) as refused:
        sign_up(full, mobile(3))
    # then: refused early, from memory, with no member row written
    assert refused.value.code == "campaign.full"
    assert Member.objects.count() == members
    # and once the memory lapses the script decides again
    monkeypatch.setattr(seats, "_seen_full", {})
    assert sign_up(full, mobile(3)).status == "confirmed"


@pytest.mark.django_db
def test_leaving_frees_the_member_and_the_seat_after_commit(redis_url, django_capture_on_commit_callbacks):
    # given
    campaign = CampaignFactory(status="published", capacity=2, waitlist_enabled=True)
    a, b, _waiting = (sign_up(campaign, mobile(n)) for n in range(3))
    # when: a leaves (waiting is promoted, seats stay 2); then b leaves (nobody waits: seat freed)
    with django_capture_on_commit_callbacks(execute=True):
        admission.signup_withdraw(campaign_id=campaign.pk, signup_id=a.pk, actor=SYSTEM, reason="x")
    assert _redis_seats(campaign) == 2
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        admission.signup_withdraw(campaign_id=campaign.pk, signup_id=b.pk, actor=SYSTEM, reason="x")
        assert _redis_seats(campaign) == 2  # not before the database has committed
    # the seat's give-back, besides the withdrawal notice's hand-off to the task queue
    assert len([c for c in callbacks if "_wake_worker" not in repr(c)]) == 1
    # then
    assert _redis_seats(campaign) == 1 == _confirmed(campaign)
    assert sign_up(campaign, mobile(0)).status == "confirmed"  # a may sign up again


@pytest.mark.django_db
def test_review_approval_takes_a_seat_in_redis(redis_url):
    campaign = CampaignFactory(status="published", capacity=1, review_mode="manual")
    first, second = sign_up(campaign, mobile(1)), sign_up(campaign, mobile(2))
    admission.signup_confirm(campaign_id=campaign.pk, signup_id=first.pk, actor=SYSTEM)
    with pytest.raises(DomainError) as refused:
        admission.signup_confirm(campaign_id=campaign.pk, signup_id=second.pk, actor=SYSTEM)
    assert refused.value.code == "campaign.full"
    assert _redis_seats(campaign) == 1


@pytest.mark.django_db
def test_lottery_draw_counts_winners_in_redis(redis_url):
    campaign = CampaignFactory(status="published", capacity=3, admission_mode="lottery")
    for n in range(6):
        sign_up(campaign, mobile(n))
    lifecycle.campaign_close(campaign_id=campaign.pk, actor=SYSTEM)
    lottery.lottery_draw(campaign_id=campaign.pk, actor=SYSTEM, seed="redis-seed-1")
    assert _redis_seats(campaign) == 3 == _confirmed(campaign)


@pytest.mark.django_db(transaction=True)
def test_more_capacity_reaches_redis_and_promotes_after_commit(redis_url):
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    signups = [sign_up(campaign, mobile(n)) for n in range(3)]
    lifecycle.campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"capacity": 2})
    statuses = [Signup.objects.get(pk=s.pk).status for s in signups]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    assert _redis_seats(campaign) == 2
    assert sign_up(campaign, mobile(9)).status == "waitlisted"


@pytest.mark.django_db
def test_repair_drops_seats_of_crashed_admissions_and_keeps_in_flight_ones(redis_url):
    # given: 2 committed sign-ups, and 2 seats taken in Redis whose database writes never happened
    campaign = CampaignFactory(status="published", capacity=10)
    sign_up(campaign, mobile(1))
    sign_up(campaign, mobile(2))
    ledger = _ledger()
    crashed = [MemberFactory(phone=mobile(101)), MemberFactory(phone=mobile(102))]
    for member in crashed:
        assert ledger.admit(campaign, member.pk, want=Admit.SEAT) == Admit.SEAT
    assert _redis_seats(campaign) == 4
    # when: within the grace period they may still be in flight; past it they are dead
    young = ledger.repair(campaign.pk)
    dead = ledger.repair(campaign.pk, grace_seconds=-1)
    # then
    assert (young.seats, young.in_flight) == (4, 2)
    assert (dead.seats, dead.dropped) == (2, 2)
    assert _redis_seats(campaign) == 2 == _confirmed(campaign)
    assert ledger.admit(campaign, crashed[0].pk, want=Admit.SEAT) == Admit.SEAT  # free to sign up again


@pytest.mark.django_db
def test_repair_all_rebuilds_lost_redis_state(redis_url):
    # given: Redis lost everything (restart without persistence)
    campaign = CampaignFactory(status="published", capacity=3)
    sign_up(campaign, mobile(1))
    _ledger().client.flushdb()
    # when
    _, results = seats_repair_all()
    # then
    assert [(r.campaign_id, r.seats) for r in results] == [(campaign.pk, 1)]
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(1))
    assert refused.value.code == "signup.duplicate"


@pytest.mark.django_db
def test_repair_counters_command_reports_each_campaign(redis_url):
    from io import StringIO

    from django.core.management import call_command

    campaign = CampaignFactory(status="published", capacity=3)
    sign_up(campaign, mobile(1))
    out = StringIO()
    call_command("repair_counters", "--grace", "0", stdout=out)
    assert f"campaign {campaign.pk}: confirmed=1 seats=1" in out.getvalue()


@pytest.mark.django_db
def test_repair_counters_without_redis_corrects_the_rows():
    from io import StringIO

    from django.core.management import call_command

    campaign = CampaignFactory(status="published", capacity=3, seats_taken=2)  # drifted: nobody signed up
    out = StringIO()
    call_command("repair_counters", stdout=out)
    campaign.refresh_from_db()
    assert campaign.seats_taken == 0
    assert "1 campaign counter(s) corrected in the database" in out.getvalue()
