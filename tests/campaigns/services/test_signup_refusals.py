"""Refused sign-up attempts that operators watch are recorded durably (campaigns.services.refusals)."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from yunying.campaigns.models import SignupRefusal
from yunying.campaigns.services import refusals
from yunying.campaigns.services.refusals import refusals_recorded, signup_refusal_record
from yunying.core.errors import CoreError, DomainError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "recorded"),
    [
        ("signup.ineligible", True),
        ("signup.duplicate", True),
        ("signup.previously_refused", True),
        (CoreError.RATE_LIMITED, True),
        ("campaign.full", False),
        ("campaign.not_open", False),
        (CoreError.INVALID, False),
        ("campaign.not_found", False),
    ],
    ids=lambda v: str(v),
)
def test_only_the_refusals_operators_watch_are_recorded(code, recorded):
    # given
    campaign = CampaignFactory(status="published")
    # when
    written = signup_refusal_record(campaign_id=campaign.pk, refusal=DomainError(code), channel="h5")
    # then
    assert written is recorded
    assert SignupRefusal.objects.filter(campaign_id=campaign.pk).count() == int(recorded)


def test_a_refusal_is_recorded_and_re_raised_unchanged():
    campaign = CampaignFactory(status="published")
    sign_up(campaign, "13900000001")
    with pytest.raises(DomainError) as refused, refusals_recorded(campaign_id=campaign.pk, channel="app"):
        sign_up(campaign, "13900000001", channel="app")
    assert refused.value.code == "signup.duplicate"
    row = SignupRefusal.objects.get()
    assert (row.campaign_id, row.code, row.reasons, row.channel) == (
        campaign.pk,
        "signup.duplicate",
        "",
        "app",
    )


def test_a_rate_limited_request_for_an_unknown_campaign_is_recorded_without_failing():
    assert signup_refusal_record(campaign_id=2**62, refusal=DomainError(CoreError.RATE_LIMITED))


def test_no_campaign_no_record():
    assert not signup_refusal_record(campaign_id=None, refusal=DomainError("signup.duplicate"))


def test_recording_is_capped_per_campaign_and_minute(monkeypatch):
    # given: a cap of 3 rows a minute per campaign
    monkeypatch.setattr(refusals, "RECORD_PER_MINUTE", 3)
    campaign, other = CampaignFactory(status="published"), CampaignFactory(status="published")
    # when: an attack sends 10 rate-limited requests
    written = [
        signup_refusal_record(campaign_id=campaign.pk, refusal=DomainError(CoreError.RATE_LIMITED))
        for _ in range(10)
    ]
    # then: 3 rows, and another campaign still records
    assert written.count(True) == 3
    assert signup_refusal_record(campaign_id=other.pk, refusal=DomainError(CoreError.RATE_LIMITED))


@pytest.mark.django_db(transaction=True)
def test_a_refusal_inside_a_rolled_back_transaction_is_lost_so_callers_record_outermost():
    # The reason the API records in its outermost wrapper: a row written inside the refused work's
    # transaction goes with its rollback.
    campaign = CampaignFactory(status="published")
    with pytest.raises(DomainError), transaction.atomic():
        signup_refusal_record(campaign_id=campaign.pk, refusal=DomainError("signup.duplicate"))
        raise DomainError("signup.duplicate")
    assert not SignupRefusal.objects.exists()


def test_old_refusal_records_are_purged_with_the_client_data(settings):
    from datetime import timedelta

    from django.utils import timezone

    from yunying.campaigns.retention import refusals_purge

    # given
    settings.CLIENT_DATA_RETENTION_DAYS = 30
    campaign = CampaignFactory(status="published")
    old, recent = (
        SignupRefusal.objects.create(campaign_id=campaign.pk, code="signup.duplicate"),
        SignupRefusal.objects.create(campaign_id=campaign.pk, code="signup.duplicate"),
    )
    SignupRefusal.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=31))
    # when / then
    assert refusals_purge() == 1
    assert list(SignupRefusal.objects.values_list("pk", flat=True)) == [recent.pk]
