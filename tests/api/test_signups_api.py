"""/api/v1/campaigns/{id}/signups through HTTP: admission outcomes, every refusal with its code and
nothing half-written, Idempotency-Key, review actions, masking and reveal, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from tests.api.helpers import assert_problem, campaigns_url, signup_payload, signups_url
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.conftest import window
from tests.members.factories import MemberFactory, mobile
from tests.privacy.helpers import approval_for
from yunying.campaigns.models import Campaign, Signup
from yunying.core.models import IdempotencyRecord, PersonalDataAccess
from yunying.core.permissions import Role
from yunying.members.models import Member
from yunying.members.services import Profile

FORM = [
    {"key": "note", "label": "备注", "type": "text"},
    {"key": "size", "label": "尺码", "type": "single_choice", "required": True,
     "options": [{"value": "M", "label": "M"}, {"value": "L", "label": "L"}]},
    {"key": "contact", "label": "联系电话", "type": "phone"},
]  # fmt: skip


def _years_ago(years: int) -> str:
    today = timezone.localdate()
    return date(today.year - years, 1, 1).isoformat()


class Unchanged:
    """Snapshot of what a refused sign-up must not have touched."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.signups = Signup.objects.count()
        self.members = Member.objects.count()
        self.seats_taken = Campaign.objects.get(pk=campaign.pk).seats_taken

    def assert_holds(self) -> None:
        assert Signup.objects.count() == self.signups
        assert Member.objects.count() == self.members
        assert Campaign.objects.get(pk=self.campaign.pk).seats_taken == self.seats_taken


# --- admission outcomes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("campaign_values", "status", "seats_taken"),
    [
        ({}, "confirmed", 1),
        ({"review_mode": "manual"}, "pending_review", 0),
        ({"admission_mode": "lottery"}, "registered", 0),
    ],
    ids=["first-come", "manual-review", "lottery"],
)
def test_sign_up_is_201_with_the_status_admission_gave(
    api_as, published, campaign_values, status, seats_taken
):
    # given: an operator's key (a key without signup.view gets no member block: test_member_probing)
    integration = api_as(Role.EXECUTION)
    campaign = published(**campaign_values)
    payload = signup_payload(
        1,
        member={"name": "张三丰", "gender": "male", "region_code": "440300"},
        utm={"source": "wechat", "medium": "social", "campaign": "d11"},
        client={"ip": "203.0.113.7", "device_id": "dev-1", "user_agent": "Mozilla/5.0"},
    )
    # when
    response = integration.post_json(signups_url(campaign.pk), payload)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["campaign_id"], body["status"], body["channel"]) == (campaign.pk, status, "h5")
    assert body["member"]["phone"] == "138****0001"
    assert body["member"]["name"] == "张**"
    assert (body["member"]["gender"], body["member"]["region_code"]) == ("male", "440300")
    assert (body["utm_source"], body["utm_medium"], body["utm_campaign"]) == ("wechat", "social", "d11")
    signup = Signup.objects.get(pk=body["id"])
    assert signup.status == status
    assert Campaign.objects.get(pk=campaign.pk).seats_taken == seats_taken


def test_sign_up_to_a_full_campaign_with_a_waiting_list_is_waitlisted(integration, published):
    # given
    campaign = published(capacity=1, waitlist_enabled=True)
    sign_up(campaign, mobile(1))
    # when
    response = integration.post_json(signups_url(campaign.pk), signup_payload(2))
    # then
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "waitlisted"
    assert Campaign.objects.get(pk=campaign.pk).seats_taken == 1


def test_sign_up_by_external_id_alone(integration, open_campaign):
    # when
    response = integration.post_json(
        signups_url(open_campaign.pk), {"member": {"external_id": "shop-42"}, "channel": "app"}
    )
    # then
    assert response.status_code == 201, response.content
    assert "member" not in response.json()  # the storefront's key gets no personal data back
    assert Member.objects.get().external_id == "shop-42"


def test_answers_are_cleaned_and_shown_masked(api_as, published):
    # given: an operator's key (answers are personal data: none for a key without signup.view)
    integration = api_as(Role.EXECUTION)
    campaign = published(form=FORM)
    answers = {"note": "  请安排靠窗座位  ", "size": "M", "contact": "139 0000 0002"}
    # when
    response = integration.post_json(signups_url(campaign.pk), signup_payload(1, answers=answers))
    # then
    assert response.status_code == 201, response.content
    assert response.json()["answers"] == {"note": "请安****", "size": "M", "contact": "139****0002"}


