"""The two-person rule in the console (S2): the strategy operator asks for an export in clear from the
report, waits for a second operator, then downloads the file once; it names them and the approval."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER

CAMPAIGN = 1


def _approve_as_second_operator(site, approval_id: int) -> None:
    site.run(
        "shell", "-c",
        "from yunying.core.permissions import Actor, Role\n"
        "from yunying.privacy.exports import approval_decide\n"
        f"approval_decide(actor=Actor(kind='user', id=777, label='second', role=Role.STRATEGY), "
        f"approval_id={approval_id}, approve=True)",
    )  # fmt: skip


def test_an_export_in_clear_is_asked_approved_and_downloaded_once(console, site):
    page = console("strategy")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"/console/campaigns/{CAMPAIGN}/report/")
    page.get_by_label("文件格式").select_option("csv")
    page.get_by_label("用途").select_option("prize_delivery")
    page.get_by_role("button", name="申请明文导出").click()
    page.wait_for_url("**/console/audit/exports/")
    assert "已提交导出申请" in page.get_by_role("status").first.inner_text()
    assert page.get_by_text("您自己的申请：须由其他运营人员审批").count() >= 1
    check_page(page, "console-export-requested")
    # a second operator approves
    out = site.run(
        "shell", "-c",
        "import json\nfrom yunying.privacy.models import ExportApproval\n"
        "print(json.dumps(ExportApproval.objects.filter(state='requested').order_by('-id').values_list('id', flat=True)[0]))",
    )  # fmt: skip
    approval_id = json.loads(out.strip().splitlines()[-1])
    _approve_as_second_operator(site, approval_id)
    page.reload()
    check_page(page, "console-export-approved")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载明文文件").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    first = text.splitlines()[0]
    assert first.startswith("# ") and f"#{approval_id}" in first and "导出人 operator，审批人 second" in first
    page.reload()
    assert page.get_by_role("button", name="下载明文文件").count() == 0  # used: no second download
