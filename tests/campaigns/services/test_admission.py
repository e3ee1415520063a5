"""Admission rules one case at a time: statuses on entry, review, waiting-list order, leaving."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Signup, SignupEvent
from yunying.campaigns.selectors import counts_from_events
from yunying.campaigns.services.admission import signup_confirm, signup_reject, signup_withdraw
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM

pytestmark = pytest.mark.django_db


def _withdraw(signup, reason="临时有事"):
    return signup_withdraw(campaign_id=signup.campaign_id, signup_id=signup.pk, actor=SYSTEM, reason=reason)


@pytest.mark.parametrize(
    ("campaign_kwargs", "expected"),
    [
        pytest.param({}, "confirmed", id="first-come-auto"),
        pytest.param({"review_mode": "manual"}, "pending_review", id="manual-review"),
        pytest.param({"admission_mode": "lottery"}, "registered", id="lottery"),
        pytest.param(
            {"capacity": 1, "seats_taken": 1, "waitlist_enabled": True}, "waitlisted", id="full-waitlist"
        ),
    ],
)
def test_entry_status_follows_the_campaign_modes(campaign_kwargs, expected):
    # given
    campaign = CampaignFactory(status="published", **campaign_kwargs)
    # when
    signup = sign_up(campaign, mobile(1))
    # then
    assert signup.status == expected
    assert SignupEvent.objects.get(signup=signup).to_status == expected


def test_full_campaign_without_waitlist_refuses_and_writes_nothing():
    # given
    campaign = CampaignFactory(status="published", capacity=1)
    sign_up(campaign, mobile(1))
    # when
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(2))
    # then
    assert refused.value.code == "campaign.full"
    assert Signup.objects.filter(campaign=campaign).count() == 1
    campaign.refresh_from_db()
    assert campaign.seats_taken == 1


@pytest.mark.parametrize(
    ("campaign_kwargs", "code"),
    [
        pytest.param({"status": "draft"}, "campaign.not_open", id="draft"),
        pytest.param({"status": "closed"}, "campaign.not_open", id="closed"),
        pytest.param({"status": "cancelled"}, "campaign.not_open", id="cancelled"),
        pytest.param(
            {"status": "published", "channels": ["app"]}, "campaign.channel_not_allowed", id="channel"
        ),
    ],
)
def test_sign_up_refusals(campaign_kwargs, code):
    # given
    campaign = CampaignFactory(**campaign_kwargs)
    # when
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(1), channel="h5")
    # then
    assert refused.value.code == code


def test_window_bounds_are_enforced(settings):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    early = CampaignFactory(status="published", signup_start_at=now + timedelta(minutes=5))
    late = CampaignFactory(
        status="published", signup_start_at=now - timedelta(days=2), signup_end_at=now - timedelta(seconds=1)
    )
    for campaign in (early, late):
        with pytest.raises(DomainError) as refused:
            sign_up(campaign, mobile(1))
        assert refused.value.code == "campaign.not_open"


def test_review_confirms_into_a_seat_then_waitlist_when_full():
    # given
    campaign = CampaignFactory(status="published", review_mode="manual", capacity=1, waitlist_enabled=True)
    first, second = sign_up(campaign, mobile(1)), sign_up(campaign, mobile(2))
    # when
    first = signup_confirm(campaign_id=campaign.pk, signup_id=first.pk, actor=SYSTEM)
    second = signup_confirm(campaign_id=campaign.pk, signup_id=second.pk, actor=SYSTEM)
    # then
    campaign.refresh_from_db()
    assert (first.status, second.status, campaign.seats_taken) == ("confirmed", "waitlisted", 1)


def test_review_refuses_confirmation_when_full_without_waitlist():
    campaign = CampaignFactory(status="published", review_mode="manual", capacity=1)
    first, second = sign_up(campaign, mobile(1)), sign_up(campaign, mobile(2))
    signup_confirm(campaign_id=campaign.pk, signup_id=first.pk, actor=SYSTEM)
    with pytest.raises(DomainError) as refused:
        signup_confirm(campaign_id=campaign.pk, signup_id=second.pk, actor=SYSTEM)
    assert refused.value.code == "campaign.full"
    second.refresh_from_db()
    assert second.status == "pending_review"


def test_confirming_twice_is_an_invalid_transition():
    campaign = CampaignFactory(status="published", review_mode="manual")
    signup = sign_up(campaign, mobile(1))
    signup_confirm(campaign_id=campaign.pk, signup_id=signup.pk, actor=SYSTEM)
    with pytest.raises(DomainError) as refused:
        signup_confirm(campaign_id=campaign.pk, signup_id=signup.pk, actor=SYSTEM)
    assert refused.value.code == "signup.invalid_transition"
    campaign.refresh_from_db()
    assert campaign.seats_taken == 1


def test_waitlist_moves_up_in_sign_up_order_when_confirmed_members_leave():
    # given: 2 seats, 3 waiting
    campaign = CampaignFactory(status="published", capacity=2, waitlist_enabled=True)
    a, b, w1, w2, w3 = (sign_up(campaign, mobile(n)) for n in range(5))
    assert [s.status for s in (a, b, w1, w2, w3)] == ["confirmed"] * 2 + ["waitlisted"] * 3
    # when: w2 leaves the queue, then a withdraws and b is rejected
    _withdraw(w2)
    _withdraw(a)
    signup_reject(campaign_id=campaign.pk, signup_id=b.pk, actor=SYSTEM, reason="信息不实")
    # then: w1 then w3 took the seats, nobody jumped the queue, the count never moved past 2
    statuses = dict(Signup.objects.filter(campaign=campaign).values_list("pk", "status"))
    assert statuses[w1.pk] == statuses[w3.pk] == "confirmed"
    assert statuses[w2.pk] == "withdrawn"
    campaign.refresh_from_db()
    assert campaign.seats_taken == 2


def test_a_seat_freed_with_nobody_waiting_is_given_back():
    campaign = CampaignFactory(status="published", capacity=2)
    signup = sign_up(campaign, mobile(1))
    _withdraw(signup)
    campaign.refresh_from_db()
    assert campaign.seats_taken == 0


def test_withdrawn_member_may_sign_up_again_but_rejected_may_not():
    campaign = CampaignFactory(status="published")
    withdrawn = sign_up(campaign, mobile(1))
    _withdraw(withdrawn)
    assert sign_up(campaign, mobile(1)).status == "confirmed"

    rejected = sign_up(campaign, mobile(2))
    signup_reject(campaign_id=campaign.pk, signup_id=rejected.pk, actor=SYSTEM, reason="重复账号")
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(2))
    assert refused.value.code == "signup.previously_refused"  # told why, not "already signed up"


@pytest.mark.parametrize("reason", ["", "   "])
def test_leaving_needs_a_reason(reason):
    campaign = CampaignFactory(status="published")
    signup = sign_up(campaign, mobile(1))
    with pytest.raises(DomainError) as refused:
        _withdraw(signup, reason=reason)
    assert refused.value.code == "signup.reason_required"
    signup.refresh_from_db()
    assert signup.status == "confirmed"


def test_a_sign_up_of_another_campaign_is_not_found():
    campaign, other = CampaignFactory(status="published"), CampaignFactory(status="published")
    signup = sign_up(campaign, mobile(1))
    with pytest.raises(DomainError) as refused:
        signup_withdraw(campaign_id=other.pk, signup_id=signup.pk, actor=SYSTEM, reason="x")
    assert refused.value.code == "signup.not_found"


def test_counts_rebuilt_from_events_equal_the_rows():
    # given: a history with every kind of move
    campaign = CampaignFactory(status="published", capacity=2, waitlist_enabled=True)
    signups = [sign_up(campaign, mobile(n)) for n in range(5)]
    _withdraw(signups[0])
    signup_reject(campaign_id=campaign.pk, signup_id=signups[3].pk, actor=SYSTEM, reason="不符合")
    # when
    rebuilt = counts_from_events(campaign.pk)
    # then
    from collections import Counter

    rows = Counter(Signup.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert rebuilt == dict(rows)
    campaign.refresh_from_db()
    assert campaign.seats_taken == rows["confirmed"]


def test_a_visibly_full_campaign_refuses_before_any_write():
    # given
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    campaign = CampaignFactory(status="published", capacity=1)
    sign_up(campaign, mobile(1))
    # when
    with CaptureQueriesContext(connection) as queries, pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(2))
    # then: refused on reads alone — the flash-crowd path takes no lock and writes nothing
    assert refused.value.code == "campaign.full"
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert not {"INSERT", "UPDATE", "BEGIN", "SAVEPOINT"} & set(statements), statements
