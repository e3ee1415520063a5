"""Capacity and one-sign-up-per-member under a real rush (C4, C7), on SQLite and PostgreSQL.

N threads, each with its own database connection, are released together by a Barrier and call the
admission service; duplicates are mixed in. The control test runs a naive check-then-insert the same
way and must oversell, proving the harness can see a race at all."""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.db.models import Count

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import BLOCKING_STATUSES, Signup, SignupStatus
from yunying.campaigns.selectors import counts_from_events
from yunying.core.errors import DomainError

# One rush at a time across xdist workers: 200 connections must fit in the server's limit.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

THREADS = 200
CAPACITY = 50
DISTINCT = 160  # 200 requests from 160 members: 40 are duplicates racing their original


def _connection_budget() -> int:
    """How many threads may hold a connection at once: all of them on SQLite; on PostgreSQL what
    max_connections leaves (CI raises it to 400, so CI always runs the full 200)."""
    if connection.vendor != "postgresql":
        return THREADS
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        limit = int(cursor.fetchone()[0])
    if os.environ.get("CI"):
        assert limit - 50 >= THREADS, "CI must run the full 200-connection rush: raise max_connections"
    return min(THREADS, limit - 50)


def _rush(calls, *, workers: int):
    """Run the callables at once; return their outcomes ("ok:<status>" or the error code)."""
    workers = min(workers, _connection_budget())
    barrier = threading.Barrier(workers)
    started = threading.Event()

    def run(call):
        try:
            if not started.is_set():  # the first wave starts together; later calls follow at once
                barrier.wait(timeout=30)
                started.set()
            return f"ok:{call().status}"
        except DomainError as exc:
            return exc.code
        finally:
            connections.close_all()  # each worker thread owns a connection

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, calls))


def _phones():
    phones = [mobile(n) for n in range(DISTINCT)]
    return phones + phones[: THREADS - DISTINCT]


def test_rush_never_oversells_nor_admits_a_member_twice():
    # given
    campaign = CampaignFactory(status="published", capacity=CAPACITY)
    calls = [lambda phone=phone: sign_up(campaign, phone) for phone in _phones()]
    # when
    outcomes = Counter(_rush(calls, workers=THREADS))
    # then
    campaign.refresh_from_db()
    confirmed = Signup.objects.filter(campaign=campaign, status=SignupStatus.CONFIRMED).count()
    assert outcomes["ok:confirmed"] == CAPACITY == confirmed == campaign.seats_taken
    assert set(outcomes) <= {"ok:confirmed", "campaign.full", "signup.duplicate"}, outcomes
    assert sum(outcomes.values()) == THREADS
    per_member = Signup.objects.filter(campaign=campaign, status__in=BLOCKING_STATUSES).values("member")
    assert per_member.annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert counts_from_events(campaign.pk) == {"confirmed": CAPACITY}


def test_rush_with_waitlist_orders_everyone_after_the_seats():
    # given
    campaign = CampaignFactory(status="published", capacity=CAPACITY, waitlist_enabled=True)
    calls = [lambda phone=phone: sign_up(campaign, phone) for phone in _phones()]
    # when
    outcomes = Counter(_rush(calls, workers=THREADS))
    # then: every distinct member is in exactly once, capacity holds, the rest wait
    campaign.refresh_from_db()
    assert outcomes["ok:confirmed"] == CAPACITY == campaign.seats_taken
    assert outcomes["ok:waitlisted"] == DISTINCT - CAPACITY
    assert outcomes["signup.duplicate"] == THREADS - DISTINCT
    assert Signup.objects.filter(campaign=campaign).count() == DISTINCT


def test_withdrawals_racing_each_other_promote_each_waiting_member_once():
    # given: a full campaign with 10 confirmed and 10 waiting
    campaign = CampaignFactory(status="published", capacity=10, waitlist_enabled=True)
    signups = [sign_up(campaign, mobile(n)) for n in range(20)]
    confirmed = [s for s in signups if s.status == "confirmed"]
    from yunying.campaigns.services.admission import signup_withdraw
    from yunying.core.permissions import SYSTEM

    calls = [
        lambda s=s: signup_withdraw(campaign_id=campaign.pk, signup_id=s.pk, actor=SYSTEM, reason="有事")
        for s in confirmed + confirmed[:5]  # 5 double withdrawals race too
    ]
    # when
    outcomes = Counter(_rush(calls, workers=len(calls)))
    # then
    campaign.refresh_from_db()
    assert outcomes["ok:withdrawn"] == 10
    assert outcomes["signup.invalid_transition"] == 5
    assert Signup.objects.filter(campaign=campaign, status="confirmed").count() == 10 == campaign.seats_taken
    assert Signup.objects.filter(campaign=campaign, status="waitlisted").count() == 0


def test_first_sign_ups_of_one_new_phone_create_one_member():
    # given
    campaign = CampaignFactory(status="published", capacity=5)
    phone = mobile(7)
    # when: the same brand-new member arrives 10 times at once
    outcomes = Counter(_rush([lambda: sign_up(campaign, phone)] * 10, workers=10))
    # then
    assert outcomes == {"ok:confirmed": 1, "signup.duplicate": 9}
    assert Signup.objects.filter(campaign=campaign).values("member").distinct().count() == 1


def test_control_the_real_service_with_its_guard_removed_oversells(monkeypatch):
    """The same rush through the real service, with the conditional seat UPDATE replaced by trust in
    the campaign row read before the transaction (the anti-pattern it prevents): it must oversell, or
    the rush tests above could not see a broken guard."""
    from yunying.campaigns import seats
    from yunying.campaigns.services import admission

    # given: every request reads the campaign before any of them writes
    campaign = CampaignFactory(status="published", capacity=5)
    barrier = threading.Barrier(20)
    real_get = admission.campaign_get

    def read_then_wait(campaign_id, **kwargs):
        snapshot = real_get(campaign_id, **kwargs)
        barrier.wait(timeout=30)
        return snapshot

    monkeypatch.setattr(admission, "campaign_get", read_then_wait)
    monkeypatch.setattr(seats, "seat_take", lambda campaign_id, *, now, count=1: True)  # guard removed
    calls = [lambda n=n: sign_up(campaign, mobile(n)) for n in range(20)]
    # when
    outcomes = Counter(_rush(calls, workers=20))
    # then
    assert outcomes["ok:confirmed"] > campaign.capacity
    assert Signup.objects.filter(campaign=campaign, status="confirmed").count() > campaign.capacity
