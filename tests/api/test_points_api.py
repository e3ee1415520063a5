"""/api/v1/loyalty points through HTTP: the summary, lots and history, spending at checkout with an
Idempotency-Key (a retry never spends twice), giving back on cancel, and a refund of the order giving
the spent points back by itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.helpers import assert_problem
from tests.commerce.helpers import ingest, order_payload
from yunying.core.permissions import SYSTEM, Role
from yunying.loyalty.ledger import ledger_reconcile, points_earn
from yunying.loyalty.models import PointAccount, PostingSource
from yunying.members.models import Member

pytestmark = pytest.mark.django_db

URL = "/api/v1/loyalty/members"


@pytest.fixture
def storefront(api_as):
    return api_as(Role.INTEGRATION)


@pytest.fixture
def member():
    member = Member.objects.create(external_id="shop-1")
    now = timezone.now()
    for key, points, days in (("a", 100, 10), ("b", 200, 400)):
        points_earn(
            member_id=member.pk, points=points, key=key, source=PostingSource.MANUAL, actor=SYSTEM,
            expires_at=now + timedelta(days=days),
        )  # fmt: skip
    return member


def spend(client, points=120, key="k-1", order_id="SO-1"):
    return client.post_json(
        f"{URL}/shop-1/points/spends", {"points": points, "order_id": order_id}, HTTP_IDEMPOTENCY_KEY=key
    )


def test_summary_lots_and_history(storefront, member):
    summary = storefront.get(f"{URL}/shop-1/points").json()
    assert (summary["balance"], summary["pending"], summary["debt"]) == (300, 0, 0)
    assert (summary["next_expiry_points"], summary["expiring_in_30_days"]) == (100, 100)
    lots = storefront.get(f"{URL}/shop-1/points/lots").json()
    assert [lot["remaining"] for lot in lots["items"]] == [100, 200]  # the order they are spent in
    history = storefront.get(f"{URL}/shop-1/points/history").json()
    assert history["count"] == 2 and history["items"][0]["kind"] == "earn"


def test_a_spend_retried_with_its_key_spends_once(storefront, member):
    first = spend(storefront)
    again = spend(storefront)
    assert first.status_code == again.status_code == 201, first.content
    assert first.json() == again.json()
    assert first.json()["balance"] == 180
    assert PointAccount.objects.get(member=member).balance == 180


def test_the_same_key_with_another_body_is_refused(storefront, member):
    spend(storefront)
    assert_problem(spend(storefront, points=121), 422, "core.idempotency_key_reused")


def test_spending_needs_a_key_and_enough_points(storefront, member):
    response = storefront.post_json(f"{URL}/shop-1/points/spends", {"points": 1, "order_id": "SO-1"})
    assert_problem(response, 422, "core.invalid")
    assert_problem(spend(storefront, points=301, key="k-2"), 409, "loyalty.insufficient_points")
    assert PointAccount.objects.get(member=member).balance == 300


@pytest.mark.parametrize("points", [0, -1, 1.5, "10", None, 10**12, True])
def test_points_must_be_a_whole_number_above_zero(storefront, member, points):
    response = storefront.post_json(
        f"{URL}/shop-1/points/spends", {"points": points, "order_id": "SO-1"}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422
    assert PointAccount.objects.get(member=member).balance == 300


def test_cancel_gives_back_in_part_then_the_rest_and_never_more(storefront, member):
    spend_id = spend(storefront).json()["spend_id"]
    part = storefront.post_json(
        f"/api/v1/loyalty/spends/{spend_id}/cancel", {"points": 20}, HTTP_IDEMPOTENCY_KEY="c1"
    )
    assert part.status_code == 200 and part.json()["restored"] == 20
    rest = storefront.post_json(f"/api/v1/loyalty/spends/{spend_id}/cancel", {}, HTTP_IDEMPOTENCY_KEY="c2")
    assert rest.json()["restored"] == 120 and rest.json()["balance"] == 300
    more = storefront.post_json(f"/api/v1/loyalty/spends/{spend_id}/cancel", {}, HTTP_IDEMPOTENCY_KEY="c3")
    assert_problem(more, 409, "loyalty.over_restore")
    assert ledger_reconcile() == []


def test_another_keys_spend_is_not_found(storefront, member, api_as):
    spend_id = spend(storefront).json()["spend_id"]
    other = api_as(Role.INTEGRATION)
    response = other.post_json(f"/api/v1/loyalty/spends/{spend_id}/cancel", {}, HTTP_IDEMPOTENCY_KEY="x")
    assert_problem(response, 404, "loyalty.posting_not_found")


def test_refunding_the_order_gives_the_spent_points_back(storefront, member):
    spend(storefront, points=100, order_id="SO-9")
    ingest(order_payload("SO-9", member={"external_id": "shop-1"}))
    response = storefront.post_json(
        "/api/v1/orders/SO-9/cancel", {"external_id": "c-1", "occurred_at": timezone.now().isoformat()}
    )
    assert response.status_code in (200, 201), response.content
    assert PointAccount.objects.get(member=member).balance == 300


def test_roles(api_as, member):
    for role in (Role.AUDITOR,):
        assert_problem(api_as(role).get(f"{URL}/shop-1/points"), 403, "core.permission_denied")
    for role in (Role.SUPPORT, Role.EXECUTION, Role.AUDITOR):
        assert_problem(spend(api_as(role)), 403, "core.permission_denied")
    assert_problem(api_as(Role.INTEGRATION).get(f"{URL}/nobody/points"), 404, "loyalty.member_not_found")


def test_a_members_level_and_progress(storefront, member):
    from yunying.core.permissions import Actor
    from yunying.loyalty.tiers import LevelSpec, programme_save

    programme_save(
        basis="growth", period_days=365, downgrade_policy="by_value", cycle_months=12, growth_per_yuan=1,
        level_specs=[LevelSpec("普通", 0), LevelSpec("银卡", 100, discount_permille=980)],
        actor=Actor(kind="user", id=1, label="d", role=Role.STRATEGY),
    )  # fmt: skip
    body = storefront.get(f"{URL}/shop-1/tier").json()
    assert (body["level"]["name"], body["value"], body["next_level"]["name"], body["missing"]) == (
        "普通",
        0,
        "银卡",
        100,
    )
    assert_problem(storefront.get(f"{URL}/nobody/tier"), 404, "loyalty.member_not_found")
