"""The console's Import page in a real browser: a file with errors is checked and refused, its error
table and report shown; the fixed file is checked clean and imported; the history lists both."""

from __future__ import annotations

import re

from tests.browser.conftest import BROWSER, check_page
from tests.commerce.test_imports import ORDER_HEADER, csv_bytes, order_rows

pytestmark = BROWSER


def _upload(page, data: bytes, name: str) -> None:
    page.goto("/console/imports/")
    page.get_by_label(re.compile("文件内容")).select_option("orders")
    page.locator("input[type=file]").set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})
    page.get_by_role("button", name=re.compile("上传并校验")).click()
    page.wait_for_load_state()


def test_an_import_with_errors_fixed_and_run_again(console, tmp_path):
    page = console("execution")
    page.goto("/console/imports/")
    check_page(page, "console-import-list")
    rows = order_rows(2, start=900)
    rows[0][1] = "12345"  # not a phone
    rows[3][6] = "1.234"  # three decimals of a yuan
    _upload(page, csv_bytes(ORDER_HEADER, rows, encoding="gb18030"), "订单-有错.csv")
    check_page(page, "console-import-errors")
    table = page.locator("#import-errors tbody tr")
    assert table.count() >= 2
    assert "会员手机号" in table.first.inner_text() and "member.phone_invalid" in table.first.inner_text()
    assert page.get_by_role("button", name=re.compile("开始导入")).count() == 0  # both orders have a bad line
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("错误报告")).click()
    assert download.value.suggested_filename.endswith(".xlsx")
    # Fixed and uploaded again: clean, started, imported.
    rows[0][1] = "13800000900"
    rows[3][6] = "19.99"
    _upload(page, csv_bytes(ORDER_HEADER, rows), "订单-已修正.csv")
    assert page.get_by_test_id("rows").inner_text().startswith("共 4 行：有效 4 行")
    page.get_by_role("button", name=re.compile("开始导入")).click()
    page.wait_for_load_state()
    assert "写入 2 条" in page.get_by_test_id("imported").inner_text()
    check_page(page, "console-import-done")
    page.goto("/console/imports/")
    assert page.locator("tbody tr").count() >= 2 and "订单-已修正.csv" in page.locator("tbody").inner_text()
    check_page(page, "console-import-history")
