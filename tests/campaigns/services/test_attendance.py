"""Attendance (C10): a confirmed member of this campaign is checked in once, by a code typed any way."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Signup
from yunying.campaigns.selectors import campaign_stats
from yunying.campaigns.services.admission import signup_withdraw
from yunying.campaigns.services.attendance import attendance_mark, checkin_code_normalize
from yunying.core.errors import DomainError
from yunying.core.models import AuditEntry
from yunying.core.permissions import Actor, Role

STAFF = Actor(kind="user", id=7, label="door staff", role=Role.EXECUTION)
AUDITOR = Actor(kind="user", id=8, label="auditor", role=Role.AUDITOR)


@pytest.fixture
def campaign(db):
    return CampaignFactory(status="published", capacity=5)


@pytest.fixture
def confirmed(campaign):
    return sign_up(campaign, mobile(1))


def _spaced(code: str) -> str:
    return f" {code[:3].lower()} {code[3:6]}-{code[6:].lower()} "


@pytest.mark.parametrize(
    "typed", [lambda c: c, lambda c: c.lower(), _spaced], ids=["as-is", "lower", "spaced"]
)
def test_a_confirmed_members_code_checks_them_in(campaign, confirmed, typed):
    # when
    signup = attendance_mark(checkin_code=typed(confirmed.checkin_code), campaign_id=campaign.pk, actor=STAFF)
    # then
    assert signup.pk == confirmed.pk and signup.attended_at is not None
    confirmed.refresh_from_db()
    assert confirmed.attended_at == signup.attended_at
    entry = AuditEntry.objects.get(action="signup.attend")
    assert (entry.object_id, entry.actor_label) == (str(confirmed.pk), "door staff")


def _refusal(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        attendance_mark(actor=STAFF, **kwargs)
    return caught.value


def test_a_code_of_another_campaign_is_refused(campaign, confirmed):
    other = CampaignFactory(status="published")
    error = _refusal(checkin_code=confirmed.checkin_code, campaign_id=other.pk)
    assert error.code == "attendance.wrong_campaign"
    assert not Signup.objects.filter(attended_at__isnull=False).exists()


@pytest.mark.parametrize("code", ["", "ABC", "0000000000", "OOOOOOOOOO", "x" * 10_000, "23456789AB"])
def test_an_unknown_or_malformed_code_is_refused(campaign, confirmed, code):
    assert _refusal(checkin_code=code, campaign_id=campaign.pk).code == "attendance.unknown_code"


def test_a_pending_sign_up_is_not_checked_in(db):
    campaign = CampaignFactory(status="published", review_mode="manual")
    pending = sign_up(campaign, mobile(2))
    error = _refusal(checkin_code=pending.checkin_code, campaign_id=campaign.pk)
    assert (error.code, error.data["status"]) == ("attendance.not_confirmed", "pending_review")


def test_a_withdrawn_sign_up_is_not_checked_in(campaign, confirmed):
    signup_withdraw(campaign_id=campaign.pk, signup_id=confirmed.pk, actor=STAFF, reason="有事")
    error = _refusal(checkin_code=confirmed.checkin_code, campaign_id=campaign.pk)
    assert (error.code, error.data["status"]) == ("attendance.not_confirmed", "withdrawn")


def test_a_second_scan_is_refused_with_the_first_time_and_counts_once(campaign, confirmed):
    # given
    first = attendance_mark(checkin_code=confirmed.checkin_code, campaign_id=campaign.pk, actor=STAFF)
    # when
    error = _refusal(checkin_code=confirmed.checkin_code, campaign_id=campaign.pk)
    # then
    assert error.code == "attendance.already_checked_in"
    assert error.data["attended_at"] == first.attended_at.isoformat()
    assert AuditEntry.objects.filter(action="signup.attend").count() == 1
    assert campaign_stats(campaign).attended == 1


def test_a_role_without_attendance_mark_is_refused(campaign, confirmed):
    with pytest.raises(DomainError) as caught:
        attendance_mark(checkin_code=confirmed.checkin_code, campaign_id=campaign.pk, actor=AUDITOR)
    assert caught.value.code == "core.permission_denied"
    confirmed.refresh_from_db()
    assert confirmed.attended_at is None


def test_participation_rate_is_attended_over_confirmed(campaign):
    # given: 4 confirmed, 1 checked in
    signups = [sign_up(campaign, mobile(n)) for n in range(4)]
    attendance_mark(checkin_code=signups[0].checkin_code, campaign_id=campaign.pk, actor=STAFF)
    # when
    stats = campaign_stats(campaign)
    # then
    assert (stats.attended, stats.participation_rate) == (1, 0.25)


def test_participation_rate_is_none_without_confirmed_sign_ups(campaign):
    assert campaign_stats(campaign).participation_rate is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("abcdefghjk", "ABCDEFGHJK"), ("ABC DEF-GHJK", "ABCDEFGHJK"), ("ABCDEFGHJ", None), ("ABCDEFGHJ1", None)],
)
def test_codes_are_normalised_before_any_query(raw, expected):
    assert checkin_code_normalize(raw) == expected


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_concurrent_scans_of_one_code_check_in_once():
    # given
    campaign = CampaignFactory(status="published", capacity=5)
    signup = sign_up(campaign, mobile(3))
    threads = 8
    barrier = threading.Barrier(threads)

    def scan(_):
        try:
            barrier.wait(timeout=30)
            attendance_mark(checkin_code=signup.checkin_code, campaign_id=campaign.pk, actor=STAFF)
            return "ok"
        except DomainError as exc:
            return exc.code
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = Counter(pool.map(scan, range(threads)))
    # then
    assert outcomes == {"ok": 1, "attendance.already_checked_in": threads - 1}
    assert AuditEntry.objects.filter(action="signup.attend").count() == 1
    assert campaign_stats(campaign).attended == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_control_with_the_guard_removed_the_same_rush_counts_twice(monkeypatch):
    """The rush above through the real service, its conditional UPDATE replaced by an unconditional
    one after every scan has read the sign-up: it must double count, or the test could not see a
    broken guard."""
    from yunying.campaigns.services import attendance

    # given
    campaign = CampaignFactory(status="published", capacity=5)
    signup = sign_up(campaign, mobile(4))
    threads = 4
    barrier = threading.Barrier(threads)
    real_read = attendance._signup_by_code

    def read_then_wait(code):
        found = real_read(code)
        barrier.wait(timeout=30)
        return found

    monkeypatch.setattr(attendance, "_signup_by_code", read_then_wait)
    monkeypatch.setattr(
        attendance, "_mark", lambda s, now: Signup.objects.filter(pk=s.pk).update(attended_at=now) > 0
    )

    def scan(_):
        try:
            attendance.attendance_mark(checkin_code=signup.checkin_code, campaign_id=campaign.pk, actor=STAFF)
            return "ok"
        except DomainError as exc:
            return exc.code
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = Counter(pool.map(scan, range(threads)))
    # then
    assert outcomes["ok"] > 1
    assert AuditEntry.objects.filter(action="signup.attend").count() > 1


def test_the_api_stats_carry_the_participation_rate(api, campaign, confirmed):
    from tests.api.helpers import campaigns_url

    attendance_mark(checkin_code=confirmed.checkin_code, campaign_id=campaign.pk, actor=STAFF)
    stats = api.get(campaigns_url(campaign.pk, "stats")).json()
    assert (stats["attended"], stats["participation_rate"]) == (1, 1.0)
