"""Landing, sign-up form, result, my sign-ups, withdraw and the attendance QR code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from tests.h5.conftest import sign_in
from yunying.campaigns.models import Signup
from yunying.campaigns.services.admission import MemberIdentity, Source, _form_fill_ms, signup_create
from yunying.core.permissions import SYSTEM

pytestmark = pytest.mark.django_db


def post_signup(client, campaign, data=None, query=""):
    return client.post(f"/m/c/{campaign.pk}/signup/{query}", data or {"size": "m"})


def detail(client, response) -> str:
    assert response.status_code == 302, response.content.decode()[-2000:]
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


# --- landing ----------------------------------------------------------------------------------------


def test_landing_shows_rules_rewards_times_and_seats(client, h5_campaign):
    h5_campaign.reward_description = "限量徽章"
    h5_campaign.save()
    page = client.get(f"/m/c/{h5_campaign.pk}/").content.decode()
    assert h5_campaign.rules_text in page and "限量徽章" in page
    assert "剩余 10 个名额" in page
    assert f'href="/m/c/{h5_campaign.pk}/signup/"' in page


def test_countdown_carries_server_time_and_opening(client):
    opens = timezone.now() + timedelta(hours=3)
    campaign = CampaignFactory(
        status="published", signup_start_at=opens, signup_end_at=opens + timedelta(days=1)
    )
    page = client.get(f"/m/c/{campaign.pk}/").content.decode()
    server_now = int(re.search(r'data-server-now="(\d+)"', page).group(1))
    target = int(re.search(r'data-target="(\d+)"', page).group(1))
    assert target == int(opens.timestamp() * 1000)
    assert abs(server_now - timezone.now().timestamp() * 1000) < 60_000
    assert "/signup/" not in page  # no sign-up before it opens


def test_full_campaign_with_waiting_list_offers_it(client):
    campaign = CampaignFactory(status="published", capacity=1, seats_taken=1, waitlist_enabled=True)
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/m/c/{campaign.pk}/").content.decode()
    assert "Full: you can join the waiting list" in page and "Join the waiting list" in page


@pytest.mark.parametrize("status", ["closed", "finished"])
def test_closed_and_finished_campaigns_are_read_only(client, status):
    campaign = CampaignFactory(status=status)
    page = client.get(f"/m/c/{campaign.pk}/").content.decode()
    assert campaign.rules_text in page and "/signup/" not in page


@pytest.mark.parametrize(
    "path", ["/m/c/{draft}/", "/m/c/999999/", "/m/c/99999999999999999999999/", "/m/nothing/here"]
)
def test_unknown_or_draft_is_a_friendly_404_page(client, path):
    draft = CampaignFactory(status="draft")
    response = client.get(path.format(draft=draft.pk))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "找不到该页面" in response.content.decode()


def test_preview_template_renders_the_body_with_an_inert_button():
    campaign = CampaignFactory(status="draft")
    request = RequestFactory().get("/console/")
    html = render_to_string(
        "h5/campaign_preview.html", {"campaign": campaign, "preview": True}, request=request
    )
    assert campaign.title in html and campaign.rules_text in html
    assert "disabled" in html and "/signup/" not in html and "/m/signout/" not in html


# --- sign-up ----------------------------------------------------------------------------------------


def test_signup_needs_a_signed_in_member(client, h5_campaign):
    response = client.get(f"/m/c/{h5_campaign.pk}/signup/")
    assert response.status_code == 302 and response["Location"].startswith("/m/signin/?next=")


def test_confirmed_through_the_pages_with_utm_and_fill_time(member_client, h5_campaign):
    # given the landing link carried UTM parameters into the form
    form = member_client.get(
        f"/m/c/{h5_campaign.pk}/signup/?utm_source=wechat&utm_campaign=dec"
    ).content.decode()
    assert 'name="utm_source" value="wechat"' in form and "data-fill-timer" in form
    # when
    response = post_signup(
        member_client,
        h5_campaign,
        {"size": "l", "note": "hi", "utm_source": "wechat", "utm_campaign": "dec", "form_fill_ms": "8421"},
    )
    page = detail(member_client, response)
    # then
    signup = Signup.objects.get()
    assert (signup.status, signup.channel, signup.utm_source, signup.utm_campaign) == (
        "confirmed",
        "h5",
        "wechat",
        "dec",
    )
    assert signup.form_fill_ms == 8421
    assert 'data-status="confirmed"' in page
    assert "<svg" in page and signup.checkin_code in page  # the attendance QR code and its text


def test_waitlisted_with_position(member_client, notify_dir):
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    for n in range(2):  # one takes the seat, one waits ahead of us
        signup_create(
            campaign_id=campaign.pk,
            identity=MemberIdentity(phone=f"+8613900000{n:03d}"),
            answers={},
            source=Source(channel="h5"),
            actor=SYSTEM,
        )
    page = detail(member_client, member_client.post(f"/m/c/{campaign.pk}/signup/", {}))
    assert 'data-status="waitlisted"' in page and 'data-position="2"' in page
    assert "<svg" not in page  # no attendance code while waiting


def test_pending_review(member_client):
    campaign = CampaignFactory(status="published", review_mode="manual")
    page = detail(member_client, member_client.post(f"/m/c/{campaign.pk}/signup/", {}))
    assert 'data-status="pending_review"' in page and "Waiting for review" in page


def test_lottery_registered(member_client):
    campaign = CampaignFactory(status="published", admission_mode="lottery")
    page = detail(member_client, member_client.post(f"/m/c/{campaign.pk}/signup/", {}))
    assert 'data-status="registered"' in page and "in the draw" in page


def test_ineligible_shows_every_reason(member_client):
    campaign = CampaignFactory(status="published", eligibility={"min_age": 30, "regions_allow": ["310000"]})
    form = member_client.get(f"/m/c/{campaign.pk}/signup/").content.decode()
    assert 'name="profile_birth_date"' in form and 'name="profile_region_code"' in form
    young = (timezone.localdate() - timedelta(days=365 * 20)).isoformat()
    response = member_client.post(
        f"/m/c/{campaign.pk}/signup/", {"profile_birth_date": young, "profile_region_code": "440300"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="signup.ineligible"' in page
    assert (
        'data-code="eligibility.too_young"' in page and 'data-code="eligibility.region_not_allowed"' in page
    )
    # spoken to the member, not about "the member"
    assert "You are younger than this campaign" in page and "not open in your region" in page
    assert "The member" not in page
    assert not Signup.objects.exists()


def test_required_answer_missing_is_shown_on_its_field(member_client, h5_campaign):
    response = post_signup(member_client, h5_campaign, {"note": "x"})
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'name="size"[^>]*aria-required="true"', page) or 'aria-invalid="true"' in page
    assert "id_size_error" in page
    assert not Signup.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"size": "m", "note": "长" * 20_000},
        {"size": "xxl"},
        {"size": ["m", "l"]},
        {"size": "m", "form_fill_ms": "-5"},
        {"size": "m", "form_fill_ms": "1" * 40},
        {"size": "m", "profile_birth_date": "1800-01-01"},
    ],
    ids=[
        "huge-answer",
        "unknown-option",
        "two-options",
        "negative-fill-time",
        "huge-fill-time",
        "birth-1800",
    ],
)
def test_bad_input_is_never_a_500(member_client, h5_campaign, data):
    response = post_signup(member_client, h5_campaign, data)
    assert response.status_code in (200, 302, 413)


def test_a_full_campaign_without_waiting_list_says_so(member_client):
    campaign = CampaignFactory(status="published", capacity=1, seats_taken=1)
    response = member_client.post(f"/m/c/{campaign.pk}/signup/", {})
    assert response.status_code == 200 and 'data-code="campaign.full"' in response.content.decode()


def test_a_closed_campaign_refuses_on_the_page(member_client):
    campaign = CampaignFactory(
        status="published",
        signup_start_at=timezone.now() - timedelta(days=2),
        signup_end_at=timezone.now() - timedelta(days=1),
    )
    response = member_client.post(f"/m/c/{campaign.pk}/signup/", {})
    assert response.status_code == 200 and 'data-code="campaign.not_open"' in response.content.decode()


def test_already_signed_up_goes_to_the_sign_up(member_client, h5_campaign):
    post_signup(member_client, h5_campaign)
    response = member_client.get(f"/m/c/{h5_campaign.pk}/signup/")
    assert response.status_code == 302 and "/m/me/s/su_" in response["Location"]
    assert Signup.objects.count() == 1


def test_as_you_type_check_uses_the_answer_rules(member_client, h5_campaign):
    bad = member_client.post(
        f"/m/c/{h5_campaign.pk}/signup/check/?field=size", {"size": "nope"}
    ).content.decode()
    good = member_client.post(
        f"/m/c/{h5_campaign.pk}/signup/check/?field=size", {"size": "m"}
    ).content.decode()
    assert 'id="check-size"' in bad and "text-danger" in bad
    assert "text-danger" not in good


def test_form_fill_time_kept_only_when_plausible():
    assert _form_fill_ms(4200) == 4200
    assert _form_fill_ms(-1) is None and _form_fill_ms(10**12) is None and _form_fill_ms(None) is None


# --- my sign-ups and withdraw -------------------------------------------------------------------------


def test_my_signups_and_withdraw_with_confirmation(member_client, h5_campaign):
    post_signup(member_client, h5_campaign)
    signup = Signup.objects.get()
    assert h5_campaign.title in member_client.get("/m/me/").content.decode()
    url = f"/m/me/s/{signup.public_id}/withdraw/"
    unconfirmed = member_client.post(url, {})
    assert unconfirmed.status_code == 200 and Signup.objects.get().status == "confirmed"
    response = member_client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    signup.refresh_from_db()
    assert signup.status == "withdrawn"
    assert signup.events.order_by("-id").first().actor_kind == "member"


def test_another_members_signup_cannot_be_seen_or_withdrawn(member_client, h5_campaign, notify_dir):
    stranger = Client()
    sign_in(stranger, notify_dir, phone="13900139000")
    post_signup(stranger, h5_campaign)
    theirs = Signup.objects.get()
    assert member_client.get(f"/m/me/s/{theirs.public_id}/").status_code == 404
    assert member_client.post(f"/m/me/s/{theirs.public_id}/withdraw/", {"confirm": "on"}).status_code == 404
    assert Signup.objects.get().status == "confirmed"


def test_my_signups_in_chinese(db, notify_dir, h5_campaign):
    client = Client()
    sign_in(client, notify_dir)
    post_signup(client, h5_campaign)
    page = client.get("/m/me/").content.decode()
    assert 'lang="zh-hans"' in page and "我的报名" in page and "已确认" in page


def test_my_signups_in_english(member_client, h5_campaign):
    post_signup(member_client, h5_campaign)
    page = member_client.get("/m/me/").content.decode()
    assert 'lang="en"' in page and "My sign-ups" in page and "Confirmed" in page


def _queries_for_me(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/m/me/").status_code == 200
    return len(captured)


def test_my_signups_queries_do_not_grow(member_client):
    def sign_up_to(n):
        for _ in range(n):
            campaign = CampaignFactory(status="published")
            post_signup(member_client, campaign, {})

    sign_up_to(1)
    one = _queries_for_me(member_client)
    sign_up_to(3)
    four = _queries_for_me(member_client)
    assert Signup.objects.count() == 4
    assert one == four


EVERY_TYPE = [
    {"key": "name", "label": "Name", "type": "text", "required": True},
    {"key": "size", "label": "Size", "type": "single_choice", "required": True,
     "options": [{"value": "m", "label": "M"}, {"value": "l", "label": "L"}]},
    {"key": "days", "label": "Days", "type": "multi_choice", "min_choices": 1,
     "options": [{"value": "sat", "label": "Sat"}, {"value": "sun", "label": "Sun"}]},
    {"key": "contact", "label": "Contact phone", "type": "phone", "required": True},
    {"key": "home", "label": "Address", "type": "address"},
    {"key": "arrive", "label": "Arrival", "type": "date"},
    {"key": "photos", "label": "Photos may be taken", "type": "consent", "required": True},
]  # fmt: skip


def test_every_question_type_renders_labelled_and_submits(member_client):
    # given
    campaign = CampaignFactory(status="published", form=EVERY_TYPE)
    page = member_client.get(f"/m/c/{campaign.pk}/signup/").content.decode()
    for name in ("name", "size", "days", "contact", "home__region", "home__detail", "arrive", "photos"):
        assert f'name="{name}"' in page
    assert re.search(r'<label[^>]*for="id_contact"', page) and re.search(
        r'<label[^>]*for="id_home__region"', page
    )
    # when: full-width digits in the phone answer
    response = post_signup(
        member_client,
        campaign,
        {"name": "张三", "size": "l", "days": ["sat", "sun"], "contact": "１３９００１３９０００",
         "home__region": "440300", "home__detail": "科技园 1 号", "arrive": "2026-12-20", "photos": "on"},
    )  # fmt: skip
    # then
    detail(member_client, response)
    from yunying.campaigns.services.admission import answers_read

    answers = answers_read(Signup.objects.get())
    assert answers["contact"] == "+8613900139000" and answers["days"] == ["sat", "sun"]
    assert answers["home"] == {"region_code": "440300", "detail": "科技园 1 号"} and answers["photos"] is True


def test_every_failing_answer_is_shown_at_once(member_client):
    campaign = CampaignFactory(status="published", form=EVERY_TYPE)
    response = post_signup(
        member_client,
        campaign,
        {"contact": "12", "home__region": "999999", "arrive": "2026-13-45", "days": ["x"]},
    )
    page = response.content.decode()
    for field in ("name", "size", "days", "contact", "home__region", "arrive", "photos"):
        assert f'id="id_{field}_error"' in page or f"id_{field}_error" in page, field
    assert not Signup.objects.exists()


def test_a_campaign_not_on_the_h5_channel_offers_no_sign_up(client):
    campaign = CampaignFactory(status="published", channels=["app"])
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/m/c/{campaign.pk}/").content.decode()
    assert "not open on these pages" in page and "/signup/" not in page
    assert campaign.title not in client.get("/m/").content.decode()


def test_an_as_you_type_check_after_the_session_ended_sends_the_whole_page_to_sign_in(client, h5_campaign):
    response = client.post(
        f"/m/c/{h5_campaign.pk}/signup/check/?field=size", {"size": "m"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/m/signin/?next=")
