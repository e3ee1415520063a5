"""An operator runs a breach drill end to end in the console (issue 14, S6): opens the incident, assigns
and finishes the investigation, adds the affected members, edits and sends the notice (kept in the
outbox as a drill), gives the compensation (nothing real issued), and opens the report draft. Every
page passes the CSP and axe checks; screenshots under test-output/screenshots/breach-*.png."""

from __future__ import annotations

import json
import re

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER

MEMBERS = """
import json
from yunying.members.models import Member
print(json.dumps(list(Member.objects.order_by("id").values_list("id", flat=True)[:3])))
"""

OUTBOX = """
import json
from yunying.notify.models import OutboxMessage
from yunying.privacy.models import BreachAffected, BreachIncident
from yunying.promotions.models import Coupon
from yunying.loyalty.models import MemberTier
incident = BreachIncident.objects.get(title="{title}")
rows = OutboxMessage.objects.filter(ref=f"breach-drill:{{incident.pk}}")
print(json.dumps({{"outbox": rows.count(), "drill": all(m.context.get("drill") for m in rows),
    "real": OutboxMessage.objects.filter(ref=f"breach:{{incident.pk}}").count(),
    "compensated": list(BreachAffected.objects.filter(incident=incident).values_list("compensation", flat=True)),
    "coupons": Coupon.objects.filter(source_ref=f"breach:{{incident.pk}}").count()}}))
"""

TITLE = "演练：客服导出文件外泄"


def _step_row(page, kind: str):
    return page.locator(f"#runbook tr[data-step={kind}]")


def test_an_operator_runs_a_breach_drill_end_to_end(console, site):
    page = console("strategy")
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations before sending and issuing
    member_ids = json.loads(site.run("shell", "-v0", "-c", MEMBERS))

    # the section, and opening a drill: the clock starts
    page.goto("/console/breach/")
    assert page.get_by_role("heading", level=1).inner_text() == "数据泄露应急"
    check_page(page, "breach-list")
    page.locator("#id_title").fill(TITLE)
    page.locator("#id_is_drill").check()
    page.locator("input[name=data_kinds][value=phone]").check()
    page.locator("input[name=data_kinds][value=name]").check()
    page.locator("#id_contact").fill("客服热线 400-800-1234")
    page.locator("form button[type=submit].btn-danger").click()
    page.wait_for_url(re.compile(r"/console/breach/\d+/$"))
    assert "演练" in page.locator("h1").inner_text()
    clock = _step_row(page, "investigate").locator(".breach-clock")
    # the clocks run from the discovery (the form's default: this minute)
    assert re.search(r"剩余 (5\d|60) 分钟|剩余 1 小时 00 分钟", clock.inner_text()), clock.inner_text()
    assert "自发现时间" in page.locator("#runbook-basis").inner_text()
    assert re.search(
        r"剩余 23 小时 5\d 分钟", _step_row(page, "notify").locator(".breach-clock").inner_text()
    )
    check_page(page, "breach-incident-opened")

    # assign the investigation and finish it with notes
    row = _step_row(page, "investigate")
    row.locator("select[name=assignee]").select_option(label="operator")
    row.locator("button", has_text="分派").click()
    page.wait_for_load_state()
    assert (
        _step_row(page, "investigate").locator("select[name=assignee] option[selected]").inner_text()
        == "operator"
    )
    page.locator("#id_cause").fill("共享盘链接未设权限")
    page.locator("#id_measures").fill("已撤销链接并轮换导出权限")
    page.locator("#facts button[type=submit]").click()
    page.wait_for_load_state()
    row = _step_row(page, "investigate")
    row.locator("textarea").fill("确认泄露范围：3 名会员的手机号与姓名")
    row.locator("button", has_text="标记完成").click()
    page.wait_for_load_state()
    assert "按时完成" in _step_row(page, "investigate").inner_text()

    # the affected members: a count and masked samples only
    if not page.locator("#id_member_ids").is_visible():
        page.locator("#affected summary").click()
    page.locator("#id_member_ids").fill(" ".join(map(str, member_ids)))
    page.locator("#affected form button[name=preview]").click()
    page.wait_for_load_state()
    assert f"共找到 {len(member_ids)} 名会员" in page.locator("#affected-preview").inner_text()
    assert page.locator("#affected-total").inner_text() == "0"  # a preview stores nothing
    check_page(page, "breach-affected-preview")
    page.locator("#affected form button", has_text="添加会员").click()
    page.wait_for_load_state()
    assert page.locator("#affected-total").inner_text() == str(len(member_ids))
    samples = page.locator("#affected-samples tbody").inner_text()
    assert "*" in samples and not re.search(r"1\d{10}", samples)

    # the notice: drafted from the incident, edited, sent (a drill: kept in the outbox)
    assert "手机号" in page.locator("#id_notice_data").input_value()
    page.locator("#id_notice_advice").fill("请警惕冒充客服的来电，我们不会索要验证码。")
    page.locator("#notice form button", has_text="保存通知").click()
    page.wait_for_load_state()
    assert "冒充客服" in page.locator("#notice-preview").inner_text()
    page.locator("#notice form button", has_text="发送通知").click()
    page.wait_for_load_state()
    assert page.locator("#notice-sent").is_visible()
    check_page(page, "breach-notice-sent")

    # the compensation: a membership extension; the drill issues nothing
    page.locator("input[name=kind][value=extension]").check()
    page.locator("#id_days").fill("30")
    page.locator("#compensation form button", has_text="选择").click()
    page.wait_for_load_state()
    page.locator("#compensation form button", has_text="发放补偿").click()
    page.wait_for_load_state()
    for kind, note in (("notify", "通知已发出"), ("compensate", "补偿已发放")):
        row = _step_row(page, kind)
        row.locator("textarea").fill(note)
        row.locator("button", has_text="标记完成").click()
        page.wait_for_load_state()
    assert (
        f"演练：{len(member_ids)} 人，未实际发放" in page.locator("#affected").inner_text()
    )  # a drill issues nothing
    # the report to the regulator is not done: the incident cannot be closed yet, and the page says why
    blockers = page.locator("#close-blockers").inner_text()
    assert "向监管部门报告" in blockers and "内部排查" not in blockers
    assert page.get_by_role("button", name="结案").is_disabled()
    check_page(page, "breach-incident-done")

    state = json.loads(site.run("shell", "-v0", "-c", OUTBOX.format(title=TITLE)))
    assert state["outbox"] == len(member_ids) and state["drill"] and state["real"] == 0
    assert state["compensated"] == ["drill"] * len(member_ids) and state["coupons"] == 0

    # the report draft, printable
    page.locator("a", has_text="打开报告草稿").click()
    page.wait_for_load_state()
    report = page.locator("#report").inner_text()
    assert "共享盘链接未设权限" in report and "400-800-1234" in report
    assert page.locator("#report-affected").inner_text() == str(len(member_ids))
    assert "内部排查" in page.locator("#report-timeline").inner_text()
    check_page(page, "breach-report")
