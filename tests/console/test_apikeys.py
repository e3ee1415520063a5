"""API keys in the console: created with the token shown once, listed, revoked — audited."""

from __future__ import annotations

import logging

import pytest

from yunying.core.apikeys import apikey_authenticate, apikey_create
from yunying.core.errors import DomainError
from yunying.core.models import ApiKey, AuditEntry
from yunying.core.permissions import Role

URL = "/console/apikeys/"


def test_a_created_key_shows_its_token_once(console_as, caplog):
    # given
    client = console_as(Role.STRATEGY)
    caplog.set_level(logging.DEBUG)
    # when
    response = client.post(f"{URL}new/", {"name": "小程序商城", "role": "integration"})
    # then: the token works, is on this page only, and never in the logs
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    key = ApiKey.objects.get(name="小程序商城")
    token = response.context["token"]
    assert token.startswith(f"yy_{key.prefix}_") and token in response.content.decode()
    assert apikey_authenticate(token).role == Role.INTEGRATION
    assert token not in client.get(URL).content.decode()
    assert token.split("_", 2)[2] not in caplog.text
    entry = AuditEntry.objects.get(action="apikey.create")
    assert entry.actor_label == client.user.username and token.split("_", 2)[2] not in str(entry.after)


def test_the_list_shows_prefix_role_and_state(console_as):
    key, _ = apikey_create(name="门店 POS", role=Role.INTEGRATION)
    page = console_as(Role.STRATEGY).get(URL).content.decode()
    assert "门店 POS" in page and f"yy_{key.prefix}_" in page


def test_revoking_a_key_refuses_it_and_is_audited(console_as):
    # given
    key, token = apikey_create(name="old", role=Role.INTEGRATION)
    client = console_as(Role.STRATEGY)
    # when
    response = client.post(f"{URL}{key.pk}/revoke/", follow=True)
    # then
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None and apikey_authenticate(token) is None
    assert AuditEntry.objects.get(action="apikey.revoke").actor_label == client.user.username
    # and again: told it already was, no second audit row
    client.post(f"{URL}{key.pk}/revoke/")
    assert AuditEntry.objects.filter(action="apikey.revoke").count() == 1


def test_the_revoke_form_asks_for_confirmation(console_as):
    apikey_create(name="k", role=Role.INTEGRATION)
    assert "data-confirm=" in console_as(Role.STRATEGY).get(URL).content.decode()


@pytest.mark.parametrize("key_id", ["424242", "99999999999999999999999"])
def test_revoking_an_unknown_key_is_a_message_not_a_500(console_as, key_id):
    response = console_as(Role.STRATEGY).post(f"{URL}{key_id}/revoke/", follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "role": "integration"},
        {"name": "   ", "role": "integration"},
        {"name": "x" * 5000, "role": "integration"},
        {"name": "k", "role": "god"},
    ],
    ids=["blank", "spaces", "huge", "unknown-role"],
)
def test_bad_input_creates_nothing(console_as, data):
    response = console_as(Role.STRATEGY).post(f"{URL}new/", data)
    assert response.status_code == 200 and "token" not in response.context
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.SUPPORT, Role.AUDITOR])
def test_roles_without_apikey_manage_get_403(console_as, role):
    key, _ = apikey_create(name="k", role=Role.INTEGRATION)
    client = console_as(role)
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}new/", {"name": "x", "role": "strategy"}).status_code == 403
    assert client.post(f"{URL}{key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None
    assert f'href="{URL}"' not in client.get("/console/security/").content.decode()


def test_the_list_reads_in_a_fixed_number_of_queries(console_as, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = console_as(Role.STRATEGY)
    for n in range(2):
        apikey_create(name=f"k{n}", role=Role.INTEGRATION)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(4):
        apikey_create(name=f"m{n}", role=Role.INTEGRATION)
    with django_assert_num_queries(len(few)):
        client.get(URL)


def test_a_key_made_in_the_console_is_held_by_its_maker_who_cannot_approve_its_export(console_as):
    # given an operator makes a strategy key in the console
    from tests.campaigns.factories import CampaignFactory
    from tests.conftest import ApiClient
    from yunying.core.permissions import Actor
    from yunying.privacy.exports import approval_decide

    client = console_as(Role.STRATEGY)
    token = client.post(f"{URL}new/", {"name": "导出脚本", "role": "strategy"}).context["token"]
    assert ApiKey.objects.get(name="导出脚本").owner == client.user.username
    # when the key asks for a bulk export in clear and the same operator approves it in the console
    campaign = CampaignFactory(status="published")
    asked = ApiClient(token).post_json(
        "/api/v1/privacy/export-approvals",
        {"campaign_id": campaign.pk, "format": "csv", "purpose": "prize_delivery"},
    )
    assert asked.status_code == 201, asked.content
    operator = Actor(kind="user", id=client.user.pk, label=client.user.username, role=Role.STRATEGY)
    # then it is their own request: refused (two-person rule)
    with pytest.raises(DomainError) as refused:
        approval_decide(actor=operator, approval_id=asked.json()["id"], approve=True)
    assert refused.value.code == "export.self_approval"
