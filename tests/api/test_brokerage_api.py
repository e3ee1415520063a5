"""/api/v1/loyalty/promoters: look-up by code, binding (201, then 200; Idempotency-Key), summary,
permissions, and every refusal as problem+json with its code."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem
from tests.loyalty.brokerage_helpers import OPERATOR, bind, buy, member, promoter
from yunying.core.permissions import Role
from yunying.loyalty import brokerage
from yunying.loyalty.models import PromoterBinding, PromoterState

pytestmark = pytest.mark.django_db

URL = "/api/v1/loyalty/promoters"


@pytest.fixture
def storefront(api_as):
    return api_as(Role.INTEGRATION)


def test_a_promoter_by_code_shows_a_partner_name_and_nothing_personal(storefront):
    partner = promoter(partner="茶友会")
    response = storefront.get(f"{URL}/{partner.code}")
    assert response.status_code == 200, response.content
    assert response.json() == {"code": partner.code, "display_name": "茶友会", "active": True}
    assert_problem(storefront.get(f"{URL}/NOSUCHCODE"), 404, "brokerage.promoter_not_found")


def test_bind_then_replay_then_idempotency_key(storefront):
    p, buyer = promoter(member("p")), member("buyer")
    body = {"member_id": buyer.pk, "source": "link"}
    first = storefront.post_json(f"{URL}/{p.code}/bindings", body, HTTP_IDEMPOTENCY_KEY="k-1")
    retried = storefront.post_json(f"{URL}/{p.code}/bindings", body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = storefront.post_json(f"{URL}/{p.code}/bindings", body)
    assert first.status_code == 201, first.content
    assert retried.status_code == 201 and retried.json() == first.json()
    assert again.status_code == 200 and again.json()["promoter_code"] == p.code
    assert PromoterBinding.objects.count() == 1


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("self", 409, "brokerage.self_binding"),
        ("other", 409, "brokerage.already_bound"),
        ("circular", 409, "brokerage.circular"),
        ("inactive", 409, "brokerage.promoter_inactive"),
        ("no-member", 404, "member.not_found"),
    ],
)
def test_binding_refusals(storefront, case, status, code):
    ma = member("a")
    a = promoter(ma)
    target, member_id = a, member("x").pk
    if case == "self":
        member_id = ma.pk
    elif case == "other":
        taken = member("y")
        bind(taken, promoter(member("z")))
        member_id = taken.pk
    elif case == "circular":
        mb = member("b")
        bind(mb, a)
        target, member_id = promoter(mb), ma.pk
    elif case == "inactive":
        brokerage.promoter_transition(promoter_id=a.pk, state=PromoterState.SUSPENDED, actor=OPERATOR)
    elif case == "no-member":
        member_id = 10**9
    response = storefront.post_json(f"{URL}/{target.code}/bindings", {"member_id": member_id})
    assert_problem(response, status, code)


def test_binding_needs_the_permission(api_as):
    p = promoter(member("p"))
    response = api_as(Role.SUPPORT).post_json(f"{URL}/{p.code}/bindings", {"member_id": member("x").pk})
    assert_problem(response, 403, "core.permission_denied")


def test_summary(storefront):
    brokerage.rule_set(category="*", level1_permille=100, level2_permille=0, actor=OPERATOR)
    p, buyer = promoter(member("p")), member("buyer")
    bind(buyer, p)
    buy(buyer)
    response = storefront.get(f"{URL}/{p.code}/summary")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["held_fen"], body["balance_fen"], body["bound_members"], body["orders"]) == (
        1499,
        1499,
        1,
        1,
    )
    assert_problem(storefront.get(f"{URL}/ZZZZ9999/summary"), 404, "brokerage.promoter_not_found")


def test_support_cannot_read_commission(api_as):
    """Attacker review: the support key read a promoter's commission the support console may not."""
    p = promoter(member("p2"))
    response = api_as(Role.SUPPORT).get(f"{URL}/{p.code}/summary")
    assert_problem(response, 403, "core.permission_denied")
