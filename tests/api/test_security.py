"""Who may call what: API keys, roles → permissions (least privilege), rate limits, and the shape of
every error (problem+json, nothing internal leaked, title in the caller's language)."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem, campaign_payload, campaigns_url, signup_payload, signups_url
from tests.campaigns.helpers import sign_up
from tests.conftest import ApiClient
from tests.members.factories import mobile
from yunying.campaigns import selectors
from yunying.campaigns.models import Campaign, Signup
from yunying.core.apikeys import apikey_create, apikey_revoke
from yunying.core.models import PersonalDataAccess
from yunying.core.permissions import Role

ST, EX, SU, IN, AU = Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.INTEGRATION, Role.AUDITOR

# --- authentication ---------------------------------------------------------------------------------


def test_no_key_is_a_401_problem(client, open_campaign):
    # when
    response = client.get(campaigns_url())
    # then
    assert_problem(response, 401, "core.unauthenticated")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer yy_0123456789_not-the-secret",
        "Bearer not-a-key",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "yy_abc_def",
    ],
    ids=["unknown-key", "malformed", "empty", "basic-auth", "no-scheme"],
)
def test_a_bad_key_is_a_401(client, db, authorization):
    # when
    response = client.get(campaigns_url(), HTTP_AUTHORIZATION=authorization)
    # then
    assert_problem(response, 401, "core.unauthenticated")


def test_a_known_prefix_with_a_wrong_secret_is_a_401(client, db):
    # given
    _, token = apikey_create(name="storefront", role=Role.INTEGRATION)
    prefix = token.split("_")[1]
    # when
    response = client.get(campaigns_url(), HTTP_AUTHORIZATION=f"Bearer yy_{prefix}_guessed")
    # then
    assert_problem(response, 401, "core.unauthenticated")


def test_a_revoked_key_is_a_401(client, db):
    # given
    key, token = apikey_create(name="old storefront", role=Role.INTEGRATION)
    assert ApiClient(token).get(campaigns_url()).status_code == 200
    # when
    apikey_revoke(key=key)
    response = ApiClient(token).get(campaigns_url())
    # then
    assert_problem(response, 401, "core.unauthenticated")


def test_a_key_whose_holder_is_disabled_is_a_401(client, db):
    """Second attacker review: an operator disabled in the console kept revealing and approving
    exports with their keys."""
    from django.contrib.auth import get_user_model

    from yunying.core import apikeys

    holder = get_user_model().objects.create_user("strat2", password="x" * 20)
    _, token = apikey_create(name="strat2's key", role=Role.STRATEGY, owner="strat2")
    assert ApiClient(token).get(campaigns_url()).status_code == 200
    # when
    holder.is_active = False
    holder.save(update_fields=["is_active"])
    apikeys._cache.clear()  # what CACHE_SECONDS later brings in every process
    # then
    assert_problem(ApiClient(token).get(campaigns_url()), 401, "core.unauthenticated")
    holder.delete()
    assert_problem(ApiClient(token).get(campaigns_url()), 401, "core.unauthenticated")


def test_the_key_may_come_in_the_x_api_key_header(client, db):
    # given
    _, token = apikey_create(name="storefront", role=Role.INTEGRATION)
    # when
    good = client.get(campaigns_url(), HTTP_X_API_KEY=token)
    bad = client.get(campaigns_url(), HTTP_X_API_KEY="yy_nope_nope")
    # then
    assert good.status_code == 200
    assert_problem(bad, 401, "core.unauthenticated")


# --- roles ------------------------------------------------------------------------------------------

# endpoint -> the roles allowed (the rest get 403 core.permission_denied naming the permission)
ACCESS = {
    "create campaign": ({ST, EX}, "campaign.edit"),
    "edit campaign": ({ST, EX}, "campaign.edit"),
    "publish": ({ST}, "campaign.publish"),
    "close": ({ST}, "campaign.publish"),
    "cancel": ({ST}, "campaign.publish"),
    "list campaigns": ({ST, EX, SU, IN}, "campaign.view"),
    "get campaign": ({ST, EX, SU, IN}, "campaign.view"),
    "stats": ({ST, EX, SU}, "stats.view"),
    "sign up": ({ST, EX, IN}, "signup.create"),
    "list sign-ups": ({ST, EX, SU}, "signup.view"),
    "get sign-up": ({ST, EX, SU}, "signup.view"),
    "confirm": ({ST, EX}, "signup.review"),
    "reject": ({ST, EX}, "signup.review"),
    "withdraw": ({ST, EX, SU, IN}, "signup.withdraw"),
    "export": ({ST, EX}, "signup.export"),
    "reveal": ({ST}, "pii.reveal_bulk"),  # a list in clear; support reveals one member (test_reveal)
}


def _call(client: ApiClient, endpoint: str, campaign: Campaign, signup: Signup):
    c, s = campaign.pk, signup.pk
    reason = {"reason": "测试"}
    calls = {
        "create campaign": lambda: client.post_json(campaigns_url(), campaign_payload()),
        "edit campaign": lambda: client.patch_json(campaigns_url(c), {"title": "新标题"}),
        "publish": lambda: client.post_json(campaigns_url(c, "publish")),
        "close": lambda: client.post_json(campaigns_url(c, "close"), reason),
        "cancel": lambda: client.post_json(campaigns_url(c, "cancel"), reason),
        "list campaigns": lambda: client.get(campaigns_url()),
        "get campaign": lambda: client.get(campaigns_url(c)),
        "stats": lambda: client.get(campaigns_url(c, "stats")),
        "sign up": lambda: client.post_json(signups_url(c), signup_payload(2)),
        "list sign-ups": lambda: client.get(signups_url(c)),
        "get sign-up": lambda: client.get(signups_url(c, s)),
        "confirm": lambda: client.post_json(signups_url(c, s, "confirm")),
        "reject": lambda: client.post_json(signups_url(c, s, "reject"), reason),
        "withdraw": lambda: client.post_json(signups_url(c, s, "withdraw"), reason),
        "export": lambda: client.get(signups_url(c, action="export")),
        "reveal": lambda: client.get(
            signups_url(c), {"reveal": "true", "purpose": "customer_service", "purpose_note": "客服回访"}
        ),
    }
    return calls[endpoint]()


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("endpoint", list(ACCESS))
def test_each_role_may_do_only_what_its_permissions_allow(api_as, published, endpoint, role):
    # given
    campaign = published(review_mode="manual")
    signup = sign_up(campaign, mobile(1))
    allowed, permission = ACCESS[endpoint]
    # when
    response = _call(api_as(role), endpoint, campaign, signup)
    # then
    if role in allowed and endpoint == "reveal":  # permitted, and then the two-person rule asks
        assert_problem(response, 403, "export.approval_required")
    elif role in allowed:  # it may still be refused for another reason (publishing a published one)
        assert response.status_code not in (401, 403), response.content
    else:
        body = assert_problem(response, 403, "core.permission_denied")
        if endpoint == "reveal" and role in (IN, AU):
            permission = "signup.view"  # it may not even list sign-ups masked
        assert body["permission"] == permission
        assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPORT, Role.INTEGRATION])
def test_a_refused_create_writes_nothing(api_as, role):
    # when
    response = api_as(role).post_json(campaigns_url(), campaign_payload())
    # then
    assert_problem(response, 403, "core.permission_denied")
    assert not Campaign.objects.exists()


def test_a_refused_review_leaves_the_sign_up_as_it_was(api_as, published):
    # given
    campaign = published(review_mode="manual")
    signup = sign_up(campaign, mobile(1))
    # when
    response = api_as(Role.SUPPORT).post_json(signups_url(campaign.pk, signup.pk, "confirm"))
    # then
    assert_problem(response, 403, "core.permission_denied")
    signup.refresh_from_db()
    assert signup.status == "pending_review"
    assert Campaign.objects.get(pk=campaign.pk).seats_taken == 0


# --- rate limits ------------------------------------------------------------------------------------


@pytest.fixture
def limits(settings):
    """Set some rate limits (per minute) low enough to reach in a test."""

    def set_limits(**values):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **values}

    return set_limits


def _assert_rate_limited(response) -> None:
    body = assert_problem(response, 429, "core.rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert body["retry_after"] == int(response["Retry-After"])


def test_repeated_bad_keys_from_one_ip_are_rate_limited(client, db, limits):
    # given
    limits(auth_failure_ip=3)
    bad = {"HTTP_AUTHORIZATION": "Bearer yy_guess_guess"}
    # when
    answers = [client.get(campaigns_url(), **bad) for _ in range(4)]
    # then
    for response in answers[:3]:
        assert_problem(response, 401, "core.unauthenticated")
    _assert_rate_limited(answers[3])


def test_the_bad_key_limit_is_per_ip_and_does_not_lock_out_valid_keys(client, db, limits):
    # given
    limits(auth_failure_ip=1)
    bad = {"HTTP_AUTHORIZATION": "Bearer yy_guess_guess"}
    client.get(campaigns_url(), **bad)
    _assert_rate_limited(client.get(campaigns_url(), **bad))
    _, token = apikey_create(name="storefront", role=Role.INTEGRATION)
    # when
    other_ip = client.get(campaigns_url(), REMOTE_ADDR="198.51.100.9", **bad)
    valid = client.get(campaigns_url(), HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    assert_problem(other_ip, 401, "core.unauthenticated")
    assert valid.status_code == 200


def test_each_api_key_is_rate_limited_on_its_own(api_as, open_campaign, limits):
    # given
    limits(api_key=3)
    busy, quiet = api_as(Role.INTEGRATION), api_as(Role.INTEGRATION)
    for _ in range(3):
        assert busy.get(campaigns_url()).status_code == 200
    # when
    limited = busy.post_json(signups_url(open_campaign.pk), signup_payload(1))
    other = quiet.get(campaigns_url())
    # then
    _assert_rate_limited(limited)
    assert not Signup.objects.exists()
    assert other.status_code == 200


def test_sign_ups_from_one_client_ip_are_rate_limited_per_campaign(integration, published, limits):
    # given
    limits(signup_client_ip=2)
    campaign, other_campaign = published(), published()
    from_ip = {"client": {"ip": "203.0.113.7"}}
    for n in (1, 2):
        assert (
            integration.post_json(signups_url(campaign.pk), signup_payload(n, **from_ip)).status_code == 201
        )
    # when
    limited = integration.post_json(signups_url(campaign.pk), signup_payload(3, **from_ip))
    other_ip = integration.post_json(
        signups_url(campaign.pk), signup_payload(4, client={"ip": "203.0.113.8"})
    )
    other_campaign_same_ip = integration.post_json(
        signups_url(other_campaign.pk), signup_payload(5, **from_ip)
    )
    # then
    _assert_rate_limited(limited)
    assert (other_ip.status_code, other_campaign_same_ip.status_code) == (201, 201)
    assert Signup.objects.filter(campaign=campaign).count() == 3
    assert Campaign.objects.get(pk=campaign.pk).seats_taken == 3


# --- the shape of every error -----------------------------------------------------------------------


def test_an_unexpected_error_is_a_500_problem_that_leaks_nothing(api, open_campaign, monkeypatch):
    # given
    def broken(*args, **kwargs):
        raise RuntimeError("db password is hunter2")

    monkeypatch.setattr(selectors, "campaign_get", broken)
    # when
    response = api.get(campaigns_url(open_campaign.pk))
    # then
    assert_problem(response, 500, "core.internal")
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content


def test_a_method_the_path_does_not_take_is_a_405_problem(api, open_campaign):
    # when
    response = api.put(campaigns_url(open_campaign.pk), "{}", content_type="application/json")
    # then
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("request_for", "status", "code", "title"),
    [
        ("full", 409, "campaign.full", "This campaign is full."),
        ("no key", 401, "core.unauthenticated", "Authentication required: send a valid API key."),
        ("bad field", 422, "core.invalid", "The request is not valid."),
        ("unknown", 404, "campaign.not_found", "Campaign not found."),
        ("too large", 413, "core.body_too_large", "The request body is too large."),
    ],
    ids=["full", "no-key", "bad-field", "unknown", "too-large"],
)
def test_titles_follow_accept_language_en(api, published, settings, request_for, status, code, title):
    # given
    campaign = published(capacity=1)
    sign_up(campaign, mobile(1))
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    # when
    if request_for == "full":
        response = api.post_json(signups_url(campaign.pk), signup_payload(2), **english)
    elif request_for == "no key":
        response = ApiClient(None).get(campaigns_url(), **english)
    elif request_for == "too large":  # refused by a middleware that runs before LocaleMiddleware
        settings.MAX_REQUEST_BODY_BYTES = 100
        response = api.post_json(
            signups_url(campaign.pk), signup_payload(2, client={"device_id": "d" * 100}), **english
        )
    elif request_for == "bad field":
        response = api.post_json(signups_url(campaign.pk), signup_payload(2, channel="fax"), **english)
    else:
        response = api.get(campaigns_url(999_999), **english)
    # then
    body = assert_problem(response, status, code)
    assert body["title"] == title
    assert body["detail"] == title
