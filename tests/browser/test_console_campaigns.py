"""The console's campaign pages in a real browser: the list with its filters, saved filters and bulk
form, and the step-by-step editor — validation as the operator types, the form builder's htmx moves,
the phone-frame preview — up to publishing; each page checked (axe-core, CSP, hosts) and screenshotted."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER


def at(days: float) -> str:
    return (datetime.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def test_the_campaign_list_filters_and_saves_a_filter(console):
    # given
    page = console("execution")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/console/campaigns/")
    assert page.get_by_role("heading", level=1).inner_text() == "活动"
    check_page(page, "console-campaign-list")
    # when: filter by state, then save the filter under a name
    page.locator("#id_status").select_option("published")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_load_state()
    assert "status=published" in page.url
    page.locator("#id_name").fill("进行中的活动")
    page.get_by_role("button", name="保存此筛选").click()
    page.wait_for_load_state()
    # then
    assert page.get_by_test_id("saved-filters").get_by_role("link", name="进行中的活动").count() == 1
    badges = page.locator("tbody .badge")
    assert badges.count() >= 1 and all(text == "已发布" for text in badges.all_inner_texts())
    check_page(page, "console-campaign-list-filtered")


def test_an_operator_builds_and_publishes_a_campaign_with_two_questions_and_an_age_rule(console):
    page = console("strategy")
    page.on("dialog", lambda dialog: dialog.accept())
    # step 1: basics, checked as the operator types
    page.goto("/console/campaigns/new/")
    check_page(page, "console-campaign-editor-1-basics")
    page.locator("#id_title").fill("浏览器里建的活动")
    page.locator("#id_rules_text").fill("每位会员限报一次。")
    page.locator("#id_signup_start_at").fill(at(-0.1))
    page.locator("#id_signup_end_at").fill(at(-1))  # before it starts: the check says so
    page.locator("#id_event_start_at").fill(at(3))
    page.locator("#id_event_end_at").fill(at(3.1))
    # the check runs on each change: wait for the one after the last field
    page.locator("#check").get_by_text("报名截止").wait_for()
    page.locator("#id_signup_end_at").fill(at(2))
    page.locator("#check").get_by_text("目前没有发现问题").wait_for()
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/form/$"))
    # step 2: two questions, the second moved up (htmx swaps the builder only)
    page.get_by_role("button", name="添加问题").click()
    page.locator("#id_q-0-label").wait_for()
    page.get_by_role("button", name="添加问题").click()
    page.locator("#id_q-1-label").wait_for()
    page.locator("#id_q-0-label").fill("衣服尺码")
    page.locator("#id_q-0-key").fill("size")
    page.locator("#id_q-0-type").select_option("single_choice")
    page.locator("#id_q-0-options").fill("s=小号\nm=中号\nl=大号")
    page.locator("#id_q-0-required").check()
    page.locator("#id_q-1-label").fill("所在城市")
    page.locator("#id_q-1-key").fill("city")
    page.get_by_role("button", name="上移问题 2").click()
    expect(page.locator("#id_q-0-key")).to_have_value("city")  # (no wait_for_function: the CSP has no eval)
    check_page(page, "console-campaign-editor-2-form")
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/eligibility/$"))
    # step 3: an age rule, checked as the operator types
    page.locator("#id_min_age").fill("40")
    page.locator("#id_max_age").fill("20")
    page.locator("#check").get_by_text("最大年龄不能小于最小年龄").wait_for()
    page.locator("#id_min_age").fill("18")
    page.locator("#id_max_age").fill("60")
    page.locator("#check").get_by_text("目前没有发现问题").wait_for()
    # purchases: an amount in yuan, and "new customers only" that cannot go with it
    page.locator("#id_min_paid_yuan").fill("199.90")
    page.locator("#id_purchase_period_days").fill("90")
    page.locator("#id_first_order_only").check()
    page.locator("#check").get_by_text("仅限新客不能与消费金额或订单数同时设置").wait_for()
    page.locator("#id_first_order_only").uncheck()
    page.locator("#check").get_by_text("目前没有发现问题").wait_for()
    check_page(page, "console-campaign-editor-3-eligibility")
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/notifications/$"))
    # step 4
    check_page(page, "console-campaign-editor-4-notifications")
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/review/$"))
    # step 5: the member page in a phone frame, then publish (confirmed)
    frame = page.frame_locator(".phone-frame iframe")
    frame.get_by_text("浏览器里建的活动").first.wait_for()
    check_page(page, "console-campaign-editor-5-review")
    page.get_by_role("button", name="发布").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").filter(has_text="已发布").count() >= 1
    assert page.locator(".badge").filter(has_text="已发布").count() == 1
    check_page(page, "console-campaign-published")


def test_execution_edits_but_is_not_offered_publish(console):
    page = console("execution")
    page.goto("/console/campaigns/?status=draft")
    link = page.locator("tbody a").first
    link.click()
    page.wait_for_load_state()
    check_page(page, "console-campaign-detail-execution")
    assert page.get_by_role("button", name="发布").count() == 0
    page.get_by_role("link", name="编辑").click()
    page.wait_for_load_state()
    assert "/edit/basics/" in page.url
