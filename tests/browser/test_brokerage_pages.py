"""分销 on a phone and in the console: a visitor follows a partner's promoter link, signs in and is
bound; the member applies to become a promoter, an operator approves, a friend they bring buys, and
"my earnings" shows the held commission; the console's ranking, promoter page and rules."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import consent_and_sign_in

pytestmark = BROWSER

SETUP = """
from yunying.core.permissions import SYSTEM
from yunying.loyalty import brokerage
brokerage.rule_set(category="*", level1_permille=50, level2_permille=0, actor=SYSTEM)
p = brokerage.promoter_create(partner_name="茶友会", actor=SYSTEM)
print(p.code)
"""

APPROVE_AND_SELL = """
from django.utils import timezone
from yunying.commerce.services import order_ingest
from yunying.commerce.validation import order_parse
from yunying.core.permissions import SYSTEM
from yunying.loyalty import brokerage
from yunying.loyalty.models import Promoter
from yunying.members.models import Member
from yunying.members.services import member_resolve
p = Promoter.objects.get(state="applied")
brokerage.promoter_transition(promoter_id=p.pk, state="active", actor=SYSTEM)
friend = Member.objects.create(external_id="browser-friend-1")
brokerage.member_bind(member_id=friend.pk, code=p.code, source="code", actor=SYSTEM)
order_ingest(order=order_parse({"external_id": "BR-SO-1", "member": {"external_id": "browser-friend-1"},
    "paid_at": timezone.now().isoformat(), "lines": [{"sku": "T", "category": "tea", "unit_price_fen": 19900,
    "quantity": 1, "paid_fen": 19900}]}), actor=SYSTEM)
print(p.code)
"""


@pytest.fixture(scope="module")
def partner_code(site) -> str:
    return site.run("shell", "-v0", "-c", SETUP).strip().splitlines()[-1]


def test_a_visitor_is_bound_applies_and_sees_earnings(phone, site, partner_code):
    # the link: who recommends, then sign-in comes back and binds
    phone.goto(f"/m/p/{partner_code}/")
    assert "茶友会" in phone.get_by_role("heading", level=1).inner_text()
    check_page(phone, "h5-promoter-link")
    phone.get_by_role("link", name=re.compile("登录或注册|Sign in or join")).click()
    consent_and_sign_in(phone, site, "13710137011")
    phone.wait_for_url(re.compile(f"/m/p/{partner_code}/"))
    phone.get_by_role("button", name=re.compile("接受推荐|Accept the recommendation")).click()
    expect(phone.locator("#bind-result")).to_be_visible()  # after the POST's page loaded
    check_page(phone, "h5-promoter-bound")
    # my earnings: apply
    phone.goto("/m/me/earnings/")
    phone.get_by_role("button", name=re.compile("申请|Apply")).click()
    phone.wait_for_url(re.compile("/m/me/earnings/"))
    assert phone.locator("#application-state").is_visible()
    # approved; a friend they brought buys 199.00 (5 %: 9.95 held)
    code = site.run("shell", "-v0", "-c", APPROVE_AND_SELL).strip().splitlines()[-1]
    phone.goto("/m/me/earnings/")
    assert phone.locator("#promoter-code").inner_text() == code
    assert "9.95" in phone.locator("#earnings-summary").inner_text()
    check_page(phone, "h5-earnings")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the earnings page scrolls sideways on a phone ({width}px)"


def test_the_console_ranking_promoter_and_rules(console, site, partner_code):
    page = console("strategy")
    page.goto(site.url + "/console/brokerage/")
    assert page.locator("#ranking").is_visible()
    check_page(page, "console-brokerage-ranking")
    page.locator("#ranking a").first.click()
    page.wait_for_url(re.compile("/console/brokerage/promoters/"))
    check_page(page, "console-brokerage-promoter")
    page.goto(site.url + "/console/brokerage/rules/")
    check_page(page, "console-brokerage-rules")
    page.goto(site.url + "/console/brokerage/statements/")
    check_page(page, "console-brokerage-statements")
