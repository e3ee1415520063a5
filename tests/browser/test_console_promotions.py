"""Promotions in the browser: the execution operator writes a 满减 in the editor and watches the live
preview price the sample cart as the ladder changes, saves and starts it, gives it a budget and asks
for a top-up, which the strategy operator approves (the asker cannot); a coupon template gets its
coupon fields, a code batch and the coupons page."""

from __future__ import annotations

import re
import time

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER


def _payable(page, expected: str) -> None:
    page.wait_for_function(
        "([text]) => document.querySelector('#preview-payable')?.textContent.trim() === text", arg=[expected]
    )


def test_a_spend_off_from_the_editor_to_an_approved_top_up(console, site, demo_promotions_paused):
    name = f"浏览器满减{int(time.time())}"
    page = console("execution")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/console/promotions/")
    check_page(page, "console-promotions-list")
    page.locator("#new-promotion").click()
    page.wait_for_url("**/console/promotions/new/")
    # the sample cart is ¥200: 满200减30 makes it ¥170
    page.get_by_label("促销名称").fill(name)
    page.get_by_label("开始时间").fill("2026-01-01T00:00")
    page.get_by_label("第 1 级门槛").fill("200")
    page.get_by_label("第 1 级优惠").fill("30")
    _payable(page, "170.00")
    assert "本促销" in page.locator("#preview-applied").inner_text()
    assert "店铺满减/满折" in page.locator("#stacking").inner_text()
    # a second step: 满300减60 is not reached; the first still applies. Then ¥50 off at 200
    page.get_by_role("button", name="添加一级").click()
    page.get_by_role("button", name="添加一级").click()
    page.get_by_label("第 3 级门槛").fill("300")
    page.get_by_label("第 3 级优惠").fill("60")
    page.get_by_label("第 1 级优惠").fill("50")
    _payable(page, "150.00")
    # a step typed by mistake is removed again
    page.get_by_label("第 4 级门槛").fill("100")
    page.get_by_label("第 4 级优惠").fill("99")
    page.wait_for_function(
        "() => /更高一级/.test(document.querySelector('#preview-errors')?.textContent || '')"
    )
    page.get_by_role("button", name="删除第 4 级").click()
    _payable(page, "150.00")
    # a cart below the threshold: the reason is shown
    page.get_by_label("第 2 行数量").fill("1")
    _payable(page, "160.00")
    assert "未达到门槛" in page.locator("#preview-not-applied").inner_text()
    check_page(page, "console-promotion-editor-preview")
    page.get_by_label("第 2 行数量").fill("2")
    page.locator("#save-promotion").click()
    page.wait_for_url(re.compile(r".*/console/promotions/\d+/$"))
    assert page.get_by_text("促销已保存为草稿。").is_visible()
    assert "满¥200减¥50" in page.locator("#promotion-summary").inner_text()
    page.locator("#action-active").click()
    page.wait_for_load_state()
    assert page.locator("#promotion-state").inner_text() != "草稿"
    _payable(page, "150.00")
    check_page(page, "console-promotion-editor-started")

    # a budget for it, and a top-up the execution operator asks for
    page.goto("/console/promotions/budgets/")
    page.get_by_label("适用于").select_option("promotion")
    option = page.locator("#id_promotion option", has_text=name).get_attribute("value")
    page.get_by_label("促销活动", exact=True).select_option(option)
    page.get_by_label("预算（元）").fill("1000")
    page.locator("#create-budget").click()
    page.wait_for_load_state()
    assert page.get_by_text("预算已创建。").is_visible()
    row = page.locator("#budget-list tr", has_text=name)
    assert "1,000.00" in row.inner_text()
    row.locator("summary").click()
    row.get_by_label("追加金额（元）").fill("500")
    row.get_by_label("追加原因").fill("年货节爆单")
    row.get_by_role("button", name="申请").click()
    page.wait_for_load_state()
    assert page.get_by_text("已提交追加申请：需由另一位运营审批。").is_visible()
    assert "年货节爆单" in page.locator("#pending-topups").inner_text()
    check_page(page, "console-promotion-budgets-requested")

    # the strategy operator approves it
    second = console("strategy")
    second.goto("/console/promotions/budgets/")
    pending = second.locator("#pending-topups tr", has_text="年货节爆单")
    pending.get_by_label("备注").fill("同意")
    pending.get_by_role("button", name="通过").click()
    second.wait_for_load_state()
    assert second.get_by_text("追加已批准。").is_visible()
    assert "1,500.00" in second.locator("#budget-list tr", has_text=name).inner_text()
    assert "年货节爆单" not in (
        second.locator("#pending-topups").inner_text() if second.locator("#pending-topups").count() else ""
    )
    check_page(second, "console-promotion-budgets-approved")

    # the list shows it running, its terms and what its budget has left
    second.goto("/console/promotions/?q=" + name)
    row = second.locator("#promotion-list tbody tr", has_text=name)
    assert (
        "进行中" in row.inner_text() and "满¥200减¥50" in row.inner_text() and "1,500.00" in row.inner_text()
    )
    check_page(second, "console-promotions-list-filled")


def test_a_coupon_template_with_a_code_batch(console, site, demo_promotions_paused):
    name = f"浏览器券{int(time.time())}"
    page = console("execution")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/console/promotions/new/")
    page.get_by_label("类型").select_option("coupon_off")
    assert page.locator("#coupon-fields").is_visible()
    assert not page.locator("#ladder").is_visible()
    page.get_by_label("促销名称").fill(name)
    page.get_by_label("开始时间").fill("2026-01-01T00:00")
    page.get_by_label("门槛（元）").fill("100")
    page.get_by_label("减免金额（元）").fill("120")  # more than the threshold: refused next to the field
    page.get_by_label("有效天数（自发放起）").fill("30")
    page.locator("#save-promotion").click()
    page.wait_for_load_state()
    assert page.locator("#id_off_yuan_error").is_visible()
    assert page.get_by_label("促销名称").input_value() == name
    check_page(page, "console-promotion-editor-errors")
    page.get_by_label("减免金额（元）").fill("10")
    # the sample cart with the coupon chosen (after whatever else runs on the demo site)
    page.wait_for_function(
        "() => /本促销: −¥10\\.00/.test(document.querySelector('#preview-applied')?.textContent || '')"
    )
    page.locator("#save-promotion").click()
    page.wait_for_url(re.compile(r".*/console/promotions/\d+/$"))
    page.locator("#action-active").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="优惠券与券码").click()
    page.get_by_label("批次名称").first.fill("门店海报")
    page.get_by_label("券码数量").fill("5")
    page.get_by_role("button", name="生成券码").click()
    page.wait_for_load_state()
    assert "门店海报" in page.locator("#batch-list").inner_text()
    check_page(page, "console-promotion-coupons")
