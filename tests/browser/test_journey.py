"""Issue 9's whole journey in one run, in a real browser on the shipped server: an operator signs in
with TOTP, builds and publishes a campaign with two questions and an age rule; a member on a phone
signs in with an SMS code, consents, signs up and waits for review; a second member is refused as too
young with the reason shown; the operator sees both in the live monitor, approves the first, checks
them in by their attendance code, and downloads the export; a role without permission gets 403 on
every page of the campaign."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import consent_and_sign_in

pytestmark = BROWSER

TITLE = "旅程测试 · 会员开放日"


def at(**delta) -> str:
    return (datetime.now() + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


def _build_and_publish(page) -> int:
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/console/campaigns/new/")
    page.locator("#id_title").fill(TITLE)
    page.locator("#id_rules_text").fill("年满 18 周岁的会员可报名，每人一次，人工审核。")
    page.locator("#id_signup_start_at").fill(at(minutes=-5))
    page.locator("#id_signup_end_at").fill(at(days=2))
    page.locator("#id_event_start_at").fill(at(days=3))
    page.locator("#id_event_end_at").fill(at(days=3, hours=2))
    page.locator("#id_capacity").fill("30")
    page.locator("#id_review_mode").select_option("manual")
    page.locator("input[name=channels][value=h5]").check()
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/form/$"))
    campaign_id = int(re.search(r"/campaigns/(\d+)/", page.url).group(1))
    # two questions: a choice and a text
    page.get_by_role("button", name="添加问题").click()
    page.locator("#id_q-0-label").wait_for()
    page.get_by_role("button", name="添加问题").click()
    page.locator("#id_q-1-label").wait_for()
    page.locator("#id_q-0-label").fill("T恤尺码")
    page.locator("#id_q-0-key").fill("size")
    page.locator("#id_q-0-type").select_option("single_choice")
    page.locator("#id_q-0-options").fill("m=M\nl=L")
    page.locator("#id_q-0-required").check()
    page.locator("#id_q-1-label").fill("想对我们说的话")
    page.locator("#id_q-1-key").fill("message")
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/eligibility/$"))
    # the age rule
    page.locator("#id_min_age").fill("18")
    page.locator("#check").get_by_text("目前没有发现问题").wait_for()
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/notifications/$"))
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/review/$"))
    page.frame_locator(".phone-frame iframe").get_by_text(TITLE).first.wait_for()
    page.get_by_role("button", name="发布").click()
    page.wait_for_load_state()
    assert page.locator(".badge").filter(has_text="已发布").count() == 1
    return campaign_id


def _member_signs_up(page, site, campaign_id: int, *, phone: str, born: str) -> None:
    page.goto(f"/m/c/{campaign_id}/?utm_source=journey")
    assert page.get_by_text("年满 18 周岁的会员可报名").is_visible()  # rules before sign-up (C12)
    page.get_by_role("link", name="立即报名").click()
    consent_and_sign_in(page, site, phone)
    page.wait_for_url(re.compile(f"/m/c/{campaign_id}/signup/"))
    page.get_by_label(re.compile("出生日期")).fill(born)
    page.get_by_label("L", exact=True).check()
    page.get_by_label("想对我们说的话").fill("期待见面")
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()


def test_the_whole_journey(site, new_phone, console):
    # the strategy operator, signed in with the password and the authenticator's code (the harness
    # signs each operator in once per run through the real pages: console_sign_in)
    operator = console("strategy")
    campaign_id = _build_and_publish(operator)
    check_page(operator, "journey-1-published")

    # a member signs up on a phone and waits for review
    member = new_phone()
    _member_signs_up(member, site, campaign_id, phone="13900139001", born="1992-03-04")
    member.wait_for_url(re.compile("/m/me/s/su_"))
    assert member.locator("[data-status]").get_attribute("data-status") == "pending_review"
    check_page(member, "journey-2-member-pending")

    # a second member is refused as too young, with the reason
    young = new_phone()
    _member_signs_up(young, site, campaign_id, phone="13900139002", born="2014-06-01")
    assert young.locator('[data-code="eligibility.too_young"]').count() == 1
    check_page(young, "journey-3-member-too-young")

    # the live monitor shows the sign-up (masked) and the refused attempt by its reason
    operator.goto(f"/console/campaigns/{campaign_id}/monitor/")
    live = operator.locator("#monitor-live")
    live.get_by_text("139****9001").wait_for()
    assert "13900139001" not in operator.content()
    live.get_by_text("未达到最低年龄").first.wait_for()
    check_page(operator, "journey-4-monitor")

    # the operator approves the pending sign-up
    operator.goto(f"/console/review/?campaign={campaign_id}")
    row = operator.locator("tbody tr").filter(has_text="139****9001")
    row.get_by_role("button", name=re.compile("通过")).click()
    operator.wait_for_load_state()
    assert "已通过：1 条。" in operator.get_by_role("status").first.inner_text()

    # the member now holds a confirmed seat and an attendance code
    member.goto("/m/me/")
    member.get_by_role("link", name=re.compile(TITLE)).first.click()
    member.wait_for_load_state()
    assert member.locator("[data-status]").get_attribute("data-status") == "confirmed"
    code = member.locator(".h5-checkin-code").inner_text().replace(" ", "")
    check_page(member, "journey-5-member-confirmed-qr")

    # checked in at the door by the code
    operator.goto(f"/console/attendance/?campaign={campaign_id}")
    operator.get_by_role("textbox", name="签到码").fill(code)
    operator.get_by_role("button", name="签到", exact=True).click()
    operator.locator("#attendance-live .alert-success").wait_for()
    check_page(operator, "journey-6-checked-in")

    # the report shows the participation, and the export downloads masked
    operator.goto(f"/console/campaigns/{campaign_id}/report/")
    assert "100.0%" in operator.locator("main").inner_text()
    check_page(operator, "journey-7-report")
    with operator.expect_download() as download:
        operator.get_by_role("link", name="下载 CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2  # the header and the one sign-up (the refused member has none)
    assert "139****9001" in text and "13900139001" not in text
    assert "已确认" in text  # labels, not codes

    # the auditor may open none of the campaign's pages
    auditor = console("auditor")
    for path in ("", "edit/basics/", "monitor/", "signups/", "report/", "export.csv"):
        response = auditor.goto(f"/console/campaigns/{campaign_id}/{path}")
        assert response.status == 403, (path, response.status)
    for path in ("/console/review/", f"/console/attendance/?campaign={campaign_id}", "/console/members/"):
        assert auditor.goto(path).status == 403, path
