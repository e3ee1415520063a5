"""Attendance and review through the API: the console's door page and approval, for integrators'
scanners and review tools (the same services, the same limits)."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Signup
from yunying.core.permissions import Role


@pytest.fixture
def campaign(db):
    return CampaignFactory(status="published", capacity=5)


def _scan(client, campaign, code):
    return client.post_json(f"/api/v1/campaigns/{campaign.pk}/attendance", {"code": code})


def test_a_confirmed_member_is_checked_in_once(api_as, campaign):
    signup = sign_up(campaign, mobile(1))
    client = api_as(Role.EXECUTION)
    # when: typed in lower case with a dash, as a person reads it
    first = _scan(client, campaign, f"{signup.checkin_code[:5].lower()}-{signup.checkin_code[5:]}")
    again = _scan(client, campaign, signup.checkin_code)
    # then
    assert first.status_code == 200, first.content
    assert first.json()["signup_id"] == signup.pk and first.json()["attended_at"]
    assert again.status_code == 409 and again.json()["code"] == "attendance.already_checked_in"
    assert Signup.objects.get(pk=signup.pk).attended_at is not None


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown", 404, "attendance.unknown_code"),
        ("other_campaign", 409, "attendance.wrong_campaign"),
        ("empty", 422, "core.invalid"),
    ],
)
def test_refusals_have_stable_codes(api_as, campaign, case, status, code):
    other = CampaignFactory(status="published")
    theirs = sign_up(other, mobile(2))
    sent = {"unknown": "ABCDEFGHJK", "other_campaign": theirs.checkin_code, "empty": ""}[case]
    response = _scan(api_as(Role.EXECUTION), campaign, sent)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Signup.objects.filter(attended_at__isnull=False).exists()


def test_a_storefront_key_may_not_check_members_in(api_as, campaign):
    signup = sign_up(campaign, mobile(1))
    response = _scan(api_as(Role.INTEGRATION), campaign, signup.checkin_code)
    assert response.status_code == 403
    assert Signup.objects.get(pk=signup.pk).attended_at is None


def test_guessing_codes_through_the_api_is_stopped(api_as, campaign):
    signup = sign_up(campaign, mobile(1))
    client = api_as(Role.EXECUTION)
    codes = [
        _scan(client, campaign, f"ABCDEFG{n:03d}".replace("0", "A").replace("1", "B")) for n in range(11)
    ]
    assert [r.status_code for r in codes[:10]] == [404] * 10
    assert codes[-1].status_code == 429 and codes[-1].json()["code"] == "core.rate_limited"
    # even the right code waits now
    assert _scan(client, campaign, signup.checkin_code).status_code == 429


def test_an_approval_through_the_api_carries_a_reason_and_a_note(api_as, db):
    campaign = CampaignFactory(status="published", review_mode="manual", capacity=5)
    signup = sign_up(campaign, mobile(3))
    response = api_as(Role.EXECUTION).post_json(
        f"/api/v1/campaigns/{campaign.pk}/signups/{signup.pk}/confirm",
        {"reason": "欢迎参加", "note": "老会员"},
    )
    assert response.status_code == 200, response.content
    signup.refresh_from_db()
    assert (signup.status, signup.status_reason, signup.status_note) == ("confirmed", "欢迎参加", "老会员")


def test_an_approval_without_a_body_still_works(api_as, db):
    campaign = CampaignFactory(status="published", review_mode="manual", capacity=5)
    signup = sign_up(campaign, mobile(4))
    client = api_as(Role.EXECUTION)
    response = client.post(f"/api/v1/campaigns/{campaign.pk}/signups/{signup.pk}/confirm")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{", 400, "core.malformed_json"),
        ('{"reason": 5}', 422, "core.invalid"),
        ('{"colour": "red"}', 422, "core.invalid"),
    ],
)
def test_a_bad_approval_body_is_refused_and_changes_nothing(api_as, db, body, status, code):
    campaign = CampaignFactory(status="published", review_mode="manual", capacity=5)
    signup = sign_up(campaign, mobile(5))
    response = api_as(Role.EXECUTION).post_json(
        f"/api/v1/campaigns/{campaign.pk}/signups/{signup.pk}/confirm", body
    )
    assert response.status_code == status and response.json()["code"] == code
    signup.refresh_from_db()
    assert signup.status == "pending_review"


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("multipart/form-data", '{"note": "", "reason": ""}', 200),  # schemathesis: a 500 once
        ("multipart/form-data; boundary=x", "--x\r\nbroken", 200),  # parses as an empty form
        ("text/plain", '{"reason": "好"}', 200),
    ],
)
def test_an_approval_body_under_any_content_type_is_never_a_500(api_as, db, content_type, body, status):
    campaign = CampaignFactory(status="published", review_mode="manual", capacity=5)
    signup = sign_up(campaign, mobile(6))
    response = api_as(Role.EXECUTION).post(
        f"/api/v1/campaigns/{campaign.pk}/signups/{signup.pk}/confirm", body, content_type=content_type
    )
    assert response.status_code == status, response.content
