"""Risk control on a phone (375×812): a member whose phone is on the block list signs up, reads why in
Chinese, asks for a human review with a note and is told a person will look."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import CREATE, consent_and_sign_in

pytestmark = BROWSER

PHONE = "13600136021"

BLOCK = f"""
from yunying.core.permissions import SYSTEM
from yunying.risk.services import list_entry_add
list_entry_add(kind="phone", value="{PHONE}", verdict="block", note="browser test", actor=SYSTEM)
"""

ASKED = """
import json
from yunying.risk.models import Case, Decision
d = Decision.objects.filter(entry="signup.create").order_by("-pk").first()
c = Case.objects.filter(decision=d).first()
print(json.dumps({"fill_ms": d.signals.get("fill_ms"), "device": d.signals.get("device.events_1h"),
                  "asked": bool(c and c.asked_by_member), "note": c.member_note if c else None}))
"""


@pytest.fixture(scope="module")
def campaign_id(site) -> int:
    return int(site.run("shell", "-v0", "-c", CREATE).strip().splitlines()[-1])


def test_a_blocked_member_reads_why_and_asks_for_a_human_review(phone, site, campaign_id):
    phone.goto(f"/m/c/{campaign_id}/signup/")
    consent_and_sign_in(phone, site, PHONE)
    site.run("shell", "-v0", "-c", BLOCK)  # after sign-in: a blocked phone gets no code at all

    phone.goto(f"/m/c/{campaign_id}/signup/")
    phone.get_by_label(re.compile("出生日期")).fill("1990-05-01")
    phone.get_by_label("L", exact=True).check()
    phone.wait_for_timeout(1600)  # a person's pace: the form timer is one of the signals
    phone.get_by_role("button", name="提交").click()

    panel = phone.locator("section.h5-risk")
    panel.wait_for()
    assert "自动安全检查" in panel.inner_text() and "在禁止名单上" in panel.inner_text()
    assert phone.locator("form[data-fill-timer]").count() == 0  # the form gives way to the explanation
    check_page(phone, "h5-risk-blocked")

    phone.get_by_label(re.compile("补充说明")).fill("这是我本人的号码，请帮忙看看。")
    phone.get_by_role("button", name="申请人工复核").click()
    phone.get_by_text("已提交人工复核申请").wait_for()
    assert "通知您" in phone.locator("main").inner_text()
    check_page(phone, "h5-risk-review-asked")

    recorded = json.loads(site.run("shell", "-v0", "-c", ASKED).strip().splitlines()[-1])
    assert recorded["asked"] and recorded["note"] == "这是我本人的号码，请帮忙看看。"
    assert recorded["fill_ms"] >= 1500  # measured by the page's script
    assert recorded["device"] >= 1  # the device cookie reached risk control
