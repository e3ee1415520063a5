"""Risk configuration in the browser: the strategy operator reads the live rules, saves a new version
from them and runs it in shadow; then adds a risk to the register and sees it counted in its cell of
the probability × impact matrix."""

from __future__ import annotations

import re

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER


def test_an_operator_shadows_a_new_rule_version_and_registers_a_risk(console, site):
    page = console("operator")
    page.goto(site.url + "/console/risk/rules/")
    assert "fill_ms < 1500 且 member.campaign_events ≤ 1" in page.locator("#rule-table").inner_text()
    check_page(page, "console-risk-config-rules")

    # when: a new version from the live rules (prefilled), with a reason
    page.get_by_label(re.compile("修改原因")).fill("浏览器测试：影子运行对比")
    page.get_by_role("button", name="保存为草稿").click()
    page.wait_for_url(re.compile(r"/console/risk/rules/\d+/$"))
    assert "草稿" in page.locator("#version-state").inner_text()
    page.get_by_role("button", name="影子运行").click()
    page.wait_for_load_state()
    # then
    assert "影子运行" in page.locator("#version-state").inner_text()
    assert "判定不同" in page.locator("#shadow-comparison").inner_text()
    check_page(page, "console-risk-config-shadow")

    page.goto(site.url + "/console/risk/register/")
    cell = page.locator("#cell-5-3 .cell-open")
    before = int(cell.inner_text())
    page.locator("#id_title").fill("积分被刷单套现")
    page.locator("#id_probability").select_option("5")
    page.locator("#id_impact").select_option("3")
    page.locator("#id_owner").fill("风控组 李静")
    page.locator("#id_response_plan").fill("大额积分兑换转人工复核")
    page.get_by_role("button", name="保存风险").click()
    page.wait_for_url("**/console/risk/register/")
    assert int(page.locator("#cell-5-3 .cell-open").inner_text()) == before + 1
    assert "text-bg-danger" in (page.locator("#cell-5-3").get_attribute("class") or "")
    assert "积分被刷单套现" in page.locator("#register-list").inner_text()
    check_page(page, "console-risk-config-register")

    page.locator("#cell-5-3 a").click()
    page.wait_for_url(re.compile(r"probability=5&impact=3"))
    assert "积分被刷单套现" in page.locator("#register-list").inner_text()

    page.goto(site.url + "/console/risk/lists/")
    page.locator("#id_kind").select_option("ip")
    page.locator("#id_value").fill("203.0.113.0/24")
    page.locator("#id_verdict").select_option("block")
    page.locator("#id_note").fill("代理池网段")
    page.get_by_role("button", name="加入名单").click()
    page.wait_for_url("**/console/risk/lists/")
    assert "203.0.113.0/24" in page.locator("#block-list").inner_text()
    check_page(page, "console-risk-config-lists")
