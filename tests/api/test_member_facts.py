"""Only plausible member facts are stored (issue 8 §2): each refusal has its own code and field."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.helpers import assert_problem, signups_url
from tests.api.helpers import signup_payload as payload
from yunying.members.models import Member


@pytest.mark.parametrize(
    "birth_date",
    [
        "1800-01-01",
        "1899-12-31",
        "2030-01-01",
        pytest.param((timezone.localdate() + timedelta(days=1)).isoformat(), id="tomorrow"),
    ],
)
def test_an_implausible_birth_date_is_refused(api, open_campaign, birth_date):
    # when
    response = api.post_json(signups_url(open_campaign.pk), payload(1, member={"birth_date": birth_date}))
    # then
    body = assert_problem(response, 422, "member.birth_date_invalid")
    assert body["field"] == "birth_date"
    assert body["earliest"] == "1900-01-01"
    assert not Member.objects.exists()


@pytest.mark.parametrize("birth_date", ["1900-01-01", "1990-05-17"])
def test_a_plausible_birth_date_is_stored(api, open_campaign, birth_date):
    response = api.post_json(signups_url(open_campaign.pk), payload(1, member={"birth_date": birth_date}))
    assert response.status_code == 201, response.content
    assert Member.objects.get().birth_date.isoformat() == birth_date


def test_today_is_a_plausible_birth_date(api, open_campaign):
    today = timezone.localdate().isoformat()
    response = api.post_json(signups_url(open_campaign.pk), payload(1, member={"birth_date": today}))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("name", ["张\x00三", "李\x1b[31m四", "王\u0085五"])
def test_a_name_with_control_characters_is_refused(api, open_campaign, name):
    response = api.post_json(signups_url(open_campaign.pk), payload(1, member={"name": name}))
    body = assert_problem(response, 422, "member.name_invalid")
    assert body["field"] == "name"