def test_a_withdrawn_member_may_sign_up_again(integration, open_campaign):
    # given
    first = sign_up(open_campaign, mobile(1))
    integration.post_json(
        signups_url(open_campaign.pk, first.public_id, "withdraw"),
        {"reason": "改主意了", "member": {"phone": mobile(1)}},
    )
    # when
    response = integration.post_json(signups_url(open_campaign.pk), signup_payload(1))
    # then
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "confirmed"


# --- refusals: each leaves nothing behind ---------------------------------------------------------


def test_a_second_sign_up_of_one_member_is_a_409_duplicate(integration, open_campaign):
    # given
    sign_up(open_campaign, mobile(1))
    unchanged = Unchanged(open_campaign)
    # when: the same member typed another way
    response = integration.post_json(
        signups_url(open_campaign.pk), signup_payload(member={"phone": "138 0000 0001"})
    )
    # then
    assert_problem(response, 409, "signup.duplicate")
    unchanged.assert_holds()


def test_sign_up_to_a_full_campaign_without_waiting_list_is_a_409(integration, published):
    # given
    campaign = published(capacity=1)
    sign_up(campaign, mobile(1))
    unchanged = Unchanged(campaign)
    # when: a first-time member
    response = integration.post_json(signups_url(campaign.pk), signup_payload(2))
    # then
    body = assert_problem(response, 409, "campaign.full")
    assert body["capacity"] == 1
    unchanged.assert_holds()


@pytest.mark.parametrize(
    ("campaign_values", "status"),
    [
        ({"status": "draft"}, "draft"),
        ({"status": "published", **window(signup_start_at=timezone.now() + timedelta(hours=1))}, "published"),
        (
            {
                "status": "published",
                **window(
                    signup_start_at=timezone.now() - timedelta(days=2),
                    signup_end_at=timezone.now() - timedelta(minutes=1),
                ),
            },
            "published",
        ),
        ({"status": "closed"}, "closed"),
        ({"status": "cancelled"}, "cancelled"),
    ],
    ids=["draft", "before-window", "after-window", "closed", "cancelled"],
)
def test_sign_up_outside_an_open_campaign_is_a_409_not_open(integration, campaign_values, status):
    # given
    campaign = CampaignFactory(**campaign_values)
    unchanged = Unchanged(campaign)
    # when
    response = integration.post_json(signups_url(campaign.pk), signup_payload(1))
    # then
    body = assert_problem(response, 409, "campaign.not_open")
    assert body["current_status"] == status
    assert {"signup_start_at", "signup_end_at"} <= body.keys()
    unchanged.assert_holds()


def test_an_ineligible_first_time_member_gets_every_reason_and_is_not_created(integration, published):
    # given
    campaign = published(
        eligibility={
            "min_age": 30,
            "genders": ["male"],
            "regions_allow": ["110000"],
            "regions_deny": ["440000"],
        }
    )
    unchanged = Unchanged(campaign)
    member = {"gender": "female", "birth_date": _years_ago(20), "region_code": "440300"}
    # when
    response = integration.post_json(signups_url(campaign.pk), signup_payload(1, member=member))
    # then
    body = assert_problem(response, 422, "signup.ineligible")
    assert [r["code"] for r in body["reasons"]] == [
        "eligibility.too_young",
        "eligibility.gender",
        "eligibility.region_not_allowed",
        "eligibility.region_denied",
    ]
    assert all(r["message"] for r in body["reasons"])
    assert body["reasons"][0]["min_age"] == 30
    unchanged.assert_holds()


