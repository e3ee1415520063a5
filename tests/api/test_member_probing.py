"""A key that may not view sign-ups learns nothing of stored members from refusals (S3): eligibility
reasons follow from what the request sent, refusal bursts are rate-limited per key and alerted, and
the default limits let a storefront's rush through its one key while the per-member limit holds."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api.helpers import assert_problem, signup_payload, signups_url
from tests.members.factories import mobile
from yunying.campaigns.models import Signup
from yunying.core.models import Alert
from yunying.core.permissions import Role
from yunying.members.services import Profile, member_resolve

RULES = {"min_age": 18, "regions_allow": ["440000"]}


@pytest.fixture
def limits(settings):
    def set_limits(**values):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **values}

    return set_limits


@pytest.fixture
def known_member(db):
    """Member 1: stored as a 12-year-old from Beijing, so every campaign with RULES refuses them."""
    return member_resolve(
        phone=mobile(1), external_id=None, profile=Profile(birth_date=date(2014, 5, 1), region_code="110000")
    )


@pytest.mark.parametrize("role", [Role.INTEGRATION], ids=["integration"])
def test_a_known_member_is_refused_exactly_like_a_stranger(api_as, published, known_member, role):
    # given
    campaign = published(eligibility=RULES)
    key = api_as(role)
    # when: the known member's phone, and a phone nobody has used, with no facts in the request
    known = key.post_json(signups_url(campaign.pk), signup_payload(1))
    stranger = key.post_json(signups_url(campaign.pk), signup_payload(2))
    # then: the same answer, word for word: nothing tells the member apart
    known_body = assert_problem(known, 422, "signup.ineligible")
    assert known_body == assert_problem(stranger, 422, "signup.ineligible")
    assert [r["code"] for r in known_body["reasons"]] == [
        "eligibility.age_unknown",
        "eligibility.region_unknown",
    ]


def test_stated_facts_give_their_reasons_and_stored_ones_only_a_generic_one(
    integration, published, known_member
):
    # given
    campaign = published(eligibility=RULES)
    eligible_as_stated = {"birth_date": "1990-01-01", "region_code": "440300"}
    # when: the request states facts that pass; the stored ones (which win) do not
    response = integration.post_json(signups_url(campaign.pk), signup_payload(1, member=eligible_as_stated))
    stated_too_young = integration.post_json(
        signups_url(campaign.pk),
        signup_payload(3, member={"birth_date": "2015-01-01", "region_code": "440300"}),
    )
    # then
    body = assert_problem(response, 422, "signup.ineligible")
    assert [r["code"] for r in body["reasons"]] == ["eligibility.not_met"]
    assert [r["code"] for r in stated_too_young.json()["reasons"]] == ["eligibility.too_young"]


def test_a_key_that_may_view_sign_ups_gets_the_stored_reasons(api_as, published, known_member):
    # given
    campaign = published(eligibility=RULES)
    # when
    response = api_as(Role.EXECUTION).post_json(signups_url(campaign.pk), signup_payload(1))
    # then
    body = assert_problem(response, 422, "signup.ineligible")
    assert [r["code"] for r in body["reasons"]] == ["eligibility.too_young", "eligibility.region_not_allowed"]


def test_a_burst_of_refusals_from_one_key_is_limited_and_alerted(api_as, published, limits):
    # given: at most 3 member refusals a minute per key
    limits(signup_refusals_key=3)
    campaign = published(eligibility=RULES)
    prober, storefront = api_as(Role.INTEGRATION), api_as(Role.INTEGRATION)
    # when: probing candidate numbers, then a sign-up that would pass
    refused = [prober.post_json(signups_url(campaign.pk), signup_payload(n)) for n in range(1, 4)]
    limited = prober.post_json(
        signups_url(campaign.pk),
        signup_payload(9, member={"birth_date": "1990-01-01", "region_code": "440300"}),
    )
    other_key = storefront.post_json(
        signups_url(campaign.pk),
        signup_payload(10, member={"birth_date": "1990-01-01", "region_code": "440300"}),
    )
    # then
    for response in refused:
        assert_problem(response, 422, "signup.ineligible")
    body = assert_problem(limited, 429, "core.rate_limited")
    assert 1 <= body["retry_after"] <= 60
    assert other_key.status_code == 201
    alerts = list(Alert.objects.filter(code="signup.refusal_burst"))
    assert len(alerts) == 1
    assert alerts[0].data["limit_per_minute"] == 3 and alerts[0].data["campaign_id"] == campaign.pk
    assert alerts[0].data["role"] == "integration"


def test_a_full_campaign_and_double_submits_in_a_rush_do_not_count_as_probing(integration, published, limits):
    # given
    limits(signup_refusals_key=2)
    campaign = published(capacity=1)
    assert integration.post_json(signups_url(campaign.pk), signup_payload(1)).status_code == 201
    # when: others find it full, and the first member's double submits are duplicates
    full = [integration.post_json(signups_url(campaign.pk), signup_payload(n)) for n in range(2, 5)]
    again = [integration.post_json(signups_url(campaign.pk), signup_payload(1)) for _ in range(3)]
    # then
    assert [r.json()["code"] for r in full + again] == ["campaign.full"] * 3 + ["signup.duplicate"] * 3
    assert not Alert.objects.exists()


def test_one_member_is_limited_across_campaigns_and_others_are_not(integration, published, limits):
    # given
    limits(signup_member=2)
    campaigns = [published() for _ in range(3)]
    for campaign in campaigns[:2]:
        assert integration.post_json(signups_url(campaign.pk), signup_payload(1)).status_code == 201
    # when: the same member a third time (typed differently), and another member
    again = integration.post_json(
        signups_url(campaigns[2].pk), {"member": {"phone": "138 0000 0001"}, "channel": "h5"}
    )
    other = integration.post_json(signups_url(campaigns[2].pk), signup_payload(2))
    # then
    assert_problem(again, 429, "core.rate_limited")
    assert other.status_code == 201
    assert Signup.objects.filter(campaign=campaigns[2]).count() == 1


# A shop's busiest minute, from the measured ceiling of one app machine (docs/benchmarks.md: about
# 330 admissions a second on SQLite), each sign-up with a status read beside it.
BUSIEST_MINUTE_REQUESTS = 330 * 60 * 2


def test_the_default_limits_let_a_storefront_rush_through_its_one_key(settings):
    limits = settings.RATE_LIMITS
    # the storefront's one key carries the whole rush: its limit is a ceiling far above the rush
    assert limits["api_key"] >= BUSIEST_MINUTE_REQUESTS
    # one member or one device cannot take a campaign: those limits are what protects
    assert limits["signup_member"] <= 30
    assert limits["signup_client_ip"] <= 120
    assert limits["signup_refusals_key"] <= limits["api_key"] / 100


def test_a_limited_key_still_gets_the_answer_to_a_retry_of_a_sign_up_already_made(api_as, published, limits):
    # given: a sign-up answered 201 under an Idempotency-Key, then the key hits its refusal limit
    limits(signup_refusals_key=2)
    campaign = published(eligibility=RULES)
    storefront = api_as(Role.INTEGRATION)
    good = signup_payload(9, member={"birth_date": "1990-01-01", "region_code": "440300"})
    first = storefront.post_json(signups_url(campaign.pk), good, HTTP_IDEMPOTENCY_KEY="order-9")
    for n in range(1, 3):
        storefront.post_json(signups_url(campaign.pk), signup_payload(n))
    # when: the client retries the answered sign-up, and tries a new one
    retry = storefront.post_json(signups_url(campaign.pk), good, HTTP_IDEMPOTENCY_KEY="order-9")
    new = storefront.post_json(signups_url(campaign.pk), signup_payload(20), HTTP_IDEMPOTENCY_KEY="order-20")
    # then: the retry gets its first answer; new work is limited
    assert first.status_code == 201
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert_problem(new, 429, "core.rate_limited")
