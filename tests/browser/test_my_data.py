"""我的数据 on a phone (375×812): a member sees a support operator's reveal of their data, with its
purpose and the reader's role; exports their data (the JSON downloads, the page shows it); deletes the
account, after which signing in with the same phone makes a fresh account. And 隐私请求 in the console."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import consent_and_sign_in

pytestmark = BROWSER
PHONE = "13700001401"
E164 = "+86" + PHONE

REVEAL = """
from django.contrib.auth.models import User
from yunying.console.access import actor_for
from yunying.core.purposes import reveal_authorize
from yunying.members.services import member_find, member_reveal
actor = actor_for(User.objects.get(username="support"))
member = member_find(phone="%s")
purpose = reveal_authorize(actor, purpose="prize_delivery", note="寄送纪念徽章")
member_reveal(actor=actor, member_id=member.pk, purpose=purpose)
print(member.pk)
"""
MEMBER_ID = """
from yunying.members.services import member_find
print(member_find(phone="%s").pk)
"""
ORDER = """
from yunying.commerce.services import order_ingest
from yunying.commerce.validation import order_parse
from yunying.core.permissions import Actor, Role
order_ingest(order=order_parse({
    "external_id": "SO-MYDATA-1", "member": {"phone": "%s"}, "channel": "app", "paid_at": "2026-11-30T16:30:00+00:00",
    "lines": [{"sku": "TEA-1", "category": "tea", "unit_price_fen": 12800, "quantity": 2, "paid_fen": 25600}],
}), actor=Actor(kind="api_key", id=7, label="storefront", role=Role.INTEGRATION))
"""
SMS_AGAIN = """
from yunying.core.ratelimit import ratelimit_release
from yunying.members.signin import PHONE_LIMITS, _phone_key
for window, _limit in PHONE_LIMITS:  # a minute later: one code a minute per phone
    ratelimit_release(scope=f"signin_phone_{window}", key=_phone_key("%s"), window_seconds=window)
"""


def _shell(site, code: str) -> str:
    out = site.run("shell", "-v0", "-c", code).strip().splitlines()
    return out[-1] if out else ""


def test_a_member_sees_a_reveal_exports_and_deletes_then_signs_in_afresh(phone, site):
    # signed in
    phone.goto("/m/me/")
    consent_and_sign_in(phone, site, PHONE)
    phone.goto("/m/me/")
    phone.locator("#mydata-link").click()
    phone.wait_for_url(re.compile("/m/me/data/"))
    # an operator of the support team reveals the member's data for a prize delivery
    old_id = int(_shell(site, REVEAL % E164))
    phone.reload()
    row = phone.locator(".h5-access-row").first
    assert "我们的客服" in row.inner_text() and "寄送纪念徽章" in row.inner_text()
    assert "奖品" in row.inner_text()  # the purpose's label (prize delivery) before the note
    # what we keep is one line per item on a phone, its why and how long a tap away
    held = phone.locator(".h5-holdings details").first
    assert not held.locator(".small").first.is_visible()
    held.locator("summary").click()
    assert held.locator(".small").first.is_visible() and "原因" in held.inner_text()
    assert "support" not in row.inner_text()
    check_page(phone, "h5-mydata")
    # the JSON download
    with phone.expect_download() as download:
        phone.locator("#export-json").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["holdings"]["members.profile"]["data"]["phone"] == E164
    assert any("寄送纪念徽章" in row["purpose"] for row in data["access_log"])
    # the readable page, with an order of the member's
    _shell(site, ORDER % E164)
    phone.locator("#export-page").click()
    phone.wait_for_url(re.compile("/m/me/data/export/"))
    # folded: one line per holding, so the page is short on a phone (the raw JSON was ~12,400 px)
    sections = phone.locator(".h5-export-section")
    assert sections.count() >= 10
    folded_height = phone.evaluate("document.documentElement.scrollHeight")
    assert folded_height < 1800, folded_height
    check_page(phone, "h5-mydata-export")
    # a section opens into label: value rows, in Chinese and Beijing time, never raw keys or codes
    profile = phone.locator('.h5-export-section[data-key="members.profile"]')
    assert E164 not in profile.inner_text()  # folded
    profile.locator("summary").click()
    text = profile.inner_text()
    assert E164 in text and "手机号" in text and "注册时间" in text
    assert "registered_at" not in text and not re.search(r"\dT\d{2}:\d{2}", text)
    order = phone.locator('.h5-export-section[data-key="commerce.orders"]')
    order.locator("summary").click()
    text = order.inner_text()
    assert "SO-MYDATA-1" in text and "¥256.00" in text and "已支付" in text and "2026-12-01 00:30" in text
    assert "_fen" not in text and "paid_at" not in text
    access = phone.locator('.h5-export-section[data-key="access_log"]')
    access.locator("summary").click()
    assert "寄送纪念徽章" in access.inner_text() and not re.search(r"\dT\d{2}:\d{2}", access.inner_text())
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # nothing runs off the side
    check_page(phone, "h5-mydata-export-open")
    # delete, confirmed
    phone.goto("/m/me/data/delete/")
    check_page(phone, "h5-mydata-delete")
    phone.locator("#confirm-delete").check()
    phone.locator("#delete-confirm").click()
    phone.locator(".h5-erased").wait_for()
    check_page(phone, "h5-mydata-deleted")
    phone.goto("/m/me/")
    assert re.search("/m/(signin|privacy)/", phone.url), phone.url  # signed out
    # the same phone signs in as someone new
    _shell(site, SMS_AGAIN % E164)
    phone.goto("/m/me/")
    consent_and_sign_in(phone, site, PHONE)
    phone.goto("/m/me/data/")
    assert phone.locator(".h5-access-row").count() == 0
    assert int(_shell(site, MEMBER_ID % E164)) != old_id


@pytest.mark.parametrize("role", ["support"])
def test_support_works_the_privacy_request_queue(console, site, role):
    member_id = _shell(site, "from yunying.members.services import member_resolve\n"
                       'print(member_resolve(phone="+8613700001402", external_id=None).pk)')  # fmt: skip
    page = console(role)
    page.goto("/console/privacy/requests/")
    page.locator("#dsr-member").fill(member_id)
    page.locator("#dsr-kind").select_option("access")
    page.locator("#dsr-channel").select_option("phone")
    page.locator("#dsr-details").fill("来电询问保存了哪些信息")
    page.get_by_role("button", name=re.compile("登记请求")).click()
    page.wait_for_load_state()
    row = page.locator("#privacy-requests tbody tr", has_text="来电询问保存了哪些信息")
    assert "剩余工作日：15" in row.inner_text()
    check_page(page, "console-privacy-requests")
    row.locator("form[action$='/decide/'] input[name=note]").fill("已电话告知")
    row.get_by_role("button", name="办理").click()
    page.wait_for_load_state()
    assert page.locator("#privacy-requests tbody tr", has_text="来电询问保存了哪些信息").count() == 0
    page.goto("/console/privacy/requests/?status=done")
    assert "已电话告知" in page.locator("#privacy-requests").inner_text()
