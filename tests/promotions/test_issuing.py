"""Coupons handed out on events, once per member and event, inside the event's transaction; a template
out of coupons never refuses the event. And a member price that follows the member's level."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.commerce.helpers import ingest as ingest_order
from tests.commerce.helpers import order_payload
from tests.loyalty.test_tiers import save as tiers_save
from tests.members.factories import MemberFactory
from tests.promotions.helpers import promotion_make, quote
from yunying.members.models import Member
from yunying.promotions.models import Coupon

pytestmark = pytest.mark.django_db


def _held(member, template) -> int:
    return Coupon.objects.filter(member=member, promotion=template).count()


def test_a_new_member_gets_the_registration_coupon_once():
    template = promotion_make("coupon_off", threshold_fen=10000, off_fen=1000, issue_on=["registration"])
    member = MemberFactory()
    assert _held(member, template) == 1
    assert Coupon.objects.get(member=member).source == "event"


def test_a_template_out_of_coupons_does_not_refuse_the_registration():
    promotion_make("coupon_off", threshold_fen=0, off_fen=100, issue_on=["registration"], issue_limit=1)
    first, second = MemberFactory(), MemberFactory()
    assert Coupon.objects.filter(member=first).count() == 1
    assert Coupon.objects.filter(member=second).count() == 0  # registered all the same
    assert Member.objects.filter(pk=second.pk).exists()


def test_a_confirmed_sign_up_gives_the_campaigns_coupon_once_per_campaign(open_campaign):
    other = CampaignFactory(status="published")
    mine = promotion_make(
        "coupon_off",
        threshold_fen=0,
        off_fen=500,
        issue_on=["signup"],
        campaign_id=open_campaign.pk,
        per_member_limit=5,
    )
    any_campaign = promotion_make(
        "coupon_off", threshold_fen=0, off_fen=300, issue_on=["signup"], per_member_limit=5
    )
    signup = sign_up(open_campaign, "+8613900000031")
    sign_up(other, "+8613900000031")
    member = signup.member
    assert _held(member, mine) == 1  # only for its own campaign
    assert _held(member, any_campaign) == 2  # one per campaign signed up for


def test_the_first_order_gives_the_first_order_coupon_and_the_second_does_not():
    template = promotion_make(
        "coupon_off", threshold_fen=0, off_fen=500, issue_on=["first_order"], per_member_limit=5
    )
    ingest_order(order_payload("FO-1", phone="+8613900000041"))
    ingest_order(order_payload("FO-2", phone="+8613900000041"))
    member = Member.objects.get(orders__external_id="FO-1")
    assert _held(member, template) == 1


def test_a_tier_upgrade_gives_the_upgrade_coupon_once_per_level_reached():
    tiers_save()
    template = promotion_make(
        "coupon_off", threshold_fen=0, off_fen=500, issue_on=["tier_upgrade"], per_member_limit=5
    )
    ingest_order(order_payload("TU-1", phone="+8613900000051"))  # ¥149.97: 银卡
    member = Member.objects.get(orders__external_id="TU-1")
    assert _held(member, template) == 1


def test_a_member_price_of_the_members_own_level(open_campaign):
    tiers_save()  # 金卡 (rank 2, 500 growth) has 9.5折
    promotion_make("member_price", permille=0, min_tier_rank=1)
    guest = quote(None)  # the helpers' cart: 20000 fen
    ingest_order(order_payload("LV-1", phone="+8613900000061", lines=[
        {"sku": "BIG", "category": "x", "unit_price_fen": 60000, "quantity": 1, "paid_fen": 60000}
    ]))  # fmt: skip
    gold = Member.objects.get(orders__external_id="LV-1")
    priced = quote(gold.pk)
    assert guest.quote.payable_fen == 20000
    assert priced.quote.payable_fen == 20000 - 20000 * 50 // 1000  # 9.5折 on every line
    assert [a.kind for a in priced.quote.applied] == ["member_price"]