def test_participation_limit_and_required_answers_are_reasons_too(api_as, published):
    # given: the member already took part in another campaign this month; an operator who may view
    # sign-ups (a key that may not gets only what follows from its request: test_security)
    integration = api_as(Role.EXECUTION)
    sign_up(published(), mobile(1))
    campaign = published(
        form=FORM,
        eligibility={
            "participation_limit": {"count": 1, "period_days": 30},
            "required_answers": [{"question": "size", "allowed": ["L"]}],
            "min_age": 18,
        },
    )
    unchanged = Unchanged(campaign)
    # when: no birth date known, answers M
    response = integration.post_json(signups_url(campaign.pk), signup_payload(1, answers={"size": "M"}))
    # then
    body = assert_problem(response, 422, "signup.ineligible")
    assert [r["code"] for r in body["reasons"]] == [
        "eligibility.age_unknown",
        "eligibility.participation_limit",
        "eligibility.answer_required",
    ]
    assert body["reasons"][1] | {"message": ""} == {
        "code": "eligibility.participation_limit",
        "message": "",
        "count": 1,
        "period_days": 30,
    }
    assert body["reasons"][2]["question"] == "size"
    unchanged.assert_holds()


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        ({}, [("answers.size", "form.required")]),
        ({"size": " "}, [("answers.size", "form.required")]),
        (
            {"size": "XXL", "note": 42, "contact": "12345", "shoe": "42"},
            [
                ("answers.shoe", "form.unknown_question"),
                ("answers.note", "form.invalid_type"),
                ("answers.size", "form.invalid_choice"),
                ("answers.contact", "form.invalid_phone"),
            ],
        ),
        ({"size": "M", "note": "长" * 501}, [("answers.note", "form.too_long")]),
    ],
    ids=["missing-required", "blank-required", "every-bad-answer", "too-long"],
)
def test_bad_answers_are_a_422_naming_every_failing_question(integration, published, answers, errors):
    # given
    campaign = published(form=FORM)
    unchanged = Unchanged(campaign)
    # when
    response = integration.post_json(signups_url(campaign.pk), signup_payload(1, answers=answers))
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert sorted((e["field"], e["code"]) for e in body["errors"]) == sorted(errors)
    assert all(e["message"] for e in body["errors"])
    unchanged.assert_holds()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (signup_payload(member={"phone": "12"}), "member.phone"),
        (signup_payload(member={"email": "not-an-email"}), "member.email"),
        (signup_payload(member={"region_code": "4403"}), "member.region_code"),
        (signup_payload(member={"gender": "robot"}), "member.gender"),
        (signup_payload(member={"birth_date": "1990-13-01"}), "member.birth_date"),
        (signup_payload(member={"name": ""}), "member.name"),
        (signup_payload(channel="fax"), "channel"),
        ({"channel": "h5"}, "member"),
        (signup_payload(answers=["size", "M"]), "answers"),
        (signup_payload(utm={"source": "x" * 101}), "utm.source"),
        (signup_payload(client={"ip": "999.1.1.1"}), "client.ip"),
        (signup_payload(client={"ip": "localhost"}), "client.ip"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_malformed_field_is_a_422_naming_it(integration, open_campaign, payload, field):
    # given
    unchanged = Unchanged(open_campaign)
    # when
    response = integration.post_json(signups_url(open_campaign.pk), payload)
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["code"] == "core.invalid"
    unchanged.assert_holds()


@pytest.mark.parametrize(
    ("member", "code"),
    [
        ({"phone": "12345678901"}, "member.phone_invalid"),
        ({"phone": "电话号码"}, "member.phone_invalid"),
        ({}, "member.identity_required"),
        ({"name": "张三", "gender": "male"}, "member.identity_required"),
        ({"phone": mobile(1), "region_code": "990000"}, "member.region_invalid"),
    ],
    ids=["not-a-number", "not-digits", "nothing", "name-only", "unknown-region"],
)
def test_an_unusable_identity_is_a_422_and_creates_no_member(integration, open_campaign, member, code):
    # given
    unchanged = Unchanged(open_campaign)
    # when
    response = integration.post_json(signups_url(open_campaign.pk), {"member": member, "channel": "h5"})
    # then
    assert_problem(response, 422, code)
    unchanged.assert_holds()


def test_a_phone_and_external_id_of_two_members_is_a_409_mismatch(integration, open_campaign):
    # given
    MemberFactory(phone=mobile(1))
    MemberFactory(phone=mobile(2), external_id="shop-2")
    unchanged = Unchanged(open_campaign)
    # when
    response = integration.post_json(
        signups_url(open_campaign.pk), signup_payload(1, member={"external_id": "shop-2"})
    )
    # then
    assert_problem(response, 409, "member.identity_mismatch")
    unchanged.assert_holds()


def test_a_channel_the_campaign_does_not_take_is_a_422(integration, open_campaign):
    # given
    unchanged = Unchanged(open_campaign)
    # when
    response = integration.post_json(signups_url(open_campaign.pk), signup_payload(1, channel="mini_program"))
    # then
    body = assert_problem(response, 422, "campaign.channel_not_allowed")
    assert (body["channel"], body["channels"]) == ("mini_program", ["h5", "app"])
    unchanged.assert_holds()


@pytest.mark.parametrize(
    "raw", ['{"member": {"phone": ', "not json", "\x00\x01"], ids=["cut", "text", "binary"]
)
def test_a_body_that_is_not_json_is_a_400(integration, open_campaign, raw):
    # given
    unchanged = Unchanged(open_campaign)
    # when
    response = integration.post_json(signups_url(open_campaign.pk), raw)
    # then
    assert_problem(response, 400, "core.malformed_json")
    unchanged.assert_holds()


def _big_body() -> bytes:
    return json.dumps(signup_payload(1, client={"user_agent": "浏览器" * 50})).encode()


def test_a_body_over_the_limit_is_a_413_before_anything_reads_it(integration, open_campaign, settings):
    # given
    body = _big_body()
    settings.MAX_REQUEST_BODY_BYTES = len(body) - 1
    unchanged = Unchanged(open_campaign)
    # when
    response = integration.post_json(signups_url(open_campaign.pk), body)
    # then
    problem = assert_problem(response, 413, "core.body_too_large")
    assert problem["limit_bytes"] == len(body) - 1
    unchanged.assert_holds()


def test_a_body_exactly_at_the_limit_is_read(integration, open_campaign, settings):
    # given
    body = _big_body()
    settings.MAX_REQUEST_BODY_BYTES = len(body)
    # when
    response = integration.post_json(signups_url(open_campaign.pk), body)
    # then
    assert response.status_code == 201, response.content


def test_sign_up_to_an_unknown_campaign_is_a_404(integration, db):
    # when
    response = integration.post_json(signups_url(999_999), signup_payload(1))
    # then
    assert_problem(response, 404, "campaign.not_found")
    assert not Member.objects.exists()


# --- Idempotency-Key --------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(integration, open_campaign):
    # given
    url, payload = signups_url(open_campaign.pk), signup_payload(1)
    # when
    first = integration.post_json(url, payload, HTTP_IDEMPOTENCY_KEY="order-1001")
    retry = integration.post_json(url, payload, HTTP_IDEMPOTENCY_KEY="order-1001")
    # then
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Signup.objects.count() == 1
    assert Campaign.objects.get(pk=open_campaign.pk).seats_taken == 1


def test_the_same_key_with_another_body_is_a_422(integration, open_campaign):
    # given
    url = signups_url(open_campaign.pk)
    integration.post_json(url, signup_payload(1), HTTP_IDEMPOTENCY_KEY="order-1001")
    # when
    response = integration.post_json(url, signup_payload(2), HTTP_IDEMPOTENCY_KEY="order-1001")
    # then
    assert_problem(response, 422, "core.idempotency_key_reused")
    assert Signup.objects.count() == 1


def test_the_same_key_on_another_campaign_is_a_422(integration, published):
    # given
    first, second = published(), published()
    integration.post_json(signups_url(first.pk), signup_payload(1), HTTP_IDEMPOTENCY_KEY="k-1")
    # when
    response = integration.post_json(signups_url(second.pk), signup_payload(1), HTTP_IDEMPOTENCY_KEY="k-1")
    # then
    assert_problem(response, 422, "core.idempotency_key_reused")
    assert Signup.objects.count() == 1


def test_keys_of_different_api_keys_are_independent(api_as, open_campaign):
    # given
    shop, app = api_as(Role.INTEGRATION), api_as(Role.INTEGRATION)
    url = signups_url(open_campaign.pk)
    # when
    from_shop = shop.post_json(url, signup_payload(1), HTTP_IDEMPOTENCY_KEY="order-1")
    from_app = app.post_json(url, signup_payload(2), HTTP_IDEMPOTENCY_KEY="order-1")
    # then
    assert (from_shop.status_code, from_app.status_code) == (201, 201)
    assert from_shop.json()["id"] != from_app.json()["id"]
    assert Signup.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 2


def test_a_refused_request_is_not_remembered_and_its_retry_runs_again(api, integration, published):
    # given: full, so the first try is refused
    campaign = published(capacity=1)
    sign_up(campaign, mobile(1))
    url, payload = signups_url(campaign.pk), signup_payload(2)
    refused = integration.post_json(url, payload, HTTP_IDEMPOTENCY_KEY="order-2002")
    assert_problem(refused, 409, "campaign.full")
    api.patch_json(campaigns_url(campaign.pk), {"capacity": 2})
    # when
    retry = integration.post_json(url, payload, HTTP_IDEMPOTENCY_KEY="order-2002")
    # then
    assert retry.status_code == 201, retry.content
    assert retry.json()["status"] == "confirmed"
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize("key", ["", "k" * 256], ids=["empty", "too-long"])
def test_an_unusable_idempotency_key_is_a_422(integration, open_campaign, key):
    # when
    response = integration.post_json(
        signups_url(open_campaign.pk), signup_payload(1), HTTP_IDEMPOTENCY_KEY=key
    )
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert body["field"] == "Idempotency-Key"
    assert not Signup.objects.exists()


# --- review actions ---------------------------------------------------------------------------------


def test_confirm_a_pending_sign_up_takes_a_seat(api, published):
    # given
    campaign = published(review_mode="manual")
    signup = sign_up(campaign, mobile(1))
    # when
    response = api.post_json(signups_url(campaign.pk, signup.pk, "confirm"))
    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed"
    assert Campaign.objects.get(pk=campaign.pk).seats_taken == 1


def test_confirm_into_a_full_campaign_is_a_409(api, published):
    # given
    campaign = published(review_mode="manual", capacity=1)
    first, second = sign_up(campaign, mobile(1)), sign_up(campaign, mobile(2))
    api.post_json(signups_url(campaign.pk, first.pk, "confirm"))
    # when
    response = api.post_json(signups_url(campaign.pk, second.pk, "confirm"))
    # then
    assert_problem(response, 409, "campaign.full")
    second.refresh_from_db()
    assert second.status == "pending_review"


def test_confirm_a_confirmed_sign_up_is_a_409(api, open_campaign):
    # given
    signup = sign_up(open_campaign, mobile(1))
    # when
    response = api.post_json(signups_url(open_campaign.pk, signup.pk, "confirm"))
    # then
    body = assert_problem(response, 409, "signup.invalid_transition")
    assert (body["current_status"], body["to"]) == ("confirmed", "confirmed")


def test_reject_with_a_reason(api, published):
    # given
    campaign = published(review_mode="manual")
    signup = sign_up(campaign, mobile(1))
    # when
    response = api.post_json(signups_url(campaign.pk, signup.pk, "reject"), {"reason": "资料不全"})
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_reason"]) == ("rejected", "资料不全")


@pytest.mark.parametrize(
    ("body", "code"),
    [({}, "core.invalid"), ({"reason": ""}, "core.invalid"), ({"reason": "   "}, "signup.reason_required")],
    ids=["no-reason", "empty-reason", "blank-reason"],
)
@pytest.mark.parametrize("action", ["reject", "withdraw"])
def test_reject_and_withdraw_need_a_reason(api, published, action, body, code):
    # given
    campaign = published(review_mode="manual")
    signup = sign_up(campaign, mobile(1))
    # when
    response = api.post_json(signups_url(campaign.pk, signup.pk, action), body)
    # then
    problem = assert_problem(response, 422, code)
    if code == "core.invalid":
        assert [e["field"] for e in problem["errors"]] == ["reason"]
    signup.refresh_from_db()
    assert signup.status == "pending_review"


def test_withdraw_a_confirmed_sign_up_hands_its_seat_to_the_waiting_list(integration, published):
    # given
    campaign = published(capacity=1, waitlist_enabled=True)
    leaving, waiting = sign_up(campaign, mobile(1)), sign_up(campaign, mobile(2))
    # when
    response = integration.post_json(
        signups_url(campaign.pk, leaving.public_id, "withdraw"),
        {"reason": "行程冲突", "member": {"phone": mobile(1)}},
    )
    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
    assert Campaign.objects.get(pk=campaign.pk).seats_taken == 1


def test_withdraw_gives_the_seat_back_when_nobody_waits(integration, open_campaign):
    # given
    signup = sign_up(open_campaign, mobile(1))
    # when
    integration.post_json(
        signups_url(open_campaign.pk, signup.public_id, "withdraw"),
        {"reason": "行程冲突", "member": {"phone": mobile(1)}},
    )
    # then
    assert Campaign.objects.get(pk=open_campaign.pk).seats_taken == 0


def test_withdraw_twice_is_a_409(integration, open_campaign):
    # given
    signup = sign_up(open_campaign, mobile(1))
    url = signups_url(open_campaign.pk, signup.public_id, "withdraw")
    body = {"reason": "行程冲突", "member": {"phone": mobile(1)}}
    integration.post_json(url, body)
    # when
    response = integration.post_json(url, body)
    # then
    body = assert_problem(response, 409, "signup.invalid_transition")
    assert body["current_status"] == "withdrawn"
    assert Campaign.objects.get(pk=open_campaign.pk).seats_taken == 0


@pytest.mark.parametrize(
    ("method", "action"),
    [("get", ""), ("post", "confirm"), ("post", "reject"), ("post", "withdraw")],
    ids=["get", "confirm", "reject", "withdraw"],
)
def test_a_sign_up_of_another_campaign_is_a_404(api, published, method, action):
    # given
    campaign, other = published(review_mode="manual"), published()
    signup = sign_up(other, mobile(1))
    url = signups_url(campaign.pk, signup.pk, action)
    # when
    response = api.get(url) if method == "get" else api.post_json(url, {"reason": "测试"})
    # then
    assert_problem(response, 404, "signup.not_found")
    signup.refresh_from_db()
    assert signup.status == "confirmed"


# --- list and detail: masked unless revealed (and then logged) ---------------------------------------


@pytest.fixture
def two_signups(published):
    campaign = published(form=FORM)
    answers = {"note": "住在阳光小区3栋", "size": "L", "contact": "13900000009"}
    first = sign_up(campaign, mobile(1), profile=Profile(name="张三丰"), answers=answers)
    second = sign_up(campaign, mobile(2), profile=Profile(name="李四"), channel="app", answers={"size": "M"})
    return campaign, first, second


def test_list_shows_personal_data_masked_and_logs_nothing(api, two_signups):
    # given
    campaign, first, _ = two_signups
    # when
    response = api.get(signups_url(campaign.pk))
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    row = body["items"][0]
    assert (row["id"], row["member"]["phone"], row["member"]["name"]) == (first.pk, "138****0001", "张**")
    assert row["answers"] == {"note": "住在****", "size": "L", "contact": "139****0009"}
    assert body["items"][1]["member"]["name"] == "李*"
    assert not PersonalDataAccess.objects.exists()


def test_detail_shows_personal_data_masked_and_logs_nothing(api, two_signups):
    # given
    campaign, first, _ = two_signups
    # when
    response = api.get(signups_url(campaign.pk, first.pk))
    # then
    assert response.status_code == 200
    assert (response.json()["member"]["phone"], response.json()["member"]["name"]) == ("138****0001", "张**")
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    ("query", "ids"),
    [({"status": "confirmed"}, [0, 1]), ({"channel": "app"}, [1]), ({"status": "waitlisted"}, [])],
    ids=["status", "channel", "none"],
)
def test_list_filters(api, two_signups, query, ids):
    # given
    campaign, *signups = two_signups
    # when
    body = api.get(signups_url(campaign.pk), query).json()
    # then
    assert [row["id"] for row in body["items"]] == [signups[i].pk for i in ids]
    assert body["count"] == len(ids)


