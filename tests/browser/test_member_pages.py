"""The member pages on a phone (375×812): landing with its rules, the privacy notice first, sign-in with
the code the development SMS channel wrote, the sign-up form, the result; a second member refused as
ineligible with the reason shown; my sign-ups with the attendance QR code; English."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER

CREATE = """
from datetime import timedelta
from django.utils import timezone
from yunying.campaigns.services.lifecycle import campaign_create, campaign_publish
from yunying.core.permissions import SYSTEM
now = timezone.now()
c = campaign_create(actor=SYSTEM, values=dict(
    title="手机报名测试", theme="浏览器测试", type="offline_event", rules_text="每位会员限报名一次。",
    reward_description="纪念徽章", signup_start_at=now - timedelta(minutes=1), signup_end_at=now + timedelta(days=3),
    event_start_at=now + timedelta(days=5), event_end_at=now + timedelta(days=5, hours=2), capacity=50,
    channels=["h5"], eligibility={"min_age": 18},
    form=[{"key": "size", "label": "T恤尺码", "type": "single_choice", "required": True,
           "options": [{"value": "m", "label": "M"}, {"value": "l", "label": "L"}]}]))
campaign_publish(campaign_id=c.pk, actor=SYSTEM)
print(c.pk)
"""


@pytest.fixture(scope="module")
def campaign_id(site) -> int:
    """A published campaign open on the h5 channel, with one question and an age rule (18+)."""
    return int(site.run("shell", "-v0", "-c", CREATE).strip().splitlines()[-1])


def sms_code(site, e164: str) -> str:
    """The code the development SMS channel wrote to var/outbox/sms.jsonl (docs/member-pages.md)."""
    path = site.var_dir / "outbox" / "sms.jsonl"
    for _ in range(50):
        if path.exists():
            for line in reversed(path.read_text().splitlines()):
                message = json.loads(line)
                if message["address"] == e164:
                    return re.search(r"\d{6}", message["body"]).group(0)
        time.sleep(0.1)
    raise AssertionError(f"no SMS to {e164}")


def consent_and_sign_in(page, site, phone: str, *, shots: str = "") -> None:
    page.wait_for_url(re.compile("/m/privacy/"))
    if shots:
        check_page(page, f"{shots}-privacy")
    for box in ("marketing", "sensitive"):
        assert not page.locator(f"input[name={box}]").is_checked()  # separate, unticked (M3)
    page.get_by_label(re.compile("我已阅读|I have read")).check()
    page.get_by_role("button", name=re.compile("同意并继续|Agree and continue")).click()
    page.wait_for_url(re.compile("/m/signin/"))
    if shots:
        check_page(page, f"{shots}-signin")
    page.get_by_label(re.compile("手机号|Mobile phone")).fill(phone)
    page.get_by_role("button", name=re.compile("获取验证码|Send me a code")).click()
    page.get_by_label(re.compile("验证码|code from the SMS")).wait_for()
    if shots:
        check_page(page, f"{shots}-code")
    page.get_by_label(re.compile("验证码|code from the SMS")).fill(sms_code(site, "+86" + phone))
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
    page.wait_for_load_state()


def test_a_member_signs_in_with_the_code_consents_signs_up_and_sees_the_result(phone, site, campaign_id):
    # the landing: rules before sign-up (C12)
    phone.goto(f"/m/c/{campaign_id}/?utm_source=wechat")
    assert phone.get_by_role("heading", level=1).inner_text() == "手机报名测试"
    assert phone.get_by_text("每位会员限报名一次。").is_visible()
    check_page(phone, "h5-landing")
    phone.get_by_role("link", name="立即报名").click()
    consent_and_sign_in(phone, site, "13745137001", shots="h5")
    # the form
    phone.wait_for_url(re.compile(f"/m/c/{campaign_id}/signup/"))
    check_page(phone, "h5-signup-form")
    phone.get_by_label(re.compile("出生日期")).fill("1990-05-01")
    phone.get_by_label("L", exact=True).check()
    phone.get_by_role("button", name="提交").click()
    # the result
    phone.wait_for_url(re.compile("/m/me/s/su_"))
    assert phone.locator("[data-status]").get_attribute("data-status") == "confirmed"
    assert phone.get_by_role("img", name="签到二维码").is_visible()
    check_page(phone, "h5-signup-confirmed")
    phone.goto("/m/me/")
    assert phone.get_by_text("手机报名测试").is_visible()
    check_page(phone, "h5-my-signups")


def test_a_second_member_is_refused_as_ineligible_with_the_reason(new_phone, site, campaign_id):
    page = new_phone()
    page.goto(f"/m/c/{campaign_id}/signup/")
    consent_and_sign_in(page, site, "13735137002")
    page.wait_for_url(re.compile(f"/m/c/{campaign_id}/signup/"))
    page.get_by_label(re.compile("出生日期")).fill("2015-01-01")
    page.get_by_label("M", exact=True).check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    alert = page.locator('[data-code="signup.ineligible"]')
    assert alert.is_visible()
    assert alert.locator('[data-code="eligibility.too_young"]').count() == 1
    check_page(page, "h5-signup-ineligible")


def test_the_member_pages_in_english(new_phone, site, campaign_id):
    page = new_phone(locale="en-US")
    page.goto(f"/m/c/{campaign_id}/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Rules").is_visible()
    check_page(page, "h5-landing-english")


def test_an_unknown_campaign_is_a_friendly_page(phone):
    response = phone.goto("/m/c/999999/")
    assert response.status == 404
    assert phone.get_by_role("heading", level=1).is_visible()


OPENING_SOON = """
from datetime import timedelta
from django.utils import timezone
from yunying.campaigns.services.lifecycle import campaign_create, campaign_publish
from yunying.core.permissions import SYSTEM
now = timezone.now()
c = campaign_create(actor=SYSTEM, values=dict(
    title="即将开放", type="promotion", rules_text="先到先得。", signup_start_at=now + timedelta(seconds=8),
    signup_end_at=now + timedelta(days=1), event_start_at=now + timedelta(days=2),
    event_end_at=now + timedelta(days=2, hours=1), capacity=5, channels=["h5"]))
