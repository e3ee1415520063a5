"""Revealing personal data (S4): a purpose from a fixed list plus an optional note; support reveals
one member a request; a list or an export in clear needs the strategy role and raises an alert."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem, signups_url
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from tests.privacy.helpers import approval_for
from yunying.core.models import Alert, PersonalDataAccess
from yunying.core.permissions import Role
from yunying.core.purposes import Purpose


@pytest.fixture
def signups(open_campaign):
    return open_campaign, [sign_up(open_campaign, mobile(n)) for n in range(1, 4)]


@pytest.mark.parametrize(
    "purpose", [".", "好奇", "customer service", ""], ids=["dot", "free-text", "near-miss", "empty"]
)
def test_a_purpose_not_on_the_list_is_refused(api, signups, purpose):
    campaign, rows = signups
    response = api.get(signups_url(campaign.pk, rows[0].pk), {"reveal": "true", "purpose": purpose})
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == ["purpose"]
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("purpose", list(Purpose), ids=str)
def test_every_listed_purpose_is_logged_with_its_note(api_as, signups, purpose):
    campaign, rows = signups
    response = api_as(Role.SUPPORT).get(
        signups_url(campaign.pk, rows[0].pk),
        {"reveal": "true", "purpose": purpose, "purpose_note": "工单 8812"},
    )
    assert response.json()["member"]["phone"] == "13800000001"
    assert PersonalDataAccess.objects.get().purpose == f"{purpose}: 工单 8812"


@pytest.mark.parametrize("path", ["list", "export"])
def test_support_may_not_reveal_many_members_at_once(api_as, signups, path):
    # given
    campaign, _ = signups
    url = signups_url(campaign.pk) if path == "list" else signups_url(campaign.pk, action="export")
    # when
    response = api_as(Role.SUPPORT).get(url, {"reveal": "true", "purpose": "customer_service"})
    # then
    body = assert_problem(response, 403, "core.permission_denied")
    assert body["permission"] in ("pii.reveal_bulk", "signup.export")
    assert not PersonalDataAccess.objects.exists() and not Alert.objects.exists()


@pytest.mark.parametrize("path", ["list", "export"])
def test_a_bulk_reveal_by_strategy_is_logged_and_alerted(api, signups, path):
    # given
    campaign, rows = signups
    url = signups_url(campaign.pk) if path == "list" else signups_url(campaign.pk, action="export")
    # when
    approval = approval_for(
        api, campaign.pk, path if path == "list" else "csv", purpose="prize_delivery", note="寄送奖品"
    )
    response = api.get(url, {"reveal": "true", "approval": approval})
    if path == "export":
        b"".join(response.streaming_content) if response.streaming else response.content
    # then
    assert response.status_code == 200
    assert PersonalDataAccess.objects.count() == len(rows)
    alert = Alert.objects.get(code="pii.bulk_reveal")
    assert alert.data["purpose"] == "prize_delivery" and alert.data["campaign_id"] == campaign.pk
    assert (
        alert.data["role"] == "strategy" and alert.data["kind"] == path and alert.data["approval"] == approval
    )


def test_a_masked_list_raises_no_alert(api, signups):
    campaign, _ = signups
    assert api.get(signups_url(campaign.pk)).status_code == 200
    assert not Alert.objects.exists()


def test_one_member_at_a_time_does_not_become_everyone_by_a_loop(api_as, signups, settings):
    # given: support may reveal 2 members an hour, one per request
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pii_reveal_hour": 2}
    campaign, rows = signups
    support = api_as(Role.SUPPORT)
    reveal = {"reveal": "true", "purpose": "customer_service"}
    # when: it walks the sign-up ids
    answers = [support.get(signups_url(campaign.pk, row.pk), reveal) for row in rows]
    # then: two revealed and logged, the third refused, and the burst alerted once
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert PersonalDataAccess.objects.count() == 2
    assert Alert.objects.filter(code="pii.reveal_burst").count() == 1
    assert support.get(signups_url(campaign.pk, rows[0].pk), reveal).status_code == 429
    assert Alert.objects.filter(code="pii.reveal_burst").count() == 1


def test_the_limit_counts_the_person_not_the_key(signups, settings):
    """Another key of one's own is no way round it (outside review: 60 an hour per key, not per person)."""
    from tests.conftest import ApiClient, held_key

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pii_reveal_hour": 2}
    campaign, rows = signups
    alice_1, alice_2, alice_3, bob = (
        ApiClient(held_key(owner, Role.SUPPORT, name=name)[1])
        for name, owner in [("a1", "alice"), ("a2", "alice"), ("a3", "alice"), ("b", "bob")]
    )
    reveal = {"reveal": "true", "purpose": "customer_service"}
    answers = [
        client.get(signups_url(campaign.pk, row.pk), reveal).status_code
        for client, row in [(alice_1, rows[0]), (alice_2, rows[1]), (alice_3, rows[2]), (bob, rows[2])]
    ]
    assert answers == [200, 200, 429, 200]
    assert Alert.objects.filter(code="pii.reveal_burst", data__actor="user:alice").count() == 1


def test_an_access_row_names_the_role_and_the_request_it_was_read_in(api_as, signups):
    # given / when support reveals one member for a customer's call
    campaign, rows = signups
    response = api_as(Role.SUPPORT).get(
        signups_url(campaign.pk, rows[0].pk), {"reveal": "true", "purpose": "customer_service"}
    )
    # then the row says which role read it (what the member sees) and which request (the log line)
    row = PersonalDataAccess.objects.get()
    assert row.actor_role == "support"
    assert row.request_id and row.request_id == response["X-Request-ID"]


def test_a_phone_or_e_mail_typed_into_the_note_never_reaches_the_access_log(api_as, signups):
    """The member reads that log, it is append-only and can never be erased (outside review)."""
    campaign, rows = signups
    note = "工单 8812，回电 138 1234 5678 或 kf@example.com"
    api_as(Role.SUPPORT).get(
        signups_url(campaign.pk, rows[0].pk),
        {"reveal": "true", "purpose": "customer_service", "purpose_note": note},
    )
    purpose = PersonalDataAccess.objects.get().purpose
    assert purpose == "customer_service: 工单 8812，回电 [phone] 或 [email]"
