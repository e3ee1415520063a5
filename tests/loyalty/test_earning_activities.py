"""Points for what members do (L2, L3): a confirmed sign-up, attendance, registering — each
rewarded once, whichever path confirmed it, and never when the transaction rolls back."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.commerce.helpers import ingest, order_payload
from tests.loyalty.helpers import account, held, rules_set
from tests.members.factories import mobile
from tests.members.test_registration import _sign_in
from yunying.campaigns.services.admission import signup_confirm, signup_reject, signup_withdraw
from yunying.campaigns.services.attendance import attendance_mark
from yunying.campaigns.services.lifecycle import campaign_close
from yunying.campaigns.services.lottery import lottery_draw
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM
from yunying.loyalty.models import PointLot, PointPosting, PostingSource
from yunying.members.services import member_resolve

pytestmark = pytest.mark.django_db

WELCOME, SIGNUP, ATTEND = 100, 10, 20


@pytest.fixture(autouse=True)
def rules():
    return rules_set(welcome_points=WELCOME, signup_points=SIGNUP, attendance_points=ATTEND)


def _by_source(member_id: int) -> dict[str, int]:
    totals: dict[str, int] = {}
    for source, points in PointPosting.objects.filter(account__member_id=member_id).values_list(
        "source", "points"
    ):
        totals[source] = totals.get(source, 0) + points
    return totals


def test_a_new_member_signed_in_on_h5_gets_the_welcome_points_once():
    # when
    member = _sign_in(mobile(1))
    member_resolve(phone=mobile(1), external_id=None)  # signs in again
    # then
    assert _by_source(member.pk) == {PostingSource.WELCOME: WELCOME}
    lot = PointLot.objects.get(account__member_id=member.pk)
    assert lot.pending_until is None and lot.expires_at is not None


def test_a_member_created_by_a_storefront_order_gets_the_welcome_points():
    order = ingest(order_payload("SO-W", phone=mobile(2))).order
    assert _by_source(order.member_id)[PostingSource.WELCOME] == WELCOME


def test_a_first_come_sign_up_earns_the_sign_up_points_and_attendance_its_own():
    # given
    campaign = CampaignFactory(status="published", capacity=5)
    # when
    signup = sign_up(campaign, mobile(3))
    attendance_mark(checkin_code=signup.checkin_code, campaign_id=campaign.pk, actor=SYSTEM)
    # then
    assert _by_source(signup.member_id) == {
        PostingSource.WELCOME: WELCOME,
        PostingSource.SIGNUP: SIGNUP,
        PostingSource.ATTENDANCE: ATTEND,
    }
    assert PointPosting.objects.get(source=PostingSource.SIGNUP).business_key == (
        f"signup:{campaign.pk}:{signup.member_id}:{signup.pk}"
    )


def test_a_pending_sign_up_earns_only_when_approved():
    campaign = CampaignFactory(status="published", review_mode="manual")
    signup = sign_up(campaign, mobile(4))
    assert PostingSource.SIGNUP not in _by_source(signup.member_id)
    signup_confirm(campaign_id=campaign.pk, signup_id=signup.pk, actor=SYSTEM)
    assert _by_source(signup.member_id)[PostingSource.SIGNUP] == SIGNUP


def test_a_waitlisted_sign_up_earns_when_promoted():
    # given: one seat, taken; a second member waits
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    first = sign_up(campaign, mobile(5))
    waiting = sign_up(campaign, mobile(6))
    assert waiting.status == "waitlisted"
    assert PostingSource.SIGNUP not in _by_source(waiting.member_id)
    # when
    signup_withdraw(campaign_id=campaign.pk, signup_id=first.pk, actor=SYSTEM, reason="有事")
    # then
    assert _by_source(waiting.member_id)[PostingSource.SIGNUP] == SIGNUP


def test_lottery_winners_earn_and_the_rest_do_not():
    campaign = CampaignFactory(
        status="published", admission_mode="lottery", capacity=2, waitlist_enabled=False
    )
    signups = [sign_up(campaign, mobile(10 + n)) for n in range(5)]
    campaign_close(campaign_id=campaign.pk, actor=SYSTEM)
    lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    earned = [PostingSource.SIGNUP in _by_source(s.member_id) for s in signups]
    assert sorted(earned) == [False, False, False, True, True]


def test_withdrawing_takes_the_sign_up_points_back_and_signing_up_again_earns_them_again():
    """Sign up, withdraw, sign up, withdraw…: at most one sign-up's points at a time (farming nets 0)."""
    campaign = CampaignFactory(status="published", capacity=5)
    first = sign_up(campaign, mobile(7))
    signup_withdraw(campaign_id=campaign.pk, signup_id=first.pk, actor=SYSTEM, reason="改期")
    assert _by_source(first.member_id)[PostingSource.SIGNUP] == 0
    again = sign_up(campaign, mobile(7))
    assert again.pk != first.pk and again.status == "confirmed"
    assert _by_source(again.member_id)[PostingSource.SIGNUP] == SIGNUP
    signup_withdraw(campaign_id=campaign.pk, signup_id=again.pk, actor=SYSTEM, reason="又改期")
    assert _by_source(again.member_id)[PostingSource.SIGNUP] == 0
    assert account(again.member_id).balance == WELCOME


def test_a_rejected_sign_up_gives_its_points_back_and_a_pending_one_had_none():
    campaign = CampaignFactory(status="published", capacity=5)
    confirmed = sign_up(campaign, mobile(8))
    signup_reject(campaign_id=campaign.pk, signup_id=confirmed.pk, actor=SYSTEM, reason="虚假报名")
    assert _by_source(confirmed.member_id)[PostingSource.SIGNUP] == 0
    reviewed = CampaignFactory(status="published", review_mode="manual")
    pending = sign_up(reviewed, mobile(9))
    signup_withdraw(campaign_id=reviewed.pk, signup_id=pending.pk, actor=SYSTEM, reason="不去了")
    assert PostingSource.SIGNUP not in _by_source(pending.member_id)


def test_a_sign_up_refused_for_capacity_earns_nothing():
    # given: a full campaign without a waiting list
    campaign = CampaignFactory(status="published", capacity=1)
    sign_up(campaign, mobile(8))
    # when
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(9))
    # then: no new member, so no welcome points, and no sign-up points
    assert refused.value.code == "campaign.full"
    assert PointPosting.objects.filter(source=PostingSource.WELCOME).count() == 1


def test_zero_points_in_the_rules_post_nothing():
    rules_set(welcome_points=0, signup_points=0, attendance_points=0)
    campaign = CampaignFactory(status="published", capacity=5)
    signup = sign_up(campaign, mobile(11))
    assert held(signup.member_id) == 0
    assert account(signup.member_id).pk is None  # not even an account row


def test_a_sign_up_rolled_back_at_the_capacity_guard_keeps_no_points(monkeypatch):
    # given: the campaign looks open, but the guard at the end of the transaction finds it closed
    from yunying.campaigns.services import admission

    campaign = CampaignFactory(status="published", capacity=5)
    monkeypatch.setattr(admission.seats, "seat_take", lambda *a, **k: False)
    monkeypatch.setattr(admission.seats, "entry_hold", lambda *a, **k: None)
    # when
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(12))
    # then: the member, their welcome points and the account rolled back together
    assert refused.value.code == "campaign.not_open"
    assert not PointPosting.objects.exists()
