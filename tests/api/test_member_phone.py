"""A member's own phone receives SMS, so it must be a mobile number (issue 8 §2)."""

import pytest

from tests.api.helpers import assert_problem, signups_url
from yunying.members.models import Member


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param("010-62345678", id="beijing-landline"),
        pytest.param("+862088886666", id="guangzhou-landline"),
        pytest.param("4008123123", id="400-line"),
        pytest.param("8008108888", id="800-line"),
    ],
)
def test_a_landline_or_service_number_is_not_a_member_phone(api, open_campaign, phone):
    # when
    response = api.post_json(signups_url(open_campaign.pk), {"member": {"phone": phone}, "channel": "h5"})
    # then
    body = assert_problem(response, 422, "member.phone_not_mobile")
    assert body["field"] == "phone"
    assert not Member.objects.exists()


@pytest.mark.parametrize("phone", ["13800138000", "+86 199 1234 5678", "+447911123456"])
def test_a_mobile_number_is_accepted(api, open_campaign, phone):
    response = api.post_json(signups_url(open_campaign.pk), {"member": {"phone": phone}, "channel": "h5"})
    assert response.status_code == 201, response.content