campaign_publish(campaign_id=c.pk, actor=SYSTEM)
print(c.pk)
"""


def test_the_countdown_runs_on_server_time_and_opens_the_sign_up(phone, site):
    campaign = int(site.run("shell", "-v0", "-c", OPENING_SOON).strip().splitlines()[-1])
    # a phone whose clock is an hour fast still counts to the server's opening
    phone.add_init_script("(() => { const real = Date.now; Date.now = () => real() + 3600 * 1000; })()")
    phone.goto(f"/m/c/{campaign}/")
    countdown = phone.locator("[data-countdown-text]")
    assert re.fullmatch(r"00:00:0\d", countdown.inner_text()), countdown.inner_text()
    check_page(phone, "h5-landing-countdown")
    # when it reaches zero the page reloads into the open campaign
    phone.get_by_role("link", name="立即报名").wait_for(timeout=20_000)
    assert phone.locator("[data-countdown]").count() == 0


def test_withdraw_asks_for_confirmation(new_phone, site, campaign_id):
    page = new_phone()
    page.goto(f"/m/c/{campaign_id}/signup/")
    consent_and_sign_in(page, site, "13740137003")
    page.wait_for_url(re.compile(f"/m/c/{campaign_id}/signup/"))
    page.get_by_label(re.compile("出生日期")).fill("1985-03-03")
    page.get_by_label("M", exact=True).check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile("/m/me/s/su_"))
    page.get_by_role("link", name="取消我的报名").click()
    check_page(page, "h5-withdraw-confirm")
    page.get_by_role("button", name="取消报名").click()
    assert page.locator("[role=alert]").first.is_visible()  # the box was not ticked: nothing done
    page.get_by_label(re.compile("是的，取消我的报名")).check()
    page.get_by_role("button", name="取消报名").click()
    page.wait_for_url(re.compile("/m/me/s/su_[^/]+/$"))
    assert page.locator("[data-status]").get_attribute("data-status") == "withdrawn"
    check_page(page, "h5-withdrawn")
