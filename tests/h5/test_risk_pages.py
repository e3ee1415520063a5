"""Risk control as a member meets it on the member pages: the device cookie, a blocked sign-up with its
reasons and the human-review button, the extra verification by SMS code, SMS sends refused after a
burst on one number, and a blocked or reviewed registration at the first sign-in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.h5.conftest import consent, last_code, sign_in, sms_codes
from yunying.campaigns.models import Signup
from yunying.campaigns.services.admission import client_signal_hash
from yunying.core.permissions import SYSTEM
from yunying.core.ratelimit import ratelimit_reset
from yunying.h5.guard import DEVICE_COOKIE, registration_refused
from yunying.members.models import Member
from yunying.members.services import member_risk_ref
from yunying.notify.models import OutboxMessage
from yunying.notify.templates import template_loader
from yunying.risk.models import Case, CaseStatus, Challenge, Decision
from yunying.risk.services import case_decide, list_entry_add, rule_version_create, rule_version_set_state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("risk_enforced")]

PHONE = "13800138000"


@pytest.fixture
def zh_member(db, notify_dir, settings):
    """A member signed in on the member pages in Chinese (the default language)."""
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    client = Client()
    sign_in(client, notify_dir)
    return client


def rules_live(*rules: dict) -> None:
    """Put a rule set of only `rules` live (no thresholds reached by points alone)."""
    version = rule_version_create(
        rules={"thresholds": {"challenge": 101, "review": 101, "block": 101}, "rules": list(rules)},
        reason="test",
        based_on=None,
        actor=SYSTEM,
    )
    rule_version_set_state(number=version.number, state="live", actor=SYSTEM)


def hard(action: str, entry: str) -> dict:
    return {
        "key": f"every_{action}",
        "label": "On the block list",  # a label the catalogue translates
        "when": {"signal": "channel", "op": "==", "value": "h5"},
        "points": 0,
        "action": action,
        "entries": [entry],
    }


def block_phone(phone: str = PHONE) -> None:
    list_entry_add(kind="phone", value=phone, verdict="block", note="test", actor=SYSTEM)


def signup_post(client, campaign, **extra):
    return client.post(
        f"/m/c/{campaign.pk}/signup/", {"size": "l", "note": "hi", "form_fill_ms": "9000", **extra}
    )


def ask_url(page: str) -> str:
    return re.search(r'action="(/m/risk/\d+/review/)"', page).group(1)


# --- the device cookie ------------------------------------------------------------------------------


def test_the_device_cookie_is_set_once_reused_and_reaches_the_sign_up(zh_member, h5_campaign):
    fresh = Client()
    first = fresh.get("/m/")
    cookie = first.cookies[DEVICE_COOKIE]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", cookie.value)
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) == 2 * 365 * 24 * 3600
    assert DEVICE_COOKIE not in fresh.get("/m/").cookies  # kept, not replaced
    assert DEVICE_COOKIE not in Client().get("/console/login/").cookies  # only the member pages set it
    fresh.cookies[DEVICE_COOKIE] = "not ours"
    assert fresh.get("/m/").cookies[DEVICE_COOKIE].value != "not ours"
    assert Client().get("/m/", secure=True).cookies[DEVICE_COOKIE]["secure"]

    device = zh_member.cookies[DEVICE_COOKIE].value
    response = signup_post(zh_member, h5_campaign, form_fill_ms="8123")
    assert response.status_code == 302
    signup = Signup.objects.get(campaign=h5_campaign)
    assert signup.device_id_hash == client_signal_hash(device, kind="device_id")
    assert signup.form_fill_ms == 8123
    decision = Decision.objects.get(entry="signup.create")
    assert decision.signals["fill_ms"] == 8123 and decision.signals["device.events_1h"] == 1


def test_the_page_measures_the_form_time():
    page_js = Path("src/yunying/h5/static/h5/h5.js").read_text()
    assert "form[data-fill-timer]" in page_js and "form_fill_ms" in page_js


# --- blocked: the reasons and a human review ---------------------------------------------------------


def test_a_blocked_sign_up_explains_and_the_member_asks_for_a_review_once(zh_member, h5_campaign):
    block_phone()
    response = signup_post(zh_member, h5_campaign)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="risk.blocked"' in page
    assert "自动安全检查" in page and "在禁止名单上" in page  # the rule label, translated
    assert "申请人工复核" in page and 'name="note"' in page
    assert not Signup.objects.exists()
    url = ask_url(page)
    decision = Decision.objects.get(entry="signup.create")
    assert url == f"/m/risk/{decision.pk}/review/"

    asked = zh_member.post(url, {"note": "我是本人"}).content.decode()
    assert "已提交人工复核申请" in asked and "通知您" in asked
    case = Case.objects.get(decision=decision)
    assert case.asked_by_member and case.member_note == "我是本人" and case.status == CaseStatus.OPEN

    again = zh_member.post(url, {"note": "再问一次"}).content.decode()
    assert "您已经申请过" in again
    assert Case.objects.get(decision=decision).member_note == "我是本人"


def test_another_members_decision_is_unknown(zh_member, h5_campaign, notify_dir):
    other = Client()
    sign_in(other, notify_dir, "13900139000")
    block_phone("13900139000")
    page = signup_post(other, h5_campaign).content.decode()
    theirs = ask_url(page)

    response = zh_member.post(theirs, {"note": "not mine"})
    assert response.status_code == 404
    assert "找不到该页面" in response.content.decode()
    assert not Case.objects.exists()
    assert zh_member.post("/m/risk/999999/review/").status_code == 404
    # not signed in: to sign-in, nothing asked
    assert Client().post(theirs).status_code == 302 and not Case.objects.exists()


# --- challenge: an SMS code, then the same answers -----------------------------------------------------


def test_a_challenged_sign_up_is_admitted_after_the_sms_code(zh_member, h5_campaign, notify_dir):
    rules_live(hard("challenge", "signup.create"))
    response = signup_post(zh_member, h5_campaign)
    assert response.status_code == 302 and response["Location"] == f"/m/c/{h5_campaign.pk}/signup/verify/"
    assert not Signup.objects.exists()
    page = zh_member.get(response["Location"]).content.decode()
    assert "138****8000" in page and "size" not in page  # the answers stay on the server
    ratelimit_reset()  # a minute after the sign-in's code: the one-a-minute limit is the sign-in's own
    sent = len(sms_codes(notify_dir))
    page = zh_member.post(response["Location"], {"step": "send"}).content.decode()
    assert len(sms_codes(notify_dir)) == sent + 1 and 'name="code"' in page
    wrong = zh_member.post(response["Location"], {"step": "verify", "code": "000000"})
    assert wrong.status_code == 200 and not Signup.objects.exists()
    code = last_code(notify_dir, "+86" + PHONE)
    zh_member.post(response["Location"], {"step": "send"})  # rate-limited: a minute between codes
    done = zh_member.post(response["Location"], {"step": "verify", "code": code})
    assert done.status_code == 302 and done["Location"].startswith("/m/me/s/")
    signup = Signup.objects.get(campaign=h5_campaign)
    assert signup.status == "confirmed" and signup.form_fill_ms == 9000
    challenge = Challenge.objects.get()
    assert challenge.passed_at and challenge.used_at
    assert Decision.objects.filter(entry="signup.create").order_by("pk").last().action == "allow"
    # the pending sign-up is gone: the page sends the member back to the form
    assert zh_member.get(response["Location"])["Location"] == f"/m/c/{h5_campaign.pk}/signup/"


def test_without_the_code_the_same_sign_up_is_challenged_again(zh_member, h5_campaign):
    rules_live(hard("challenge", "signup.create"))
    assert signup_post(zh_member, h5_campaign).status_code == 302
    assert signup_post(zh_member, h5_campaign).status_code == 302
    assert not Signup.objects.exists() and Challenge.objects.filter(passed_at__isnull=True).count() == 2


# --- SMS sends -----------------------------------------------------------------------------------------


def test_sms_sends_are_refused_after_a_burst_on_one_number(db, notify_dir, settings):
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    client = Client()
    consent(client)
    pages = [
        client.post("/m/signin/", {"step": "send", "phone": "13700137000"}).content.decode() for _ in range(6)
    ]
    assert len(sms_codes(notify_dir)) == 1  # the first; the next four hit the one-a-minute limit
    assert 'data-code="core.rate_limited"' in pages[4]
    assert 'data-code="risk.sms_refused"' in pages[5]
    assert "暂时无法向这个号码发送验证码" in pages[5] and "原因：" in pages[5]  # with the explanation
    decision = Decision.objects.filter(entry="sms.send").order_by("pk").last()
    assert decision.action == "block" and decision.reasons[0]["rule"] == "phone_burst"
    assert not Case.objects.filter(decision__entry="sms.send").exists()  # nothing a person could decide
    assert decision.subject_type == "sms" and decision.member_ref == ""
    # another number from the same browser is still served
    client.post("/m/signin/", {"step": "send", "phone": "13700137001"})
    assert len(sms_codes(notify_dir)) == 2


def test_an_sms_send_risk_would_review_still_sends_the_code_and_opens_no_case(db, notify_dir, settings):
    # given rules that send every SMS to review (an outside review met one: each refused send opened a
    # case nobody could act on, and the member was told nothing)
    from yunying.core.permissions import SYSTEM
    from yunying.risk.services import rule_version_create, rule_version_set_state

    review_all = {"thresholds": {"challenge": 40, "review": 60, "block": 90}, "rules": [{"key": "t", "label": "t", "when": {"signal": "entry", "op": "==", "value": "sms.send"}, "points": 60, "entries": ["sms.send"]}]}  # fmt: skip
    version = rule_version_create(rules=review_all, reason="test", based_on=None, actor=SYSTEM)
    rule_version_set_state(number=version.number, state="live", actor=SYSTEM)
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    client = Client()
    consent(client)
    # when a member asks for a code
    client.post("/m/signin/", {"step": "send", "phone": "13700137000"})
    # then it is sent, judged as review, and no case waits in the queue
    assert len(sms_codes(notify_dir)) == 1
    decision = Decision.objects.get(entry="sms.send")
    assert decision.action == "review", (
        decision.rule_version,
        decision.reasons,
        decision.signals.get("entry"),
    )
    assert not Case.objects.exists()


# --- registration ---------------------------------------------------------------------------------------


def test_a_blocked_registration_keeps_the_member_out_and_they_may_ask(db, notify_dir, settings):
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    rules_live(hard("block", "member.register"))
    client = Client()
    consent(client)
    client.post("/m/signin/", {"step": "send", "phone": PHONE})
    response = client.post(
        "/m/signin/", {"step": "verify", "phone": PHONE, "code": last_code(notify_dir, "+86" + PHONE)}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "申请人工复核" in page and "在禁止名单上" in page
    member = Member.objects.get()
    decision = Decision.objects.get(entry="member.register")
    assert decision.member_ref == member_risk_ref(member) and decision.action == "block"
    assert client.get("/m/me/").status_code == 302  # not signed in
    asked = client.post(ask_url(page), {"note": ""}).content.decode()
    assert "已提交人工复核申请" in asked
    assert Case.objects.get(decision=decision).asked_by_member
    # later sign-ins stay refused until a person approves
    assert registration_refused(member) == decision
    case_decide(case_id=Case.objects.get().pk, approve=True, note="ok", actor=SYSTEM)
    assert registration_refused(member) is None
    # and the member is told what the review found, in their language (PIPL Art. 24)
    told = OutboxMessage.objects.get(template="risk.review_decided")
    assert told.member_id == member.pk and told.channel == "sms"
    _subject, body = template_loader(told.template)([told.context])(told.template, told.context, told.channel)
    assert "已由工作人员复核并撤销" in body


def test_a_registration_for_review_lets_the_member_in_and_queues_it(db, notify_dir, settings):
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    rules_live(hard("review", "member.register"))
    client = Client()
    sign_in(client, notify_dir)
    assert client.get("/m/me/").status_code == 200
    decision = Decision.objects.get(entry="member.register")
    assert Case.objects.get(decision=decision).status == CaseStatus.OPEN


def test_an_invited_registration_carries_the_inviters_reference(db, notify_dir, settings):
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    inviter_client = Client()
    sign_in(inviter_client, notify_dir, "13900139000")
    inviter = Member.objects.get()
    client = Client()
    client.get(f"/m/i/{inviter.invite_code}/")
    sign_in(client, notify_dir)
    decisions = Decision.objects.filter(entry="member.register").order_by("pk")
    assert decisions.count() == 2
    assert decisions[0].signals["graph.invited"] is False
    assert decisions[1].signals["graph.invited"] is True
    assert decisions[1].member_ref == member_risk_ref(Member.objects.exclude(pk=inviter.pk).get())