@pytest.mark.parametrize("role", [Role.STRATEGY])
def test_reveal_shows_clear_data_and_logs_each_member_shown(api_as, two_signups, role):
    # given
    campaign, first, second = two_signups
    client = api_as(role)
    approval = approval_for(client, campaign.pk, "list", note="客服回访")
    # when
    response = client.get(signups_url(campaign.pk), {"reveal": "true", "approval": approval})
    # then
    assert response.status_code == 200, response.content
    rows = response.json()["items"]
    assert [(r["member"]["phone"], r["member"]["name"]) for r in rows] == [
        ("13800000001", "张三丰"),
        ("13800000002", "李四"),
    ]
    assert rows[0]["answers"] == {"note": "住在阳光小区3栋", "size": "L", "contact": "13900000009"}
    logged = PersonalDataAccess.objects.order_by("member_id")
    assert [a.member_id for a in logged] == [first.member_id, second.member_id]
    assert {(a.actor_kind, a.actor_label, a.purpose) for a in logged} == {
        ("api_key", f"{role} test key", "customer_service: 客服回访")
    }
    assert set(logged[0].fields) >= {"phone", "name"}


def test_reveal_logs_only_the_members_on_the_page(api, two_signups):
    # given
    campaign, first, _ = two_signups
    # when
    approval = approval_for(api, campaign.pk, "list", note="核对")
    api.get(signups_url(campaign.pk), {"reveal": "true", "approval": approval, "page_size": 1})
    # then
    assert list(PersonalDataAccess.objects.values_list("member_id", flat=True)) == [first.member_id]


