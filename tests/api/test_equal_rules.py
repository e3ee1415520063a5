"""Equal data is equal (issue 8 §2): eligibility lists are sets when deciding whether a published
campaign's rules changed."""

import pytest

from tests.api.helpers import assert_problem, campaign_payload, campaigns_url

RULES = {
    "genders": ["female", "male"],
    "regions_allow": ["440000", "310000"],
    "regions_deny": ["440300", "310100"],
    "required_answers": [
        {"question": "size", "allowed": ["m", "l"]},
        {"question": "ok", "allowed": ["true"]},
    ],
}
FORM = [
    {"key": "size", "label": "尺码", "type": "single_choice",
     "options": [{"value": "m", "label": "M"}, {"value": "l", "label": "L"}]},
    {"key": "ok", "label": "同意", "type": "consent"},
]  # fmt: skip


def _published(api) -> int:
    created = api.post_json(campaigns_url(), campaign_payload(eligibility=RULES, form=FORM)).json()
    published = api.post_json(campaigns_url(created["id"], "publish"))
    assert published.status_code == 200, published.content
    return created["id"]


@pytest.mark.parametrize(
    "same",
    [
        pytest.param({**RULES, "genders": ["male", "female"]}, id="genders-reordered"),
        pytest.param(
            {**RULES, "regions_allow": ["310000", "440000", "310000"]}, id="regions-reordered-repeated"
        ),
        pytest.param({**RULES, "regions_deny": ["310100", "440300"]}, id="deny-reordered"),
        pytest.param({**RULES, "required_answers": RULES["required_answers"][::-1]}, id="required-reordered"),
        pytest.param(
            {
                **RULES,
                "required_answers": [
                    {"question": "size", "allowed": ["l", "m"]},
                    RULES["required_answers"][1],
                ],
            },
            id="allowed-reordered",
        ),
    ],
)
def test_the_same_rules_in_another_order_are_no_change(api, same):
    # given
    campaign_id = _published(api)
    # when
    response = api.patch_json(campaigns_url(campaign_id), {"title": "新标题", "eligibility": same})
    # then
    assert response.status_code == 200, response.content


def test_a_different_set_is_still_a_change(api):
    campaign_id = _published(api)
    response = api.patch_json(
        campaigns_url(campaign_id), {"eligibility": {**RULES, "regions_allow": ["440000"]}}
    )
    body = assert_problem(response, 409, "campaign.rules_locked")
    assert body["fields"] == ["eligibility"]
