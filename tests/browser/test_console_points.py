"""An operator adjusts a member's points on the 360 page (a reason always), and a large adjustment
waits in the approval queue; the liabilities report and the tier editor pass the page checks."""

from __future__ import annotations

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_360 import _busy_member

pytestmark = BROWSER


def test_support_adjusts_points_and_a_large_one_waits_for_approval(console, site):
    member_id = _busy_member(site)
    page = console("support")
    page.goto(f"/console/members/{member_id}/")
    before = int(page.locator("#member-points-balance").inner_text())
    page.get_by_label("积分（正数增加，负数扣减）").fill("88")
    page.get_by_label("原因（记入审计）").fill("客诉补偿：物流延误")
    page.get_by_role("button", name="调整", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("积分已调整。").is_visible()
    assert int(page.locator("#member-points-balance").inner_text()) == before + 88
    assert "客诉补偿" in page.locator("#member-adjustments").inner_text()
    check_page(page, "console-member-points")

    page.get_by_label("积分（正数增加，负数扣减）").fill("5000")
    page.get_by_label("原因（记入审计）").fill("大额补偿")
    page.get_by_role("button", name="调整", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("调整超过阈值，等待另一位运营人员审批。").is_visible()
    assert int(page.locator("#member-points-balance").inner_text()) == before + 88


def test_the_loyalty_console_pages(console, site):
    page = console("strategy")
    for url, name in (
        ("/console/loyalty/liabilities/", "console-liabilities"),
        ("/console/loyalty/adjustments/", "console-adjustments"),
        ("/console/loyalty/tiers/", "console-tiers"),
    ):
        page.goto(url)
        check_page(page, name)
    assert page.locator("#tier-levels input[name='level-3-name']").input_value() == "钻石会员"
