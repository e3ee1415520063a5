"""The sign-up list: filters, pages, masked data, and reveal one member at a time with a purpose."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.campaigns.helpers import sign_up
from tests.console.campaign_data import campaign_with_signups, mobile
from yunying.campaigns.models import Signup
from yunying.core.models import AuditEntry, PersonalDataAccess
from yunying.core.permissions import Role


def url(campaign) -> str:
    return f"/console/campaigns/{campaign.pk}/signups/"


def reveal_url(campaign, signup) -> str:
    return f"/console/campaigns/{campaign.pk}/signups/{signup.pk}/reveal/"


def test_the_list_is_masked_paginated_and_labelled(console_as):
    # given
    campaign = campaign_with_signups(3)
    # when
    response = console_as(Role.EXECUTION).get(url(campaign))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("139****00") == 3 and "13900000001" not in html
    assert "王小1" not in html
    assert "已确认" in html and "上海市" in html  # status and region as words, not codes
    assert "/reveal/" not in html  # execution may not reveal: no button


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"channel": "h5"}, 1),
        ({"phone": mobile(2)}, 1),
        ({"phone": "13911112222"}, 0),
        ({"status": "waitlisted"}, 0),
        ({"date_from": "2000-01-01", "date_to": "2100-01-01"}, 3),
    ],
    ids=["channel", "phone-known", "phone-unknown", "status", "dates"],
)
def test_filters(console_as, query, expected):
    campaign = campaign_with_signups(3)
    html = console_as(Role.SUPPORT).get(url(campaign), query).content.decode()
    assert html.count("139****00") == expected


@pytest.mark.parametrize(
    "query",
    [
        {"status": "nonsense"},
        {"date_from": "1800-01-01"},
        {"date_to": "not-a-date"},
        {"phone": "12"},
        {"phone": "9" * 40},
        {"page": str(10**20)},
        {"page": "abc"},
    ],
    ids=["status", "date-1800", "date-garbage", "phone-invalid", "phone-long", "page-huge", "page-text"],
)
def test_bad_filters_are_a_clear_message_not_a_500(console_as, query):
    campaign = campaign_with_signups(2)
    response = console_as(Role.STRATEGY).get(url(campaign), query)
    assert response.status_code == 200
    if "page" not in query:
        assert "invalid-feedback" in response.content.decode()


def test_pages_past_the_end_show_the_last_page(console_as):
    campaign = campaign_with_signups(3)
    response = console_as(Role.EXECUTION).get(url(campaign), {"page": str(10**20)})
    assert response.content.decode().count("139****00") == 3


def test_support_reveals_one_member_with_a_purpose_and_one_access_row(console_as):
    # given
    campaign = campaign_with_signups(2)
    signup = Signup.objects.filter(campaign=campaign).order_by("id").first()
    client = console_as(Role.SUPPORT)
    assert "/reveal/" in client.get(url(campaign)).content.decode()
    form = client.get(reveal_url(campaign, signup))
    assert form.status_code == 200 and "139****0000" in form.content.decode()
    assert "张三的尺码 M" not in form.content.decode()  # free-text answers masked until revealed
    assert not PersonalDataAccess.objects.exists()  # showing the form reveals nothing
    # when
    response = client.post(reveal_url(campaign, signup), {"purpose": "customer_service", "note": "工单 42"})
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "13900000000" in html and "王小0" in html
    assert "尺码" in html and "张三的尺码 M" in html  # answers under their question, in clear
    access = PersonalDataAccess.objects.get()
    assert access.member_id == signup.member_id
    assert access.purpose == "customer_service: 工单 42"
    assert AuditEntry.objects.filter(action="pii.reveal").count() == 1
    assert "no-store" in response["Cache-Control"]
    # and the list is masked again: nothing was kept
    assert "13900000000" not in client.get(url(campaign)).content.decode()


def test_reveal_without_a_purpose_is_a_form_error(console_as):
    campaign = campaign_with_signups(1)
    signup = Signup.objects.get(campaign=campaign)
    response = console_as(Role.STRATEGY).post(reveal_url(campaign, signup), {"purpose": ""})
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    assert "13900000000" not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.AUDITOR])
def test_roles_without_pii_reveal_get_403_and_no_access_row(console_as, role):
    campaign = campaign_with_signups(1)
    signup = Signup.objects.get(campaign=campaign)
    response = console_as(role).post(reveal_url(campaign, signup), {"purpose": "customer_service"})
    assert response.status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_an_auditor_may_not_list_sign_ups(console_as):
    assert console_as(Role.AUDITOR).get(url(campaign_with_signups(1))).status_code == 403


def test_unknown_campaign_or_sign_up_is_a_404_page(console_as):
    campaign = campaign_with_signups(1)
    client = console_as(Role.SUPPORT)
    assert client.get("/console/campaigns/987654/signups/").status_code == 404
    assert client.get(f"/console/campaigns/{campaign.pk}/signups/{10**20}/reveal/").status_code == 404
    other = campaign_with_signups(1)
    foreign = Signup.objects.get(campaign=other)
    assert client.get(reveal_url(campaign, foreign)).status_code == 404


def test_list_queries_do_not_grow_with_the_number_of_sign_ups(console_as, django_assert_num_queries):
    campaign = campaign_with_signups(2, capacity=50)
    client = console_as(Role.SUPPORT)
    client.get(url(campaign))
    with CaptureQueriesContext(connection) as few:
        client.get(url(campaign))
    for i in range(10, 16):
        sign_up(campaign, mobile(i))
    with django_assert_num_queries(len(few)):
        assert client.get(url(campaign)).content.decode().count("139****00") == 8


def test_the_phone_filter_is_a_limited_audited_look_up(console_as, settings):
    """The sign-up list's phone filter answered "is this number signed up" to execution, unlimited and
    unrecorded: the attacker review turned 137****2000 back into the number in 10,000 requests."""
    from yunying.core.models import AuditEntry

    campaign = campaign_with_signups(2)
    # execution may not search by phone at all: the filter is not offered and is ignored
    page = console_as(Role.EXECUTION).get(url(campaign), {"phone": "13800000000"}).content.decode()
    assert 'name="phone"' not in page and not AuditEntry.objects.filter(action="member.lookup").exists()
    # support may, counted and audited
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "member_lookup_hour": 2}
    support = console_as(Role.SUPPORT)
    for n in range(2):
        assert support.get(url(campaign), {"phone": f"1390000000{n}"}).status_code == 200
    assert AuditEntry.objects.filter(action="member.lookup").count() == 2
    limited = support.get(url(campaign), {"phone": "13900000009"}).content.decode()
    assert "invalid-feedback" in limited and AuditEntry.objects.filter(action="member.lookup").count() == 2
