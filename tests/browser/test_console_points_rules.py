"""The points rules editor in the browser: the strategy operator sees the demo's rules and the ¥199
preview, changes the birthday multiplier with a reason, and the preview and the versions follow."""

from __future__ import annotations

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER


def test_an_operator_edits_the_points_rules_and_sees_the_preview(console, site):
    page = console("operator")
    page.goto(site.url + "/console/loyalty/points-rules/")
    check_page(page, "console-points-rules")
    preview = page.locator("#points-preview")
    assert "199" in preview.inner_text() and "398" in preview.inner_text()  # the demo: 1 per ¥1, double
    # when: triple points in the birthday month
    page.get_by_label("生日月积分倍数").fill("3")
    page.get_by_label("修改原因").fill("生日月三倍积分活动")
    page.get_by_role("button", name="保存为新版本").click()
    # then
    page.wait_for_url("**/console/loyalty/points-rules/")
    assert "597" in page.locator("#points-preview").inner_text()
    assert "生日月三倍积分活动" in page.locator("#rules-history").inner_text()
    check_page(page, "console-points-rules-saved")