def test_reveal_of_one_sign_up_logs_its_member(api, two_signups):
    # given
    campaign, _, second = two_signups
    # when
    response = api.get(
        signups_url(campaign.pk, second.pk),
        {"reveal": "true", "purpose": "customer_service", "purpose_note": "投诉处理"},
    )
    # then
    assert response.json()["member"]["phone"] == "13800000002"
    access = PersonalDataAccess.objects.get()
    assert (access.member_id, access.purpose) == (second.member_id, "customer_service: 投诉处理")


@pytest.mark.parametrize("purpose", [None, "", "   "], ids=["absent", "empty", "blank"])
@pytest.mark.parametrize("path", ["detail"])
def test_reveal_without_a_purpose_is_a_422_and_logs_nothing(api, two_signups, path, purpose):
    # given
    campaign, first, _ = two_signups
    url = {
        "list": signups_url(campaign.pk),
        "detail": signups_url(campaign.pk, first.pk),
        "export": signups_url(campaign.pk, action="export"),
    }[path]
    query = {"reveal": "true"} | ({} if purpose is None else {"purpose": purpose})
    # when
    response = api.get(url, query)
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == ["purpose"]
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.AUDITOR])
@pytest.mark.parametrize("path", ["list", "detail", "export"])
def test_reveal_without_the_permission_is_a_403_and_logs_nothing(api_as, two_signups, role, path):
    # given
    campaign, first, _ = two_signups
    url = {
        "list": signups_url(campaign.pk),
        "detail": signups_url(campaign.pk, first.pk),
        "export": signups_url(campaign.pk, action="export"),
    }[path]
    # when
    response = api_as(role).get(
        url, {"reveal": "true", "purpose": "customer_service", "purpose_note": "好奇"}
    )
    # then
    body = assert_problem(response, 403, "core.permission_denied")
    assert body["permission"] in ("pii.reveal", "pii.reveal_bulk", "signup.export", "signup.view")
    assert not PersonalDataAccess.objects.exists()


