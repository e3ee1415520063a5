"""Member pages of issue 10: registration from a landing URL with UTM and an invite code (M1, M4), the
questions after sign-up answered once (M2), privacy & consent per purpose with one-tap withdrawal (M3,
N3), the invite link in the member centre."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.h5.conftest import consent, last_code
from tests.members.factories import MemberFactory, mobile
from yunying.core.permissions import Actor, Role
from yunying.members.consent import consent_history, consent_state, marketing_allowed
from yunying.members.models import ConsentEvent, Member
from yunying.members.profiling import QuestionSpec, questionnaire_save
from yunying.members.services import member_find

pytestmark = pytest.mark.django_db

PHONE = "13900139000"
OPERATOR = Actor(kind="user", id=7, label="运营", role=Role.EXECUTION)


@pytest.fixture(autouse=True)
def notice(settings):
    settings.PRIVACY_POLICY_VERSION = "2026-12"


def _register(client: Client, notify_dir, *, marketing: bool = False):
    consent(client, marketing=marketing)
    client.post("/m/signin/", {"step": "send", "phone": PHONE})
    return client.post(
        "/m/signin/", {"step": "verify", "phone": PHONE, "code": last_code(notify_dir, "+86" + PHONE)}
    )


def test_a_member_registered_from_a_landing_url_keeps_its_utm_and_inviter(h5_campaign, notify_dir):
    # given: someone's invite code on a campaign landing URL with UTM parameters
    inviter = MemberFactory(phone=mobile(1))
    client = Client()
    url = f"/m/c/{h5_campaign.pk}/?utm_source=wechat&utm_medium=moments&utm_campaign=spring&invite={inviter.invite_code}"
    assert client.get(url).status_code == 200
    # when: a later page with other parameters, then the first sign-in
    client.get("/m/?utm_source=douyin")
    assert _register(client, notify_dir).status_code == 302
    # then
    member = member_find(phone=PHONE)
    assert (member.source_channel, member.utm_source, member.utm_medium, member.utm_campaign) == (
        "h5", "wechat", "moments", "spring",
    )  # fmt: skip
    assert member.invited_by_id == inviter.pk


def test_an_invite_link_records_the_inviter(notify_dir):
    inviter = MemberFactory(phone=mobile(1))
    client = Client()
    response = client.get(f"/m/i/{inviter.invite_code.lower()}/")
    assert response.status_code == 302 and response["Location"] == "/m/"
    _register(client, notify_dir)
    assert member_find(phone=PHONE).invited_by_id == inviter.pk


@pytest.mark.parametrize(
    "code", ["NOSUCH22", "x", "%3Cscript%3E", "A" * 300], ids=["unknown", "short", "markup", "huge"]
)
def test_an_unknown_invite_code_is_ignored_with_no_error_to_the_member(notify_dir, code):
    client = Client()
    assert client.get(f"/m/i/{code}/").status_code == 302
    assert _register(client, notify_dir).status_code == 302
    assert member_find(phone=PHONE).invited_by_id is None


def test_a_member_opening_their_own_invite_link_stays_without_inviter(member_client):
    member = Member.objects.get()
    assert member_client.get(f"/m/i/{member.invite_code}/").status_code == 302
    member.refresh_from_db()
    assert member.invited_by_id is None


def test_the_member_centre_shows_the_invite_link(member_client):
    member = Member.objects.get()
    page = member_client.get("/m/me/").content.decode()
    assert f"/m/i/{member.invite_code}/" in page


def test_the_questions_after_sign_up_come_right_after_registration_and_are_not_asked_again(notify_dir):
    questionnaire = questionnaire_save(
        actor=OPERATOR, name="新会员", moment="after_signup", active=True,
        questions=[
            QuestionSpec(kind="choice", prompt="性别", target="gender", purpose="service", why="称呼您"),
            QuestionSpec(kind="text", prompt="喜欢的咖啡", target="attr:coffee", purpose="service", why="推荐口味"),
        ],
    )  # fmt: skip
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = _register(client, notify_dir)
    assert response.status_code == 302 and response["Location"].startswith("/m/me/questions/after_signup/")
    page = client.get(response["Location"])
    assert "推荐口味" in page.content.decode()  # each question says what it is for
    gender, coffee = questionnaire.questions.order_by("position")
    answered = client.post(
        response["Location"],
        {"action": "answer", f"q{gender.pk}": "female", f"q{coffee.pk}": "拿铁", "next": "/m/me/"},
    )
    assert answered.status_code == 302 and answered["Location"] == "/m/me/"
    assert member_find(phone=PHONE).gender == "female"
    # Not asked again: the page moves on, and the member centre shows no card.
    assert client.get("/m/me/questions/after_signup/").status_code == 302
    assert "h5-profile-card" not in client.get("/m/me/").content.decode()


def test_skipping_declines_the_questions_for_good(member_client):
    questionnaire_save(
        actor=OPERATOR, name="会员中心", moment="member_centre", active=True,
        questions=[QuestionSpec(kind="text", prompt="职业", target="attr:job", purpose="service", why="活动推荐")],
    )  # fmt: skip
    assert "h5-profile-card" in member_client.get("/m/me/").content.decode()
    assert member_client.post("/m/me/questions/member_centre/", {"action": "skip"}).status_code == 302
    assert "h5-profile-card" not in member_client.get("/m/me/").content.decode()


def test_an_invalid_answer_is_shown_on_its_field(member_client):
    questionnaire = questionnaire_save(
        actor=OPERATOR, name="会员中心", moment="member_centre", active=True,
        questions=[QuestionSpec(kind="date", prompt="纪念日", target="attr:day", purpose="service", why="送祝福")],
    )  # fmt: skip
    question = questionnaire.questions.get()
    page = member_client.post(
        "/m/me/questions/member_centre/", {"action": "answer", f"q{question.pk}": "soon"}
    )
    assert page.status_code == 200 and "is-invalid" in page.content.decode()


def test_an_unknown_moment_is_the_friendly_not_found(member_client):
    assert member_client.get("/m/me/questions/whenever/").status_code == 404


def test_withdrawing_marketing_is_one_tap_and_effective_at_once(notify_dir):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    _register(client, notify_dir, marketing=True)
    member = member_find(phone=PHONE)
    assert marketing_allowed({member.pk}) == {member.pk}
    page = client.get("/m/me/privacy/").content.decode()
    assert 'data-purpose="marketing" data-granted="1"' in page
    # when: one tap
    response = client.post("/m/me/privacy/", {"purpose": "marketing", "granted": "0"})
    # then
    assert response.status_code == 302
    assert marketing_allowed({member.pk}) == set()
    page = client.get("/m/me/privacy/").content.decode()
    assert 'data-purpose="marketing" data-granted="0"' in page
    assert next((e.purpose, e.granted, e.channel) for e in consent_history(member)) == (
        "marketing",
        False,
        "h5",
    )
    # and granting again is the same one tap
    client.post("/m/me/privacy/", {"purpose": "marketing", "granted": "1"})
    assert consent_state(member)["marketing"] is True


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"purpose": "service", "granted": "0"}, "consent.purpose_required"),
        ({"purpose": "resale", "granted": "1"}, "consent.purpose_unknown"),
    ],
    ids=["service", "unknown"],
)
def test_refused_changes_show_their_code_and_record_nothing(member_client, data, code):
    """New-user review: a refusal answered 200, as if the change had been taken."""
    before = ConsentEvent.objects.count()
    page = member_client.post("/m/me/privacy/", data)
    assert page.status_code == 400 and f'data-code="{code}"' in page.content.decode()
    assert ConsentEvent.objects.count() == before


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"purpose": "x" * 50, "granted": "1"}, "consent.purpose_unknown"),
        ({"purpose": "marketing", "granted": "2"}, "core.invalid"),
    ],
    ids=["long-purpose", "bad-granted"],
)
def test_a_malformed_change_is_refused_with_400(member_client, data, code):
    page = member_client.post("/m/me/privacy/", data)
    assert page.status_code == 400 and f'data-code="{code}"' in page.content.decode()


def test_withdrawing_the_service_points_to_the_self_service_deletion(member_client):
    """New-user review: the message said to contact us, though 我的数据 deletes the account itself."""
    page = member_client.post(
        "/m/me/privacy/", {"purpose": "service", "granted": "0"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert 'href="/m/me/data/delete/"' in page and "我的数据" in page and "请联系我们" not in page


def test_the_consent_page_needs_a_signed_in_member():
    response = Client().get("/m/me/privacy/")
    assert response.status_code == 302 and response["Location"].startswith("/m/signin/")


def test_analytics_can_be_chosen_on_the_notice(notify_dir):
    client = Client()
    client.post("/m/privacy/", {"version": "2026-12", "accept": "on", "analytics": "on"})
    client.post("/m/signin/", {"step": "send", "phone": PHONE})
    client.post(
        "/m/signin/", {"step": "verify", "phone": PHONE, "code": last_code(notify_dir, "+86" + PHONE)}
    )
    assert consent_state(member_find(phone=PHONE))["analytics"] is True


def test_the_after_first_order_questions_appear_once_the_member_has_an_order(member_client):
    from django.utils import timezone

    from yunying.commerce.models import Order

    questionnaire_save(
        actor=OPERATOR, name="首单后", moment="after_first_order", active=True,
        questions=[QuestionSpec(kind="text", prompt="用得怎么样？", target="attr:feedback", purpose="service", why="改进商品")],
    )  # fmt: skip
    assert "h5-profile-card" not in member_client.get("/m/me/").content.decode()
    # The order fact as the storefront's ingest records it (commerce is not this test's subject).
    Order.objects.create(
        external_id="shop-1",
        member=Member.objects.get(),
        paid_at=timezone.now(),
        total_fen=9900,
        fingerprint="x",
    )
    page = member_client.get("/m/me/").content.decode()
    assert 'data-moment="after_first_order"' in page


def test_a_member_can_withdraw_even_before_accepting_a_new_notice(notify_dir, settings):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    _register(client, notify_dir, marketing=True)
    member = member_find(phone=PHONE)
    settings.PRIVACY_POLICY_VERSION = "2027-01"
    assert client.get("/m/me/privacy/").status_code == 200
    client.post("/m/me/privacy/", {"purpose": "marketing", "granted": "0"})
    assert marketing_allowed({member.pk}) == set()
    page = client.post("/m/me/privacy/", {"purpose": "marketing", "granted": "1"}).content.decode()
    assert 'data-code="consent.notice_not_accepted"' in page
