"""One error shape everywhere, in words that say what happened, in Chinese (issue 8 §2)."""

import re
from pathlib import Path

import pytest

from tests.api.helpers import assert_problem, campaign_payload, campaigns_url, signups_url
from tests.api.helpers import signup_payload as payload
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Signup

PO = Path(__file__).resolve().parents[2] / "src/yunying/locale/zh_Hans/LC_MESSAGES/django.po"


@pytest.mark.parametrize("body", [b"", b"{}", b"null"])
def test_a_missing_body_is_the_field_body_not_an_internal_name(api, open_campaign, body):
    # when
    response = api.post(signups_url(open_campaign.pk), body, content_type="application/json")
    # then
    problem = assert_problem(response, 422, "core.invalid")
    for error in problem["errors"]:
        assert {"field", "code", "message"} <= set(error)
        assert "payload" not in error["field"]
    assert b"payload" not in response.content


def test_a_rejected_member_signing_up_again_is_told_so(api, open_campaign):
    # given
    signup = sign_up(open_campaign, mobile(1))
    api.post_json(signups_url(open_campaign.pk, signup.pk, "reject"), {"reason": "资料不实"})
    # when
    response = api.post_json(signups_url(open_campaign.pk), payload(1))
    # then
    body = assert_problem(response, 409, "signup.previously_refused")
    assert "已经报名" not in body["detail"]


def test_a_member_still_in_is_a_duplicate(api, open_campaign):
    sign_up(open_campaign, mobile(1))
    assert_problem(api.post_json(signups_url(open_campaign.pk), payload(1)), 409, "signup.duplicate")


def test_a_member_without_gender_is_told_it_is_unknown_not_excluded(api, db):
    # given
    campaign = CampaignFactory(status="published", eligibility={"genders": ["female"]})
    # when
    response = api.post_json(signups_url(campaign.pk), payload(1))
    # then
    body = assert_problem(response, 422, "signup.ineligible")
    assert [r["code"] for r in body["reasons"]] == ["eligibility.gender_unknown"]
    assert not Signup.objects.exists()


def test_a_member_of_another_gender_is_excluded(api, db):
    campaign = CampaignFactory(status="published", eligibility={"genders": ["female"]})
    response = api.post_json(signups_url(campaign.pk), payload(1, member={"gender": "male"}))
    body = assert_problem(response, 422, "signup.ineligible")
    assert [r["code"] for r in body["reasons"]] == ["eligibility.gender"]


def test_every_message_in_the_catalogue_is_translated():
    # given: the zh-Hans catalogue, entries separated by blank lines (obsolete "#~" ones aside)
    untranslated = []
    for entry in PO.read_text().split("\n\n"):
        lines = [line for line in entry.splitlines() if not line.startswith("#")]
        text = "\n".join(lines)
        msgid = "".join(re.findall(r'^(?:msgid )?"(.*)"$', text.split("msgstr")[0], re.M))
        if not msgid or "msgstr" not in text:
            continue
        msgstr = "".join(re.findall(r'"(.*)"', text.split("msgstr", 1)[1]))
        if not msgstr:
            untranslated.append(msgid)
    # then
    assert untranslated == []


def test_campaign_definition_messages_are_chinese_by_default(api):
    response = api.post_json(campaigns_url(), {"title": " "})
    assert response.status_code == 422
    response = api.post_json(
        campaigns_url(),
        campaign_payload(title="  "),
    )
    assert {"field": "title", "code": "core.invalid", "message": "标题不能为空。"} in response.json()[
        "errors"
    ]


def test_field_messages_of_a_malformed_body_are_in_the_callers_language(api, db):
    """pydantic writes English; the new-user review read "Input should be a valid integer" in zh."""
    body = {"external_id": "X-1", "member": {"phone": "13800138000"}, "channel": "app",
            "paid_at": "2026-12-01T10:00:00+08:00",
            "lines": [{"sku": "A", "unit_price_fen": 12.5, "quantity": 1, "paid_fen": 100}]}  # fmt: skip
    zh = api.post_json("/api/v1/orders", body, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = api.post_json("/api/v1/orders", body, HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["code"] == en["code"] == "core.invalid"
    assert "Input should be" not in zh["errors"][0]["message"]
    assert zh["errors"][0]["message"] != en["errors"][0]["message"]


@pytest.mark.parametrize(
    ("message", "translated"),
    [
        ("Value error, only choice questions have options", "只有选择题可以有选项。"),
        ("value is not a valid IPv4 or IPv6 address", "请输入 IPv4 或 IPv6 地址。"),
        # pydantic's own "or" stays out of a Chinese sentence (new user review)
        (
            "Input should be 'customer_service', 'prize_delivery' or 'fraud_investigation'",
            "请从 'customer_service'、'prize_delivery'、'fraud_investigation' 中选择。",
        ),
    ],
)
def test_our_validators_words_reach_the_api_translated(message, translated):
    """The console translated the campaign definition's messages; the API showed them in English."""
    from django.utils import translation

    from yunying.core.validation_messages import validation_message

    with translation.override("zh-hans"):
        assert validation_message(message) == translated
