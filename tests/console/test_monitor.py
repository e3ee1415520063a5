"""The live monitor: the page, its self-refreshing fragment, refusals by reason."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.campaigns.helpers import sign_up
from tests.console.campaign_data import campaign_with_signups, mobile, refuse
from yunying.campaigns.models import SignupRefusal
from yunying.campaigns.services.refusals import signup_refusal_record
from yunying.core.errors import CoreError, DomainError
from yunying.core.permissions import Role
from yunying.members.services import Profile


def page(campaign) -> str:
    return f"/console/campaigns/{campaign.pk}/monitor/"


def live(campaign) -> str:
    return f"/console/campaigns/{campaign.pk}/monitor/live/"


def test_the_monitor_polls_its_fragment_and_shows_seats_chart_and_masked_sign_ups(console_as):
    # given
    campaign = campaign_with_signups(3)
    # when
    response = console_as(Role.EXECUTION).get(page(campaign))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f'hx-get="{live(campaign)}"' in html and 'hx-trigger="every 3s"' in html
    assert 'id="seats-left">3 ' in html  # capacity 6, 3 confirmed
    assert 'data-chart="chart-per-minute"' in html and '<script id="chart-per-minute"' in html
    assert "139****0000" in html and "13900000000" not in html
    assert "王小0" not in html  # names masked too


def test_the_fragment_shows_a_new_sign_up_without_the_page(console_as):
    campaign = campaign_with_signups(1)
    client = console_as(Role.SUPPORT)
    sign_up(campaign, mobile(7))
    response = client.get(live(campaign), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # the partial only
    assert "139****0007" in html
    assert response["Cache-Control"] == "no-store"


def test_refused_attempts_are_recorded_and_shown_by_reason(console_as):
    # given: an age rule, an under-age member, a duplicate, a rate-limited request
    campaign = campaign_with_signups(1, eligibility={"min_age": 18})
    refusal = refuse(campaign, mobile(50), profile=Profile(birth_date=date(2020, 1, 1)))
    assert refusal.code == "signup.ineligible"
    refuse(campaign, mobile(0), profile=Profile(birth_date=date(1990, 1, 1)))  # already in
    signup_refusal_record(campaign_id=campaign.pk, refusal=DomainError(CoreError.RATE_LIMITED))
    # a full campaign is not an exception operators chase: not recorded
    assert not signup_refusal_record(campaign_id=campaign.pk, refusal=DomainError("campaign.full"))
    assert SignupRefusal.objects.filter(campaign_id=campaign.pk).count() == 3
    # when
    client = console_as(Role.EXECUTION)
    client.cookies["django_language"] = "en"
    html = client.get(live(campaign)).content.decode()
    # then
    assert 'id="refused-ineligible">1<' in html
    assert 'id="refused-duplicate">1<' in html
    assert 'id="refused-rate-limited">1<' in html
    assert "younger than the minimum age" in html


def test_the_real_reasons_are_recorded_even_when_the_caller_is_told_less(db):
    # given: the member is known to be under age only from stored data
    campaign = campaign_with_signups(0, eligibility={"min_age": 18})
    other = campaign_with_signups(0)
    sign_up(other, mobile(60), profile=Profile(birth_date=date(2015, 1, 1)))
    # when: the storefront signs them up without stating the birth date
    refusal = refuse(campaign, mobile(60))
    # then: the storefront learns only what its request stated; the operators' record keeps the real reason
    assert "eligibility.too_young" not in [r["code"] for r in refusal.data["reasons"]]
    assert SignupRefusal.objects.get(campaign_id=campaign.pk).reasons == "eligibility.too_young"


def test_an_api_refusal_is_recorded(api, db):
    campaign = campaign_with_signups(1)
    response = api.post_json(
        f"/api/v1/campaigns/{campaign.pk}/signups",
        {"member": {"phone": mobile(0)}, "channel": "h5"},
    )
    assert response.status_code == 409, response.json()
    row = SignupRefusal.objects.get(campaign_id=campaign.pk)
    assert (row.code, row.channel) == ("signup.duplicate", "h5")


def test_unknown_or_huge_campaign_ids_are_a_404_page(console_as):
    client = console_as(Role.EXECUTION)
    for url in ("/console/campaigns/999999/monitor/", f"/console/campaigns/{10**20}/monitor/live/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "<h1" in response.content.decode()


def test_roles_without_stats_view_get_403(console_as):
    campaign = campaign_with_signups(1)
    client = console_as(Role.AUDITOR)
    assert client.get(page(campaign)).status_code == 403
    assert client.get(live(campaign)).status_code == 403


def test_fragment_queries_do_not_grow_with_the_number_of_sign_ups(console_as, django_assert_num_queries):
    campaign = campaign_with_signups(2, capacity=50)
    client = console_as(Role.EXECUTION)
    client.get(live(campaign))
    with CaptureQueriesContext(connection) as few:
        client.get(live(campaign))
    for i in range(10, 16):
        sign_up(campaign, mobile(i))
        refuse(campaign, mobile(i))
    with django_assert_num_queries(len(few)):
        assert client.get(live(campaign)).status_code == 200


def test_an_api_refusal_with_an_idempotency_key_is_recorded_despite_the_rollback(api, db):
    # given: with a key, the work runs in a transaction the refusal rolls back
    campaign = campaign_with_signups(1)
    # when
    response = api.post_json(
        f"/api/v1/campaigns/{campaign.pk}/signups",
        {"member": {"phone": mobile(0)}, "channel": "app"},
        HTTP_IDEMPOTENCY_KEY="retry-1",
    )
    # then
    assert response.status_code == 409
    assert SignupRefusal.objects.filter(campaign_id=campaign.pk, code="signup.duplicate").count() == 1


def test_a_polling_fragment_after_sign_out_sends_the_whole_page_to_sign_in(client, db):
    campaign = campaign_with_signups(1)
    response = client.get(
        live(campaign), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{page(campaign)}"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/console/login/?next=")
    assert response.content == b""