def test_list_queries_do_not_grow_with_the_number_of_sign_ups(api, published, django_assert_num_queries):
    # given
    campaign = published(capacity=20, form=FORM)
    sign_up(campaign, mobile(0), answers={"size": "M"}, profile=Profile(name="王五"))
    url = signups_url(campaign.pk)
    api.get(url)  # the key's first use records last_used_at: keep it out of the count
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(url).json()["items"]) == 1
    for n in range(1, 10):
        sign_up(campaign, mobile(n), answers={"size": "L"}, profile=Profile(name="王五"))
    # when / then
    with django_assert_num_queries(len(one)):
        assert len(api.get(url).json()["items"]) == 10


def test_revealed_list_queries_do_not_grow_with_the_number_of_sign_ups(
    api, published, django_assert_num_queries
):
    # given
    campaign = published(capacity=20)
    sign_up(campaign, mobile(0))
    url, query = (
        signups_url(campaign.pk),
        {"reveal": "true", "approval": approval_for(api, campaign.pk, "list", note="核对")},
    )
    api.get(url, query)
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(url, query).json()["items"]) == 1
    for n in range(1, 10):
        sign_up(campaign, mobile(n))
    # when / then
    with django_assert_num_queries(len(one)):
        assert len(api.get(url, query).json()["items"]) == 10


