"""Idempotency-Key under a race: clients that retry before the first answer arrives all get that
answer, and the work is done once (DESIGN invariant), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.conftest import ApiClient
from yunying.campaigns.models import Signup
from yunying.core.apikeys import apikey_create
from yunying.core.models import IdempotencyRecord
from yunying.core.permissions import Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

RETRIES = 8


@pytest.fixture(params=["database", "redis"])
def mode(request):
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return request.param


@pytest.mark.parametrize("member", ["new", "known"])
def test_concurrent_retries_with_one_key_sign_up_once_and_share_the_answer(member, mode):
    # given: a member new to the platform, or one it already knows (who signed up elsewhere)
    campaign = CampaignFactory(status="published", capacity=5)
    if member == "known":
        sign_up(CampaignFactory(status="published"), "13800138000")
    _, token = apikey_create(name="storefront", role=Role.INTEGRATION)
    body = json.dumps({"member": {"phone": "13800138000"}, "channel": "h5"})
    barrier = threading.Barrier(RETRIES)

    def post(_):
        try:
            barrier.wait(timeout=30)
            response = ApiClient(token).post(
                f"/api/v1/campaigns/{campaign.pk}/signups",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="order-778899",
            )
            return response.status_code, response.json()
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=RETRIES) as pool:
        answers = list(pool.map(post, range(RETRIES)))
    # then
    assert {status for status, _ in answers} == {201}, answers
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1  # the first answer
    assert Signup.objects.filter(campaign=campaign).count() == 1
    assert IdempotencyRecord.objects.count() == 1
    campaign.refresh_from_db()
    assert campaign.seats_taken == 1


def test_a_retry_that_outwaits_the_first_request_is_told_to_come_back(monkeypatch):
    # given: a reservation held by a request still working (its lease is fresh)
    from datetime import timedelta

    from django.utils import timezone

    from yunying.core import idempotency

    campaign = CampaignFactory(status="published", capacity=5)
    key, token = apikey_create(name="storefront", role=Role.INTEGRATION)
    body = json.dumps({"member": {"phone": "13800138000"}, "channel": "h5"})
    url = f"/api/v1/campaigns/{campaign.pk}/signups"
    request_hash = idempotency.hashlib.sha256(
        b"POST " + url.encode() + b"\n" + idempotency.canonical_body(body.encode())
    ).hexdigest()
    IdempotencyRecord.objects.create(
        owner=f"api_key:{key.pk}", key="slow-1", request_hash=request_hash, state="running",
        lease_token="first", locked_until=timezone.now() + timedelta(minutes=1),
    )  # fmt: skip
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    # when
    response = ApiClient(token).post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="slow-1"
    )
    # then: not a 409, not a second sign-up: busy, come back shortly
    assert response.status_code == 503
    assert response.json()["code"] == "core.busy" and response["Retry-After"] == "1"
    assert not Signup.objects.exists()


def test_a_reservation_left_by_a_dead_process_is_taken_over():
    from datetime import timedelta

    from django.utils import timezone

    from yunying.core import idempotency

    # given: a running reservation whose lease ran out (its process was killed)
    campaign = CampaignFactory(status="published", capacity=5)
    key, token = apikey_create(name="storefront", role=Role.INTEGRATION)
    body = {"channel": "h5", "member": {"phone": "13800138000"}}
    url = f"/api/v1/campaigns/{campaign.pk}/signups"
    request_hash = idempotency.hashlib.sha256(
        b"POST " + url.encode() + b"\n" + idempotency.canonical_body(json.dumps(body).encode())
    ).hexdigest()
    IdempotencyRecord.objects.create(
        owner=f"api_key:{key.pk}", key="dead-1", request_hash=request_hash, state="running",
        lease_token="dead", locked_until=timezone.now() - timedelta(seconds=1),
    )  # fmt: skip
    # when: the retry arrives, with its keys in another order (the same request)
    reordered = json.dumps({"member": {"phone": "13800138000"}, "channel": "h5"}, indent=2)
    response = ApiClient(token).post(
        url, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="dead-1"
    )
    # then
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(key="dead-1").state == "done"
