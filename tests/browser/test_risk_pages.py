"""Risk control on a phone (375×812): a member whose phone is on the block list signs up, reads why in
Chinese, asks for a human review with a note and is told a person will look."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import CREATE, consent_and_sign_in, sms_code

pytestmark = BROWSER

PHONE = "13675136021"

BLOCK = f"""
from yunying.core.permissions import SYSTEM
from yunying.risk.services import list_entry_add
list_entry_add(kind="phone", value="{PHONE}", verdict="block", note="browser test", actor=SYSTEM)
"""

ASKED = """
import json
from yunying.risk.models import Case, Decision
# the case the member asked about (the newest decision of a shared site need not be it)
c = Case.objects.filter(asked_by_member=True, decision__entry="signup.create").order_by("-pk").first()
d = c.decision if c else Decision.objects.none().first()
print(json.dumps({"fill_ms": d.signals.get("fill_ms") if d else None, "device": d.signals.get("device.events_1h") if d else 0,
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


CHALLENGE_ON = """
from yunying.core.permissions import SYSTEM
from yunying.risk.models import RuleVersion
from yunying.risk.services import rule_version_create, rule_version_set_state
live = RuleVersion.objects.filter(state="live").values_list("number", flat=True).first()
rule = {"key": "browser_check", "label": "Many verification codes asked for one number", "points": 0,
        "action": "challenge", "entries": ["signup.create"],
        "when": {"signal": "channel", "op": "==", "value": "h5"}}
v = rule_version_create(rules={"thresholds": {"challenge": 101, "review": 101, "block": 101}, "rules": [rule]},
                        reason="browser test", based_on=None, actor=SYSTEM)
rule_version_set_state(number=v.number, state="live", actor=SYSTEM)
print(v.number, live or 0)
"""

CHALLENGE_OFF = """
from yunying.core.permissions import SYSTEM
from yunying.risk.services import rule_version_set_state
rule_version_set_state(number={mine}, state="retired", actor=SYSTEM)
if {before}:
    rule_version_set_state(number={before}, state="live", actor=SYSTEM)
"""


def test_a_challenged_member_passes_the_sms_check_and_is_signed_up(new_phone, site, campaign_id):
    page = new_phone()
    number = "13680136022"
    page.goto(f"/m/c/{campaign_id}/signup/")
    consent_and_sign_in(page, site, number)
    mine, before = site.run("shell", "-v0", "-c", CHALLENGE_ON).strip().splitlines()[-1].split()
    try:
        page.goto(f"/m/c/{campaign_id}/signup/")
        page.get_by_label(re.compile("出生日期")).fill("1990-05-01")
        page.get_by_label("M", exact=True).check()
        page.get_by_role("button", name="提交").click()
        page.wait_for_url(re.compile(f"/m/c/{campaign_id}/signup/verify/"))
        assert "136****6022" in page.locator("main").inner_text()
        check_page(page, "h5-risk-challenge")
        site.run(
            "shell", "-v0", "-c", "from yunying.core.ratelimit import ratelimit_reset; ratelimit_reset()"
        )
        page.get_by_role("button", name="获取验证码").click()
        page.get_by_label(re.compile("验证码")).wait_for()
        check_page(page, "h5-risk-challenge-code")
        page.get_by_label(re.compile("验证码")).fill(sms_code(site, "+86" + number))
        page.get_by_role("button", name="验证并提交").click()
        page.wait_for_url(re.compile("/m/me/s/su_"))
        assert page.locator("[data-status]").get_attribute("data-status") == "confirmed"
    finally:
        site.run("shell", "-v0", "-c", CHALLENGE_OFF.format(mine=mine, before=before))
