"""Issue 10's member pages on a phone (375×812): registering from a landing URL with UTM parameters and
an invite code (the operator sees where the member came from); withdrawing marketing consent in the
member centre with one tap; an operator's questionnaire answered after sign-up and not asked again.

The questionnaire test runs last and pauses its questionnaire at the end: the server's database is
shared with the other browser modules, whose new members must not meet it."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import CREATE, consent_and_sign_in

pytestmark = BROWSER

INVITER, INVITEE, WITHDRAWER, ANSWERER = "13650136001", "13655136002", "13660136003", "13665136004"


@pytest.fixture(scope="module")
def campaign_id(site) -> int:
    return int(
        site.run("shell", "-v0", "-c", CREATE.replace("手机报名测试", "会员注册测试"))
        .strip()
        .splitlines()[-1]
    )


def _skip_questions_if_asked(page) -> None:
    if "/m/me/questions/" in page.url:
        page.get_by_role("button", name=re.compile("跳过这些问题|Skip these questions")).click()
        page.wait_for_load_state()


def test_a_member_registers_from_a_landing_url_with_utm_and_an_invite_code(
    new_phone, console, site, campaign_id
):
    # given: a member and their invite code, read in their member centre
    inviter = new_phone()
    inviter.goto("/m/me/")
    page_to_privacy = inviter.url
    assert "/m/signin/" in page_to_privacy or "/m/privacy/" in page_to_privacy
    consent_and_sign_in(inviter, site, INVITER)
    _skip_questions_if_asked(inviter)
    inviter.wait_for_url(re.compile("/m/me/"))
    code = inviter.locator(".h5-invite-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{8}", code)
    assert f"/m/i/{code}/" in inviter.locator(".h5-invite-link").input_value()
    check_page(inviter, "h5-member-centre-invite")
    # when: a friend opens a campaign's landing URL with UTM parameters and the code, and signs up
    friend = new_phone()
    friend.goto(f"/m/c/{campaign_id}/?utm_source=wechat&utm_medium=moments&utm_campaign=spring&invite={code}")
    friend.get_by_role("link", name="立即报名").click()
    consent_and_sign_in(friend, site, INVITEE)
    _skip_questions_if_asked(friend)
    friend.wait_for_url(re.compile(f"/m/c/{campaign_id}/signup/"))
    # then: the operator sees where the new member came from
    operator = console("support")
    operator.goto("/console/members/")
    operator.locator("input[name=phone]").fill(INVITEE)
    operator.locator("form[action$='/members/'] button[type=submit]").click()
    operator.wait_for_load_state()
    facts = operator.locator("[data-acquisition]").inner_text()
    assert "wechat" in facts and "moments" in facts and "spring" in facts
    assert re.search(r"(会员|Member) \d+", facts)
    check_page(operator, "console-member-acquisition")


def test_a_member_withdraws_marketing_consent_in_the_member_centre(new_phone, site):
    # given: a member who ticked marketing on the privacy notice
    page = new_phone()
    page.goto("/m/me/")
    page.wait_for_url(re.compile("/m/privacy/"))
    page.locator("input[name=marketing]").check()
    page.get_by_label(re.compile("我已阅读|I have read")).check()
    page.get_by_role("button", name=re.compile("同意并继续|Agree and continue")).click()
    page.wait_for_url(re.compile("/m/signin/"))
    page.get_by_label(re.compile("手机号|Mobile phone")).fill(WITHDRAWER)
    page.get_by_role("button", name=re.compile("获取验证码|Send me a code")).click()
    from tests.browser.test_member_pages import sms_code

    page.get_by_label(re.compile("验证码|code from the SMS")).fill(sms_code(site, "+86" + WITHDRAWER))
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
    page.wait_for_load_state()
    _skip_questions_if_asked(page)
    # when: the member opens privacy & consent and taps withdraw once
    page.get_by_role("link", name="隐私与授权").click()
    page.wait_for_url(re.compile("/m/me/privacy/"))
    marketing = page.locator("[data-purpose=marketing][data-granted]")
    assert marketing.get_attribute("data-granted") == "1"
    check_page(page, "h5-consent-granted")
    marketing.get_by_role("button", name=re.compile("撤回")).click()
    page.wait_for_load_state()
    # then: withdrawn at once, in the history
    marketing = page.locator("[data-purpose=marketing][data-granted]")
    assert marketing.get_attribute("data-granted") == "0"
    assert page.locator(".h5-consent-history li").first.inner_text().count("撤回了") == 1
    check_page(page, "h5-consent-withdrawn")
    # granting again is the same one tap
    marketing.get_by_role("button", name=re.compile("同意")).click()
    page.wait_for_load_state()
    assert page.locator("[data-purpose=marketing][data-granted]").get_attribute("data-granted") == "1"


def test_a_member_answers_the_questions_after_sign_up_and_is_not_asked_again(new_phone, console, site):
    # given: an operator defines a questionnaire for "after sign-up"
    operator = console("execution")
    operator.goto("/console/")
    operator.get_by_role("link", name="问卷").first.click()
    operator.wait_for_url(re.compile("/console/questionnaires/"))
    operator.get_by_role("link", name="新建问卷").click()
    operator.locator("input[name=name]").fill("新会员三问")
    operator.locator("select[name=moment]").select_option("after_signup")
    operator.locator("input[name=q-0-prompt]").fill("您最喜欢的咖啡？")
    operator.locator("input[name=q-0-attribute]").fill("coffee")
    operator.locator("input[name=q-0-why]").fill("为您推荐口味")
    operator.locator("input[name=q-1-prompt]").fill("您的性别")
    operator.locator("select[name=q-1-kind]").select_option("choice")
    operator.locator("select[name=q-1-target]").select_option("gender")
    operator.locator("select[name=q-1-purpose]").select_option("service")
    operator.locator("input[name=q-1-why]").fill("活动中如何称呼您")
    # a question without a purpose is refused on its row
    operator.get_by_role("button", name="保存问卷").click()
    operator.wait_for_load_state()
    assert operator.locator("select[name=q-0-purpose].is-invalid").count() == 1
    check_page(operator, "console-questionnaire-refused")
    operator.locator("select[name=q-0-purpose]").select_option("service")
    operator.get_by_role("button", name="保存问卷").click()
    operator.wait_for_url(re.compile("/console/questionnaires/$"))
    assert operator.get_by_role("link", name="新会员三问").is_visible()
    check_page(operator, "console-questionnaire-list")
    try:
        # when: a new member registers, they are asked right after
        page = new_phone()
        page.goto("/m/me/")
        consent_and_sign_in(page, site, ANSWERER)
        page.wait_for_url(re.compile("/m/me/questions/after_signup/"))
        assert page.get_by_text("为您推荐口味").is_visible()  # each question says what it is for
        check_page(page, "h5-questions-after-signup")
        page.get_by_label("您最喜欢的咖啡？").fill("拿铁")
        page.get_by_label("女").check()
        page.get_by_role("button", name="保存我的回答").click()
        page.wait_for_url(re.compile("/m/me/$"))
        # then: not asked again
        assert page.locator(".h5-profile-card").count() == 0
        page.goto("/m/me/questions/after_signup/")
        page.wait_for_url(re.compile("/m/me/$"))
        check_page(page, "h5-member-centre-after-answers")
    finally:
        operator.goto("/console/questionnaires/")
        operator.get_by_role("link", name="新会员三问").click()
        operator.locator("input[name=active]").uncheck()
        operator.get_by_role("button", name="保存问卷").click()
        operator.wait_for_url(re.compile("/console/questionnaires/$"))
        check_page(operator, "console-questionnaire-paused")
