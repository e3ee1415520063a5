"""The coupon centre's reads (promotions.selectors): what a member may still claim or buy with points,
their coupons split into usable / ending soon / history, the usable count; constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.promotions.helpers import promotion_make
from yunying.core.permissions import SYSTEM
from yunying.members.models import Member
from yunying.promotions import selectors
from yunying.promotions.models import PromotionState
from yunying.promotions.services import coupon_claim, coupon_issue, coupon_void, promotion_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    return Member.objects.create(external_id="centre-1")


def issue(template, member, **kwargs):
    return coupon_issue(
        promotion_id=template.pk, member_id=member.pk, source="issue", actor=SYSTEM, **kwargs
    ).coupon


def test_claimables_say_what_is_left_and_whether_the_member_holds_their_limit(member):
    # given two claimable templates (one limited, one paused) and one not claimable
    limited = promotion_make("coupon_off", off_fen=500, claimable=True, issue_limit=5, per_member_limit=2)
    paused = promotion_make("coupon_off", off_fen=600, claimable=True)
    promotion_transition(promotion_id=paused.pk, to=PromotionState.PAUSED, actor=SYSTEM)
    promotion_make("coupon_off", off_fen=700)
    # when the member claims one of two allowed
    coupon_claim(promotion_id=limited.pk, member_id=member.pk, actor=SYSTEM)
    (row,) = selectors.member_claimables(member.pk)
    # then
    assert (row["promotion_id"], row["left"], row["held"], row["held_all"], row["sold_out"]) == (
        limited.pk, 4, 1, False, False,
    )  # fmt: skip
    coupon_claim(promotion_id=limited.pk, member_id=member.pk, actor=SYSTEM)
    (row,) = selectors.member_claimables(member.pk)
    assert row["held_all"] and row["left"] == 3


def test_a_withdrawn_coupon_does_not_count_against_the_limit(member):
    template = promotion_make("coupon_off", off_fen=500, claimable=True)
    coupon = coupon_claim(promotion_id=template.pk, member_id=member.pk, actor=SYSTEM).coupon
    coupon_void(coupon_id=coupon.pk, actor=SYSTEM, reason="test")
    (row,) = selectors.member_claimables(member.pk)
    assert row["held"] == 0 and not row["held_all"]


def test_points_coupons_are_the_running_templates_with_a_price(member):
    on_sale = promotion_make("coupon_off", off_fen=500, points_price=100)
    promotion_make("coupon_off", off_fen=500)  # no price
    draft = promotion_make("coupon_off", off_fen=500, points_price=100, start=False)
    assert [row["promotion_id"] for row in selectors.points_coupons(member.pk)] == [on_sale.pk]
    assert selectors.points_coupon_get(member.pk, on_sale.pk)["points_price"] == 100
    assert selectors.points_coupon_get(member.pk, draft.pk) is None
    assert selectors.points_coupon_get(member.pk, 10**9) is None


def test_the_wallet_splits_usable_soon_and_history(member):
    now = timezone.now()
    later = issue(promotion_make("coupon_off", off_fen=100, valid_days=30), member)
    soon = issue(promotion_make("coupon_off", off_fen=200, valid_days=2), member)
    ended = issue(
        promotion_make("coupon_off", off_fen=300, valid_days=1), member, now=now - timedelta(days=2)
    )
    void = issue(promotion_make("coupon_off", off_fen=400), member)
    coupon_void(coupon_id=void.pk, actor=SYSTEM, reason="test")
    wallet = selectors.member_coupon_wallet(member.pk)
    assert [row["id"] for row in wallet["usable"]] == [soon.pk, later.pk]
    assert [row["id"] for row in wallet["expiring"]] == [soon.pk]
    assert {row["id"]: row["state"] for row in wallet["history"]} == {ended.pk: "expired", void.pk: "void"}
    assert selectors.member_coupons_usable_count(member.pk) == 2


@pytest.mark.parametrize("rows", [1, 5])
def test_the_centre_reads_in_constant_queries(member, rows, django_assert_num_queries):
    for n in range(rows):
        template = promotion_make("coupon_off", off_fen=100 + n, claimable=True, points_price=10)
        issue(template, member)
    with django_assert_num_queries(2):
        selectors.member_claimables(member.pk)
    with django_assert_num_queries(2):
        selectors.points_coupons(member.pk)
    with django_assert_num_queries(1):
        selectors.member_coupon_wallet(member.pk)
