"""The console's review queue, attendance, member look-up, API keys and audit log in a real browser,
on the demo data: each page passes axe-core, the CSP and the no-foreign-host check, and its main
action works end to end."""

from __future__ import annotations

import json
import re

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER


def _query(site, code: str) -> dict:
    """Run Python against the site's database; the script prints one JSON object last."""
    out = site.run("shell", "-c", f"import json\n{code}")
    return json.loads(out.strip().splitlines()[-1])


def _confirmed_not_attended(site) -> dict:
    return _query(
        site,
        "from yunying.campaigns.models import Signup\n"
        "from yunying.members.services import member_phone\n"
        "s = Signup.objects.select_related('member', 'campaign').filter(status='confirmed', "
        "attended_at__isnull=True, campaign__status__in=['published', 'closed']).order_by('id').first()\n"
        "print(json.dumps({'campaign': s.campaign_id, 'title': s.campaign.title, 'code': s.checkin_code, "
        "'phone': member_phone(s.member)[3:], 'signup': s.pk}))",
    )


def test_the_review_queue_approves_one_and_rejects_in_bulk(console):
    page = console("execution")
    page.goto("/console/review/")
    check_page(page, "console-review-queue")
    rows = page.locator("tbody tr")
    assert rows.count() >= 3
    # one by one: the row's own button, with a reason for the member
    first_id = rows.first.locator("td").nth(1).inner_text()
    page.get_by_label("给会员的原因").fill("欢迎参加")
    rows.first.get_by_role("button", name=re.compile("通过")).click()
    page.wait_for_load_state()
    assert "已通过：1 条。" in page.get_by_role("status").first.inner_text()
    assert first_id not in page.locator("tbody").inner_text()
    # in bulk: two ticked rows rejected with a reason and an internal note
    rows = page.locator("tbody tr")
    rows.nth(0).locator("input[type=checkbox]").check()
    rows.nth(1).locator("input[type=checkbox]").check()
    page.get_by_label("给会员的原因").fill("资料不全")
    page.get_by_label("内部备注").fill("浏览器测试")
    page.get_by_role("button", name="拒绝已勾选").click()
    page.wait_for_load_state()
    assert "已拒绝：2 条。" in page.get_by_role("status").first.inner_text()
    check_page(page, "console-review-queue-after")


def test_attendance_by_typing_a_code(console, site):
    # given
    member = _confirmed_not_attended(site)
    page = console("execution")
    page.goto("/console/attendance/")
    check_page(page, "console-attendance-pick")
    page.get_by_label("活动", exact=True).select_option(str(member["campaign"]))
    page.wait_for_url(re.compile(r"campaign="))
    # when: typed in lower case with a space, as staff do
    code = member["code"]
    page.get_by_role("textbox", name="签到码").fill(f"{code[:5].lower()} {code[5:]}")
    page.get_by_role("button", name="签到", exact=True).click()
    # then
    result = page.locator("#attendance-live .alert-success")
    result.wait_for()
    assert "*" in result.inner_text()  # the masked name
    assert page.get_by_role("textbox", name="签到码").input_value() == ""
    assert page.get_by_test_id("attended").inner_text() != "0"
    check_page(page, "console-attendance-checked-in")
    # and a second time: refused with the first check-in's time
    page.get_by_role("textbox", name="签到码").fill(code)
    page.get_by_role("textbox", name="签到码").press("Enter")
    page.locator("#attendance-live .alert-warning").wait_for()
    assert "首次签到时间" in page.locator("#attendance-live").inner_text()


def test_the_scanner_starts_the_camera(console, site):
    member = _confirmed_not_attended(site)
    page = console("execution")
    page.goto(f"/console/attendance/?campaign={member['campaign']}")
    page.get_by_role("button", name="打开摄像头").click()
    page.get_by_role("button", name="关闭摄像头").wait_for()
    assert "正在扫描" in page.locator("[data-scanner-status]").inner_text()
    check_page(page, "console-attendance-scanning")
    page.get_by_role("button", name="关闭摄像头").click()


def test_member_look_up_and_reveal_with_a_purpose(console, site):
    member = _confirmed_not_attended(site)
    page = console("support")
    page.goto("/console/members/")
    check_page(page, "console-member-lookup")
    page.locator("input[name=phone]").fill(member["phone"])
    page.locator("form[action$='/members/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert member["phone"] not in page.content()
    assert f"{member['phone'][:3]}****{member['phone'][-4:]}" in page.content()
    check_page(page, "console-member-masked")
    page.locator("select[name=purpose]").select_option("customer_service")
    page.locator("form[action$='/members/reveal/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert member["phone"] in page.content()
    assert "客户服务：会员请求帮助" in page.locator("#access-heading ~ div").inner_text()
    check_page(page, "console-member-revealed")


def test_an_api_key_is_created_shown_once_and_revoked(console):
    page = console("strategy")
    page.goto("/console/apikeys/")
    check_page(page, "console-apikeys")
    page.get_by_label("密钥名称").fill("浏览器测试商城")
    page.get_by_role("button", name="创建密钥").click()
    page.wait_for_load_state()
    token = page.get_by_label("令牌").input_value()
    assert token.startswith("yy_")
    check_page(page, "console-apikey-created")
    page.get_by_role("link", name=re.compile("返回密钥列表")).click()
    assert token not in page.content()
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text="浏览器测试商城").get_by_role("button", name=re.compile("吊销")).click()
    page.wait_for_load_state()
    assert "已于" in page.locator("tr", has_text="浏览器测试商城").inner_text()


def test_the_auditor_reads_and_filters_both_logs(console):
    page = console("auditor")
    page.goto("/console/audit/")
    check_page(page, "console-audit-log")
    assert "哈希链已校验至第" in page.locator("[data-chain=ok]").inner_text()  # the chain holds
    page.get_by_label("操作", exact=True).select_option("operator")  # the heading's "all of them"
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    rows = page.locator("tbody").inner_text()
    assert "操作员登录" in rows  # the action in words (its code beside it)
    page.get_by_role("link", name="个人信息访问记录").click()
    page.wait_for_load_state()
    check_page(page, "console-access-log")
