"""Eligibility on purchases: paid (net of refunds) and order count in a period, new customers only.
The rule table over facts, rule validation, and sign-ups judged on real order facts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.commerce.helpers import cancel, ingest, order_payload, refund
from yunying.campaigns.eligibility import (
    MemberFacts,
    eligibility_evaluate,
    eligibility_parse,
    eligibility_problems,
)
from yunying.campaigns.errors import EligibilityReason as R
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor, Role

TODAY = date(2026, 12, 4)


def facts(**purchases) -> MemberFacts:
    return MemberFacts(
        birth_date=None, gender="unknown", region_code="", recent_participations=0, **purchases
    )


@pytest.mark.parametrize(
    ("rules", "member", "expected"),
    [
        pytest.param({"min_paid_fen": 10000}, facts(paid_fen=10000, orders=1), [], id="paid-exactly-enough"),
        pytest.param(
            {"min_paid_fen": 10000}, facts(paid_fen=9999, orders=1), [R.MIN_PAID], id="paid-a-fen-short"
        ),
        pytest.param({"min_paid_fen": 1}, facts(), [R.MIN_PAID], id="paid-nothing"),
        pytest.param({"min_orders": 2}, facts(orders=2), [], id="orders-enough"),
        pytest.param({"min_orders": 2}, facts(orders=1), [R.MIN_ORDERS], id="orders-one-short"),
        pytest.param(
            {"min_paid_fen": 500, "min_orders": 3, "purchase_period_days": 30},
            facts(orders=1, paid_fen=100),
            [R.MIN_PAID, R.MIN_ORDERS],
            id="both-short-both-reasons",
        ),
        pytest.param({"first_order_only": True}, facts(), [], id="new-customer"),
        pytest.param(
            {"first_order_only": True}, facts(has_orders=True, orders=1), [R.NOT_FIRST_ORDER], id="returning"
        ),
        pytest.param({"first_order_only": False}, facts(has_orders=True), [], id="first-order-off"),
        pytest.param(
            {"min_age": 18, "min_orders": 1},
            facts(),
            [R.AGE_UNKNOWN, R.MIN_ORDERS],
            id="after-the-other-reasons",
        ),
    ],
)
def test_purchase_rule_table(rules, member, expected):
    # when
    got = [r.code for r in eligibility_evaluate(eligibility_parse(rules), member, today=TODAY)]
    # then
    assert got == expected


def test_reasons_carry_the_threshold_and_period():
    rules = eligibility_parse({"min_paid_fen": 500, "min_orders": 3, "purchase_period_days": 30})
    reasons = [r.as_dict() for r in eligibility_evaluate(rules, facts(), today=TODAY)]
    assert reasons[0]["min_paid_fen"] == 500 and reasons[0]["period_days"] == 30
    assert reasons[1]["min_orders"] == 3 and reasons[1]["message"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"min_paid_fen": 0}, "eligibility.min_paid_fen"),
        ({"min_paid_fen": 1.5}, "eligibility.min_paid_fen"),
        ({"min_orders": 0}, "eligibility.min_orders"),
        ({"min_paid_fen": 10**11}, "eligibility.min_paid_fen"),
        ({"purchase_period_days": 30}, "eligibility"),
        ({"min_orders": 1, "purchase_period_days": 0}, "eligibility.purchase_period_days"),
        ({"first_order_only": True, "min_orders": 1}, "eligibility"),
    ],
    ids=[
        "paid-zero",
        "paid-float",
        "orders-zero",
        "paid-huge",
        "period-alone",
        "period-zero",
        "first-and-min",
    ],
)
def test_invalid_purchase_rules_are_refused(raw, field):
    rules, errors = eligibility_problems(raw)
    assert rules is None
    assert field in [e["field"] for e in errors]


def test_rules_compare_with_the_purchase_rules():
    assert eligibility_parse({"min_orders": 1}) != eligibility_parse({"min_orders": 2})
    assert eligibility_parse({"first_order_only": True}) != eligibility_parse({})


# --- through the sign-up service, on real order facts ---------------------------------------------

STRATEGY = Actor(kind="api_key", id=1, label="ops", role=Role.STRATEGY)
PHONE = "+8613800000001"
NOW = timezone.now()


def _campaign(**rules):
    return CampaignFactory(status="published", eligibility=rules)


def _order(external_id, *, days_ago=1, paid_fen=9000):
    paid_at = (NOW - timedelta(days=days_ago)).isoformat()
    line = {"sku": "A", "unit_price_fen": paid_fen, "quantity": 1, "paid_fen": paid_fen}
    return ingest(order_payload(external_id, phone=PHONE, paid_at=paid_at, lines=[line])).order


def _refusal(campaign, actor=STRATEGY) -> list[str]:
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, PHONE, actor=actor)
    assert refused.value.code == "signup.ineligible"
    return [r["code"] for r in refused.value.data["reasons"]]


@pytest.mark.django_db
def test_paid_counts_net_of_refunds_and_without_cancelled_orders_in_the_period():
    campaign = _campaign(min_paid_fen=10000, purchase_period_days=30)
    _order("O1", paid_fen=9000)
    _order("O-OLD", days_ago=40, paid_fen=50000)  # outside the period
    cancelled = _order("O-CANCELLED", paid_fen=50000)
    cancel(cancelled.external_id)
    assert _refusal(campaign) == [R.MIN_PAID]
    second = _order("O2", paid_fen=2000)
    refund(second.external_id, external_id="R1", amount_fen=1500)  # 9000 + 500 net
    assert _refusal(campaign) == [R.MIN_PAID]
    _order("O3", paid_fen=500)  # 10000 net
    assert sign_up(campaign, PHONE).status == "confirmed"


@pytest.mark.django_db
def test_order_count_in_the_period():
    campaign = _campaign(min_orders=2, purchase_period_days=7)
    _order("O1")
    _order("O-OLD", days_ago=8)
    assert _refusal(campaign) == [R.MIN_ORDERS]
    _order("O2")
    assert sign_up(campaign, PHONE).status == "confirmed"


@pytest.mark.django_db
def test_first_order_only_admits_new_customers_and_refuses_returning_ones():
    campaign = _campaign(first_order_only=True)
    assert sign_up(campaign, "+8613800000002").status == "confirmed"  # never seen: a new customer
    order = _order("O1", days_ago=400)
    assert _refusal(campaign) == [R.NOT_FIRST_ORDER]
    cancel(order.external_id)  # a cancelled order does not count
    assert sign_up(campaign, PHONE).status == "confirmed"


@pytest.mark.django_db
def test_a_storefront_key_learns_no_more_than_the_stated_facts_say():
    from tests.campaigns.helpers import INTEGRATION

    campaign = _campaign(first_order_only=True)
    _order("O1")
    assert _refusal(campaign, actor=INTEGRATION) == [R.NOT_MET]
