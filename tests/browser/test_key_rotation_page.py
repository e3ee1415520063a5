"""The key-rotation page as the strategy operator and the auditor meet it on the demo site (S1)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER


def test_strategy_watches_the_key_rotation(console, site):
    site.run("pii-keys", "rotate")
    page = console("strategy")
    page.goto("/console/audit/")
    page.get_by_role("link", name="密钥轮换").click()
    assert page.get_by_role("heading", level=1).inner_text() == "审计日志"
    bar = page.get_by_role("progressbar", name="会员手机号")
    assert bar.get_attribute("aria-valuenow") == "100"
    assert page.get_by_text("当前密钥：加密新数据").count() == 1
    check_page(page, "console-key-rotation")


def test_the_auditor_reads_it_and_the_export_register(console, site):
    site.run("pii-keys", "rotate")
    page = console("auditor")
    page.goto("/console/audit/")
    page.get_by_role("link", name="密钥轮换").click()
    bar = page.get_by_role("progressbar", name="会员手机号")
    assert bar.get_attribute("aria-valuenow") == "100"
    assert page.locator("main form").count() == 0  # read-only
    check_page(page, "console-key-rotation-auditor")
    page.get_by_role("link", name="导出审批").click()
    assert page.get_by_role("heading", name="明文导出登记簿").count() == 1
    assert page.get_by_role("button", name="通过").count() == 0
    check_page(page, "console-export-register-auditor")


@pytest.mark.parametrize("role", ["execution", "support"])
def test_other_roles_do_not_see_it(console, role):
    page = console(role)
    response = page.goto("/console/audit/keys/")
    assert response.status == 403
