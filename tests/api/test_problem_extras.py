"""Problem+json extras that share a name with an RFC 9457 member (a sign-up's `status`) must neither
crash the error handler (it was a 500 in HTML) nor overwrite the HTTP status."""

from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile


def test_withdrawing_twice_is_a_409_problem_with_the_current_status(api, open_campaign):
    # given
    signup = sign_up(open_campaign, mobile(1))
    url = f"/api/v1/campaigns/{open_campaign.pk}/signups/{signup.pk}/withdraw"
    api.post_json(url, {"reason": "行程冲突"})
    # when
    response = api.post_json(url, {"reason": "行程冲突"})
    # then
    body = response.json()
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert body["code"] == "signup.invalid_transition"
    assert body["status"] == 409
    assert body["current_status"] == "withdrawn"
    assert body["to"] == "withdrawn"


def test_publishing_a_published_campaign_is_a_409_problem(api, open_campaign):
    # when
    response = api.post_json(f"/api/v1/campaigns/{open_campaign.pk}/publish")
    # then
    body = response.json()
    assert response.status_code == 409
    assert (body["code"], body["status"], body["current_status"]) == (
        "campaign.invalid_transition",
        409,
        "published",
    )
