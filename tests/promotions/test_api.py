"""/api/v1/quotes and the coupon routes through HTTP: the quote says why, the order redeems it, every
refusal is problem+json with its code, queries stay constant in lines and promotions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.helpers import assert_problem
from tests.members.factories import MemberFactory
from tests.promotions.helpers import promotion_make
from yunying.core.permissions import SYSTEM, Role
from yunying.promotions.models import Coupon, CouponState, Redemption
from yunying.promotions.services import code_batch_create, coupon_issue

pytestmark = pytest.mark.django_db

PHONE = "+8613900000002"
LINES = [
    {"sku": "TEA-1", "category": "tea", "unit_price_fen": 12000, "quantity": 1},
    {"sku": "CUP-1", "category": "ware", "unit_price_fen": 3975, "quantity": 2},
]  # 19950 fen: ¥199.50


@pytest.fixture
def storefront(api_as):
    return api_as(Role.INTEGRATION)


@pytest.fixture
def member():
    return MemberFactory(phone=PHONE, external_id="M-1")


def _quote(client, **body):
    body.setdefault("member", {"external_id": "M-1"})
    body.setdefault("lines", LINES)
    body.setdefault("channel", "app")
    return client.post_json("/api/v1/quotes", body)


def test_199_50_does_not_meet_200_and_the_quote_says_by_how_much(storefront, member):
    promotion = promotion_make("spend_off", steps=[[20000, 3000]])
    # when
    response = _quote(storefront)
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["payable_fen"] == 19950 and body["applied"] == []
    assert body["not_applied"] == [
        {
            "key": f"p{promotion.pk}",
            "promotion_id": promotion.pk,
            "coupon_id": None,
            "name": promotion.name,
            "reason": "threshold_not_met",
            "message": body["not_applied"][0]["message"],
            "data": {"threshold_fen": 20000, "base_fen": 19950},
        }
    ]


def test_the_quote_suggests_the_best_coupon_and_the_order_redeems_the_chosen_one(storefront, member):
    small = promotion_make("coupon_off", name="减5", threshold_fen=0, off_fen=500)
    big = promotion_make("coupon_off", name="满100减20", threshold_fen=10000, off_fen=2000)
    coupons = [
        coupon_issue(promotion_id=p.pk, member_id=member.pk, source="issue", actor=SYSTEM).coupon
        for p in (small, big)
    ]
    # when no coupon is chosen, the best one is suggested
    suggested = _quote(storefront).json()["suggestion"]
    assert suggested == {"coupon_ids": [coupons[1].pk], "saves_fen": 2000}
    # when the member takes it
    quoted = _quote(storefront, coupon_ids=[coupons[1].pk]).json()
    assert quoted["payable_fen"] == 17950
    assert sum(line["paid_fen"] for line in quoted["lines"]) == 17950
    order = {
        "external_id": "SO-Q1",
        "member": {"external_id": "M-1"},
        "channel": "app",
        "paid_at": quoted["quoted_at"],
        "lines": [
            {**line, "paid_fen": paid["paid_fen"]} for line, paid in zip(LINES, quoted["lines"], strict=True)
        ],
        "quote": quoted["quote"],
    }
    created = storefront.post_json("/api/v1/orders", order)
    # then
    assert created.status_code == 201, created.content
    assert Coupon.objects.get(pk=coupons[1].pk).state == CouponState.USED
    assert Redemption.objects.get().amount_fen == 2000
    # a quote prices one order: a second order with it is refused, and nothing is recorded
    again = storefront.post_json("/api/v1/orders", {**order, "external_id": "SO-Q2"})
    assert_problem(again, 409, "promotion.quote_used")
    assert storefront.get("/api/v1/orders/SO-Q2").status_code == 404
    # and a fresh quote for the same coupon says it is no longer usable
    fresh = _quote(storefront, coupon_ids=[coupons[1].pk]).json()
    assert [n["reason"] for n in fresh["not_applied"] if n["coupon_id"] == coupons[1].pk] == ["unavailable"]


def test_another_members_coupon_is_not_applied_and_the_quote_says_so(storefront, member):
    other = MemberFactory(phone="+8613900000003", external_id="M-2")
    template = promotion_make("coupon_off", threshold_fen=0, off_fen=500)
    theirs = coupon_issue(promotion_id=template.pk, member_id=other.pk, source="issue", actor=SYSTEM).coupon
    body = _quote(storefront, coupon_ids=[theirs.pk]).json()
    assert body["payable_fen"] == 19950
    assert [(n["coupon_id"], n["reason"]) for n in body["not_applied"]] == [(theirs.pk, "unavailable")]


def test_a_quote_is_pure(storefront, member):
    promotion_make("spend_off", steps=[[10000, 1000]])
    with CaptureQueriesContext(connection) as queries:
        _quote(storefront)
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    writes = [sql for sql in writes if "api_key" not in sql.lower() and "apikey" not in sql.lower()]
    assert writes == []


def test_queries_per_quote_are_constant_in_lines_and_promotions(storefront, member):
    promotion_make("spend_off", steps=[[10000, 1000]])
    _quote(storefront)  # warm caches (API key)
    with CaptureQueriesContext(connection) as small:
        _quote(storefront, lines=LINES[:1])
    for n in range(20):
        promotion_make("special_price", price_fen=100 + n, skus=[f"SKU-{n}"])
    many_lines = [
        {"sku": f"SKU-{n}", "category": "c", "unit_price_fen": 1000, "quantity": 1} for n in range(50)
    ]
    with CaptureQueriesContext(connection) as large:
        _quote(storefront, lines=many_lines)
    assert len(large) == len(small), [q["sql"] for q in large]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{**LINES[0], "unit_price_fen": 12.5}]}, "lines.0.unit_price_fen"),
        ({"lines": [{**LINES[0], "unit_price_fen": -1}]}, "lines.0.unit_price_fen"),
        ({"lines": [{**LINES[0], "quantity": 0}]}, "lines.0.quantity"),
        ({"coupon_ids": [0]}, "coupon_ids.0"),
        ({"shipping_fen": "10"}, "shipping_fen"),
        ({"channel": "APP!"}, "channel"),
    ],
    ids=[
        "no-lines",
        "float-price",
        "negative-price",
        "zero-quantity",
        "coupon-id-0",
        "shipping-text",
        "bad-channel",
    ],
)
def test_bad_quotes_name_the_field(storefront, member, body, field):
    problem = assert_problem(_quote(storefront, **body), 422, "core.invalid")
    assert field in [error["field"] for error in problem["errors"]]


def test_quotes_need_the_permission(api_as, member):
    assert_problem(_quote(api_as(Role.AUDITOR)), 403, "core.permission_denied")


def test_claim_and_list_a_members_coupons(storefront, member):
    template = promotion_make(
        "coupon_off", name="新人券", threshold_fen=0, off_fen=500, claimable=True, issue_limit=1
    )
    claimable = storefront.get("/api/v1/promotions/claimable").json()
    assert [(c["promotion_id"], c["left"]) for c in claimable] == [(template.pk, 1)]
    created = storefront.post_json("/api/v1/promotions/members/M-1/coupons", {"promotion_id": template.pk})
    assert created.status_code == 201, created.content
    mine = storefront.get("/api/v1/promotions/members/M-1/coupons?state=available").json()
    assert [c["name"] for c in mine["items"]] == ["新人券"]
    # the total limit was 1
    MemberFactory(phone="+8613900000004", external_id="M-3")
    refused = storefront.post_json("/api/v1/promotions/members/M-3/coupons", {"promotion_id": template.pk})
    assert_problem(refused, 409, "promotion.issue_limit_reached")
    # and once is the member's limit
    again = storefront.post_json("/api/v1/promotions/members/M-1/coupons", {"promotion_id": template.pk})
    assert again.status_code == 409


def test_a_code_works_once(storefront, member):
    template = promotion_make("coupon_off", threshold_fen=0, off_fen=500, per_member_limit=5)
    batch = code_batch_create(promotion_id=template.pk, name="print run", size=2, actor=SYSTEM)
    code = batch.codes.first().code
    first = storefront.post_json("/api/v1/promotions/members/M-1/coupon-codes", {"code": code.lower()})
    assert first.status_code == 201, first.content
    assert_problem(
        storefront.post_json("/api/v1/promotions/members/M-1/coupon-codes", {"code": code}),
        409,
        "promotion.code_used",
    )
    assert_problem(
        storefront.post_json("/api/v1/promotions/members/M-1/coupon-codes", {"code": "NOPE-NOPE"}),
        404,
        "promotion.code_unknown",
    )


def test_unknown_member_and_promotion(storefront, member):
    assert_problem(
        storefront.post_json("/api/v1/promotions/members/NOBODY/coupons", {"promotion_id": 1}),
        404,
        "promotion.member_not_found",
    )
    assert_problem(
        storefront.post_json("/api/v1/promotions/members/M-1/coupons", {"promotion_id": 999}),
        404,
        "promotion.not_found",
    )


def test_codes_through_the_api_share_the_member_pages_hourly_try_limit(storefront, member, settings):
    """A storefront forwarding what members type must not be a way around the limit (attacker review)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "coupon_code_member_hour": 3}
    url = "/api/v1/promotions/members/M-1/coupon-codes"
    answers = [storefront.post_json(url, {"code": f"WRONGCODE{n}"}).status_code for n in range(5)]
    assert answers == [404, 404, 404, 429, 429]


def test_a_quote_takes_the_member_by_external_id_only(storefront, member):
    """By phone, a quote told a key without member.lookup whether a phone is a member (attacker review)."""
    response = _quote(storefront, member={"phone": PHONE})
    assert_problem(response, 422, "core.invalid")
