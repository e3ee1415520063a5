"""A campaign that cannot work is refused, every problem at once, on create, on edit and at publish;
and an unknown field in any body is refused by name (issue 8 §2)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.helpers import assert_problem, campaign_payload, campaigns_url, signup_payload, signups_url
from tests.campaigns.factories import CampaignFactory
from yunying.campaigns.models import Campaign

NOW = timezone.now()


def _fields(body) -> set[str]:
    assert all(set(e) >= {"field", "code", "message"} for e in body["errors"])
    return {e["field"] for e in body["errors"]}


def test_every_problem_of_a_definition_is_reported_at_once(api):
    # given: sign-up ending after the event starts, an event ending before it starts, a blank title,
    # a rule naming a question the form does not have, a duplicate question, a choice without options
    payload = campaign_payload(
        title="   ",
        signup_end_at=(NOW + timedelta(days=3)).isoformat(),
        event_start_at=(NOW + timedelta(days=2)).isoformat(),
        event_end_at=(NOW + timedelta(days=1)).isoformat(),
        form=[
            {"key": "size", "label": "尺码", "type": "text"},
            {"key": "size", "label": "再问", "type": "text"},
        ],
        eligibility={"required_answers": [{"question": "missing", "allowed": ["x"]}]},
    )
    # when
    response = api.post_json(campaigns_url(), payload)
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert _fields(body) == {"title", "signup_end_at", "event_end_at", "form.1.key"}
    assert not Campaign.objects.exists()


def test_a_choice_question_without_options_is_refused(api):
    form = [{"key": "pick", "label": "选", "type": "single_choice"}]
    body = assert_problem(api.post_json(campaigns_url(), campaign_payload(form=form)), 422, "core.invalid")
    assert _fields(body) == {"form.0"}


def test_a_required_answer_must_name_a_question_and_its_options(api):
    form = [
        {"key": "size", "label": "尺码", "type": "single_choice", "options": [{"value": "m", "label": "M"}]}
    ]
    response = api.post_json(
        campaigns_url(),
        campaign_payload(
            form=form,
            eligibility={
                "required_answers": [
                    {"question": "nope", "allowed": ["m"]},
                    {"question": "size", "allowed": ["xl"]},
                ]
            },
        ),
    )
    body = assert_problem(response, 422, "core.invalid")
    assert _fields(body) == {
        "eligibility.required_answers.0.question",
        "eligibility.required_answers.1.allowed",
    }


def test_an_edit_that_makes_the_definition_impossible_is_refused(api):
    created = api.post_json(campaigns_url(), campaign_payload()).json()
    late = (NOW + timedelta(days=5)).isoformat()
    response = api.patch_json(campaigns_url(created["id"]), {"signup_end_at": late, "title": " "})
    body = assert_problem(response, 422, "core.invalid")
    assert _fields(body) == {"signup_end_at", "title"}


def test_publish_checks_the_whole_definition_of_a_stored_draft(api):
    # given: a draft stored before these checks existed (no channels, rule on a missing question)
    campaign = CampaignFactory(
        channels=[], eligibility={"required_answers": [{"question": "q", "allowed": ["a"]}]}
    )
    # when
    response = api.post_json(campaigns_url(campaign.pk, "publish"))
    # then
    body = assert_problem(response, 422, "campaign.incomplete")
    assert body["missing"] == ["channels"]
    assert _fields(body) == {"channels", "eligibility.required_answers.0.question"}


@pytest.mark.parametrize(
    ("method", "path", "body", "unknown"),
    [
        ("patch", "{c}", {"status": "finished"}, "status"),
        ("post", "", {**campaign_payload(), "seats_taken": 5}, "seats_taken"),
        ("post", "{c}/close", {"reason": "x", "force": True}, "force"),
        ("post", "{c}/signups", {**signup_payload(1), "vip": True}, "vip"),
        ("post", "{c}/signups", signup_payload(1, member={"level": 3}), "member.level"),
    ],
)
def test_an_unknown_field_is_refused_by_name(api, open_campaign, method, path, body, unknown):
    # when
    url = campaigns_url() + ("/" + path.format(c=open_campaign.pk) if path else "")
    response = getattr(api, f"{method}_json")(url, body)
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert unknown in _fields(body)
    open_campaign.refresh_from_db()
    assert open_campaign.status == "published"


def test_patch_status_does_not_finish_a_campaign(api, open_campaign):
    response = api.patch_json(campaigns_url(open_campaign.pk), {"status": "finished"})
    assert_problem(response, 422, "core.invalid")
    assert signups_url(open_campaign.pk)  # still open for sign-up
    open_campaign.refresh_from_db()
    assert open_campaign.status == "published"
