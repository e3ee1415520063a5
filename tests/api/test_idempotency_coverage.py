"""Every operation that creates (answers 201) honours Idempotency-Key: a retried POST must not make a
second row. Two privacy operations once lacked it (outside review); this finds the next one."""

from __future__ import annotations

import importlib

import pytest

from tests.api.helpers import assert_problem
from yunying.api import api
from yunying.core.permissions import Role
from yunying.privacy.models import DataSubjectRequest


def _creating_operations():
    schema = api.get_openapi_schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if "201" in operation["responses"] or 201 in operation["responses"]:
                yield f"{method} {path}", operation["operationId"]


def _handler(operation_id: str):
    for module in ("signups", "campaigns", "export_approvals", "privacy_requests", "orders", "brokerage",
                   "incentives", "points", "promotions", "risk_complaints", "risk"):  # fmt: skip
        prefix = f"yunying_api_{module}_"
        if operation_id.startswith(prefix):
            return getattr(importlib.import_module(f"yunying.api.{module}"), operation_id[len(prefix) :])
    raise AssertionError(f"no handler module for {operation_id}: add it here")


@pytest.mark.parametrize(("operation", "operation_id"), list(_creating_operations()), ids=lambda v: v)
def test_every_creating_operation_is_idempotent(operation, operation_id):
    assert getattr(_handler(operation_id), "idempotent", False), f"{operation} ignores Idempotency-Key"


def test_a_privacy_request_sent_twice_with_one_key_is_recorded_once(api_as, db):
    from yunying.members.services import member_resolve

    support = api_as(Role.SUPPORT)
    member = member_resolve(phone="+8613912345678", external_id=None)
    body = {"member_id": member.pk, "kind": "export", "channel": "email"}
    first = support.post_json("/api/v1/privacy/requests", body, HTTP_IDEMPOTENCY_KEY="ticket-7")
    again = support.post_json("/api/v1/privacy/requests", body, HTTP_IDEMPOTENCY_KEY="ticket-7")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    other = support.post_json(
        "/api/v1/privacy/requests", body | {"kind": "access"}, HTTP_IDEMPOTENCY_KEY="ticket-7"
    )
    assert_problem(other, 422, "core.idempotency_key_reused")
    assert DataSubjectRequest.objects.count() == 1


def test_an_export_approval_asked_twice_with_one_key_is_asked_once(api, db):
    from tests.campaigns.factories import CampaignFactory
    from yunying.privacy.models import ExportApproval

    campaign = CampaignFactory(status="published")
    body = {"campaign_id": campaign.pk, "format": "csv", "purpose": "prize_delivery"}
    url = "/api/v1/privacy/export-approvals"
    first = api.post_json(url, body, HTTP_IDEMPOTENCY_KEY="ask-1")
    again = api.post_json(url, body, HTTP_IDEMPOTENCY_KEY="ask-1")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert_problem(
        api.post_json(url, body | {"format": "xlsx"}, HTTP_IDEMPOTENCY_KEY="ask-1"),
        422,
        "core.idempotency_key_reused",
    )
    assert ExportApproval.objects.count() == 1


@pytest.mark.parametrize("key", ["k" * 256, "票据-7", "tab\there"], ids=["too-long", "not-ascii", "control"])
def test_a_bad_idempotency_key_is_refused_with_what_a_good_one_looks_like(api_as, db, key):
    """New user review: a key too long or not ASCII got core.invalid with no word of why."""
    from yunying.members.services import member_resolve

    member = member_resolve(phone="+8613912345678", external_id=None)
    body = {"member_id": member.pk, "kind": "access", "channel": "email"}
    response = api_as(Role.SUPPORT).post_json("/api/v1/privacy/requests", body, HTTP_IDEMPOTENCY_KEY=key)
    assert_problem(response, 422, "core.invalid")
    (error,) = response.json()["errors"]
    assert error["field"] == "Idempotency-Key" and "ASCII" in error["message"] and "255" in error["message"]
    assert not DataSubjectRequest.objects.exists()
