"""Sign-in pages: the privacy notice first, then phone and SMS code; refusals on the page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.h5.conftest import consent, last_code, sign_in
from yunying.members.models import ConsentRecord, Member

pytestmark = pytest.mark.django_db


def test_sign_in_asks_for_consent_before_anything(client):
    response = client.get("/m/signin/?next=/m/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/m/privacy/?next=")


def test_the_optional_boxes_are_separate_and_unticked(client):
    page = client.get("/m/privacy/").content.decode()
    for name in ("accept", "marketing", "sensitive"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'type="checkbox"' in tag and "checked" not in tag
    assert "收集" in page  # the notice's text, in Chinese by default


def test_not_agreeing_collects_nothing(client):
    response = client.post("/m/privacy/", {"version": "2026-12"})
    assert response.status_code == 200
    assert "Tick this box" in response.content.decode() or "勾选" in response.content.decode()
    assert client.get("/m/signin/").status_code == 302  # still sent to the notice


def test_sign_in_with_the_code_from_the_sms_file(client, notify_dir):
    # given the notice accepted with marketing, not sensitive
    consent(client, marketing=True)
    before = client.session.session_key
    # when
    page = client.post("/m/signin/", {"step": "send", "phone": "13800138000"}).content.decode()
    assert "138****8000" in page
    code = last_code(notify_dir, "+8613800138000")
    response = client.post(
        "/m/signin/", {"step": "verify", "phone": "13800138000", "code": code, "next": "/m/me/"}
    )
    # then
    assert response.status_code == 302 and response["Location"] == "/m/me/"
    member = Member.objects.get()
    assert client.session["h5_member"] == member.pk
    assert client.session.session_key != before  # rotated at sign-in
    record = ConsentRecord.objects.get(member=member)
    assert (record.policy_version, record.marketing, record.sensitive) == ("2026-12", True, False)


def test_a_wrong_code_is_told_with_the_tries_left(client, notify_dir):
    consent(client)
    client.post("/m/signin/", {"step": "send", "phone": "13800138000"})
    code = last_code(notify_dir, "+8613800138000")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(
        "/m/signin/", {"step": "verify", "phone": "13800138000", "code": wrong}, HTTP_ACCEPT_LANGUAGE="en"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-code-code="signin.code_wrong"' in page
    assert "The code is not right" in page and "4 tries left" in page
    assert "h5_member" not in client.session


def test_a_second_send_within_a_minute_is_refused_politely(client, notify_dir):
    consent(client)
    client.post("/m/signin/", {"step": "send", "phone": "13800138000"})
    response = client.post("/m/signin/", {"step": "send", "phone": "13800138000"}, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="core.rate_limited"' in page and "Try again in" in page


@pytest.mark.parametrize(
    "phone",
    ["", "abc", "1" * 40, "０１０８８８８６６６６", "＋８６１３８００１３８０００" + "9" * 20],
    ids=["blank", "letters", "long", "landline", "junk"],
)
def test_bad_phones_are_field_errors_not_500(client, notify_dir, phone):
    consent(client)
    response = client.post("/m/signin/", {"step": "send", "phone": phone})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()


def test_full_width_phone_signs_in(client, notify_dir):
    sign_in(client, notify_dir, phone="１３８００１３８０００", e164="+8613800138000")
    assert "h5_member" in client.session


@pytest.mark.parametrize(
    "code", ["", "x" * 5000, "12 34", "１２３"], ids=["blank", "huge", "short", "fullwidth-short"]
)
def test_bad_codes_are_refused_on_the_page(client, notify_dir, code):
    consent(client)
    client.post("/m/signin/", {"step": "send", "phone": "13800138000"})
    response = client.post("/m/signin/", {"step": "verify", "phone": "13800138000", "code": code})
    assert response.status_code == 200
    assert "h5_member" not in client.session


def test_sign_out_forgets_the_member_only(member_client):
    assert member_client.get("/m/me/").status_code == 200
    response = member_client.post("/m/signout/")
    assert response.status_code == 302
    assert member_client.get("/m/me/").status_code == 302


def test_next_cannot_leave_the_member_pages(client, notify_dir):
    consent(client)
    client.post("/m/signin/", {"step": "send", "phone": "13800138000"})
    code = last_code(notify_dir, "+8613800138000")
    response = client.post(
        "/m/signin/",
        {"step": "verify", "phone": "13800138000", "code": code, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/m/me/"


def test_a_new_policy_version_asks_a_signed_in_member_again(member_client, settings, h5_campaign):
    settings.PRIVACY_POLICY_VERSION = "2027-01"
    response = member_client.get(f"/m/c/{h5_campaign.pk}/signup/")
    assert response.status_code == 302 and response["Location"].startswith("/m/privacy/")
    page = member_client.get(response["Location"]).content.decode()
    assert "has changed" in page
    # the new version's text falls back to nothing rather than failing; accepting records it
    response = member_client.post(
        "/m/privacy/", {"version": "2027-01", "accept": "on", "next": f"/m/c/{h5_campaign.pk}/signup/"}
    )
    assert response.status_code == 302
    assert member_client.get(f"/m/c/{h5_campaign.pk}/signup/").status_code == 200
    assert list(ConsentRecord.objects.values_list("policy_version", flat=True).order_by("id")) == [
        "2026-12",
        "2027-01",
    ]


def test_an_old_form_posting_a_stale_version_is_asked_again(member_client, settings):
    settings.PRIVACY_POLICY_VERSION = "2027-01"
    response = member_client.post("/m/privacy/", {"version": "2026-12", "accept": "on"})
    assert response.status_code == 200
    assert "has changed" in response.content.decode()
    assert ConsentRecord.objects.count() == 1


def test_pages_in_chinese_by_default_and_english_on_request(db):
    chinese = Client().get("/m/privacy/").content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/m/privacy/").content.decode()
    assert 'lang="zh-hans"' in chinese and "隐私" in chinese
    assert 'lang="en"' in english and "Privacy notice" in english and "What we collect" in english


def test_signing_in_on_a_new_device_withdraws_nothing_the_member_granted(client, notify_dir):
    """The consent page before sign-in cannot show what the member agreed to: its unticked boxes
    must not read as a withdrawal they never made (outside review)."""
    from yunying.members.consent import consent_history, consent_state

    # given a member who agreed to marketing on their phone
    consent(client, marketing=True)
    sign_in_again = Client()
    client.post("/m/signin/", {"step": "send", "phone": "13800138000"})
    code = last_code(notify_dir, "+8613800138000")
    client.post("/m/signin/", {"step": "verify", "phone": "13800138000", "code": code})
    member = Member.objects.get()
    # when they sign in on a new device, leaving the optional boxes unticked
    from yunying.core.ratelimit import ratelimit_release
    from yunying.members.signin import PHONE_LIMITS, _phone_key

    for window, _limit in PHONE_LIMITS:  # a minute later: one code a minute per phone
        ratelimit_release(
            scope=f"signin_phone_{window}", key=_phone_key("+8613800138000"), window_seconds=window
        )
    sign_in(sign_in_again, notify_dir)
    # then
    assert consent_state(member)["marketing"] is True
    assert not [e for e in consent_history(member) if e.purpose == "marketing" and not e.granted]
