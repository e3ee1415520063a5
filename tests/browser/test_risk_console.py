"""Risk review in the browser: an operator reads why an attempt was held, approves it with a note,
finds it among the decided cases, and opens the decision with its signals."""

from __future__ import annotations

import re

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER

HELD = """
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput
v = risk_assess(RiskInput(entry="coupon.claim", subject_type="coupon", subject_ref="9:9", member_ref="m-browser",
                          ip="47.92.3.4", user_agent="python-requests/2.31", device_id="browser-device-01"))
print(v.action, v.decision_id)
"""


def test_an_operator_reads_why_approves_with_a_note_and_opens_the_decision(console, site):
    # given: a coupon claim held for review (a script on a cloud address)
    action, decision_id = site.run("shell", "-v0", "-c", HELD).strip().splitlines()[-1].split()
    assert action == "review"
    page = console("operator")
    page.goto(site.url + "/console/risk/")
    row = page.locator("#queue tbody tr", has=page.locator(f"a[href$='/decisions/{decision_id}/']"))
    assert "请求来自脚本或无界面浏览器" in row.inner_text() and "IP 地址类型 = datacentre" in row.inner_text()
    check_page(page, "console-risk-queue")
    # when
    row.locator("input[name=case]").check()
    page.locator("#decide-note").fill("浏览器测试：核实为本人")
    page.locator("#approve").click()
    page.wait_for_url(re.compile(r"/console/risk/$"))
    # then
    page.goto(site.url + "/console/risk/?tab=decided")
    decided = page.locator("#queue").inner_text()
    assert "浏览器测试：核实为本人" in decided
    page.goto(site.url + f"/console/risk/decisions/{decision_id}/")
    assert "75 / 100" in page.locator("#decision-facts").inner_text()
    assert "ua_kind" in page.locator("#signals").inner_text()
    check_page(page, "console-risk-decision")