# --- export -----------------------------------------------------------------------------------------


def _text(value) -> str:
    """An XLSX cell as the CSV writes it (dates are date cells there, text here)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    if rows and rows[0] and rows[0][0].startswith("# "):  # an export in clear: the watermark first
        return rows[1:]
    return rows


@pytest.fixture
def formula_signup(published):
    """A sign-up whose name and free-text answer a spreadsheet would run as formulas."""
    campaign = published(form=FORM)
    answers = {"note": "=1+1+2", "size": "M", "contact": "13900000009"}
    signup = sign_up(campaign, mobile(1), profile=Profile(name="=HYPERLINK"), answers=answers)
    return campaign, signup


def test_csv_export_streams_masked_rows_with_a_bom_and_answer_columns(api, formula_signup):
    # given
    campaign, signup = formula_signup
    # when
    response = api.get(signups_url(campaign.pk, action="export"))
    # then
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="campaign-{campaign.pk}-signups-'
    )
    assert response["Content-Disposition"].endswith('.csv"')
    header, row, *rest = _csv_rows(response)
    assert header[-3:] == ["备注", "尺码", "联系电话"]  # question titles, not keys
    assert rest == []
    cells = dict(zip(header, row, strict=True))
    assert (cells["报名编号"], cells["状态"], cells["报名渠道"]) == (str(signup.pk), "已确认", "H5")
    assert cells["手机号"] == "138****0001"
    assert cells["姓名"] == "'=*********"  # masked, and still quoted: it starts with "="
    assert cells["备注"] == "'=*****"
    assert (cells["尺码"], cells["联系电话"]) == ("M", "139****0009")
    assert not PersonalDataAccess.objects.exists()


def test_revealed_csv_export_quotes_formulas_and_logs_the_members(api, formula_signup):
    # given
    campaign, signup = formula_signup
    # when
    approval = approval_for(api, campaign.pk, "csv", note="活动复盘")
    response = api.get(signups_url(campaign.pk, action="export"), {"reveal": "true", "approval": approval})
    # then
    header, row = _csv_rows(response)
    cells = dict(zip(header, row, strict=True))
    assert (cells["手机号"], cells["姓名"]) == ("13800000001", "'=HYPERLINK")
    assert cells["备注"] == "'=1+1+2"
    assert cells["联系电话"] == "13900000009"
    access = PersonalDataAccess.objects.get()
    assert (access.member_id, access.purpose, access.actor_label) == (
        signup.member_id,
        "customer_service: 活动复盘",
        "strategy test key",
    )


@pytest.mark.parametrize("text", ["+86 转账", "-1", "@SUM(A1)"], ids=["plus", "minus", "at"])
def test_csv_export_quotes_every_formula_prefix(api, published, text):
    # given
    campaign = published(form=FORM)
    sign_up(campaign, mobile(1), answers={"size": "M", "note": text})
    query = {"reveal": "true", "approval": approval_for(api, campaign.pk, "csv", note="核对")}
    # when
    header, row = _csv_rows(api.get(signups_url(campaign.pk, action="export"), query))
    # then
    assert dict(zip(header, row, strict=True))["备注"] == "'" + text


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"], ids=["equals", "tab", "cr"])
def test_csv_export_quotes_formulas_in_fields_the_client_sent_verbatim(api, integration, open_campaign, text):
    # given: utm values are stored as sent (no trimming)
    integration.post_json(signups_url(open_campaign.pk), signup_payload(1, utm={"source": text}))
    # when
    header, row = _csv_rows(api.get(signups_url(open_campaign.pk, action="export")))
    # then
    assert dict(zip(header, row, strict=True))["来源 (utm_source)"] == "'" + text


def test_csv_export_filters_by_status(api, published):
    # given
    campaign = published(capacity=1, waitlist_enabled=True)
    sign_up(campaign, mobile(1))
    waiting = sign_up(campaign, mobile(2))
    # when
    rows = _csv_rows(api.get(signups_url(campaign.pk, action="export"), {"status": "waitlisted"}))
    # then
    assert [r[0] for r in rows[1:]] == [str(waiting.pk)]


def test_xlsx_export_has_the_same_rows(api, formula_signup):
    # given
    campaign, _ = formula_signup
    sign_up(campaign, mobile(2), profile=Profile(name="李四"), answers={"size": "L"}, channel="app")
    csv_rows = _csv_rows(api.get(signups_url(campaign.pk, action="export")))
    # when
    response = api.get(signups_url(campaign.pk, action="export"), {"format": "xlsx"})
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    xlsx_rows = [["" if v is None else _text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert xlsx_rows == csv_rows
    assert len(xlsx_rows) == 3


def test_export_in_an_unknown_format_is_a_422(api, open_campaign):
    # when
    response = api.get(signups_url(open_campaign.pk, action="export"), {"format": "pdf"})
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == ["format"]


def test_csv_export_queries_do_not_grow_with_the_number_of_sign_ups(
    api, published, django_assert_num_queries
):
    # given
    campaign = published(capacity=20, form=FORM)
    url = signups_url(campaign.pk, action="export")
    sign_up(campaign, mobile(0), answers={"size": "M"})
    _csv_rows(api.get(url))
    with CaptureQueriesContext(connection) as one:
        assert len(_csv_rows(api.get(url))) == 2
    for n in range(1, 10):
        sign_up(campaign, mobile(n), answers={"size": "M"})
    # when / then
    with django_assert_num_queries(len(one)):
        assert len(_csv_rows(api.get(url))) == 11
