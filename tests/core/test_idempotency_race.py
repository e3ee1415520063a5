"""Idempotency-Key under a race: clients that retry before the first answer arrives all get that
answer, and the work is done once (DESIGN invariant), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tests.campaigns.factories import CampaignFactory
from tests.conftest import ApiClient
from yunying.campaigns.models import Signup
from yunying.core.apikeys import apikey_create
from yunying.core.models import IdempotencyRecord
from yunying.core.permissions import Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

RETRIES = 8


def test_concurrent_retries_with_one_key_sign_up_once_and_share_the_answer():
    # given
    campaign = CampaignFactory(status="published", capacity=5)
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
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    assert Signup.objects.filter(campaign=campaign).count() == 1
    assert IdempotencyRecord.objects.count() == 1
    campaign.refresh_from_db()
    assert campaign.seats_taken == 1
