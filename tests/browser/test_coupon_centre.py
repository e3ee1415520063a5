"""The coupon centre on a phone (375×812): from my page's tile, a member claims a coupon, finds it under
我的券 with its terms, redeems a code, and exchanges points for a coupon after a confirmation; each
page passes the accessibility, CSP and no-foreign-host checks, with a screenshot."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import consent_and_sign_in

pytestmark = BROWSER

MEMBER = "13925340088"
CODE = "BROWSERH5CODE1"

TEMPLATES = """
from datetime import timedelta
from django.utils import timezone
from yunying.core.permissions import SYSTEM
from yunying.promotions.services import code_batch_create, promotion_create, promotion_transition
from yunying.promotions.terms import promotion_validate

now = timezone.now()
def make(**raw):
    spec, errors = promotion_validate({"starts_at": now - timedelta(minutes=1), **raw})
    assert spec is not None, errors
    p = promotion_create(spec=spec, actor=SYSTEM)
    promotion_transition(promotion_id=p.pk, to="active", actor=SYSTEM)
    return p
make(name="新客满减券", kind="coupon_off", threshold_fen=20000, off_fen=3000, claimable=True, issue_limit=100, valid_days=30)
make(name="全场包邮券", kind="coupon_shipping", issuer="platform", claimable=True, valid_days=2, priority=1)
make(name="积分兑 9 折券", kind="coupon_percent", permille=900, cap_fen=5000, points_price=50, valid_days=15)
coded = make(name="合作伙伴兑换券", kind="coupon_off", off_fen=1000, valid_days=7)
code_batch_create(promotion_id=coded.pk, name="browser", codes=["%(code)s"], actor=SYSTEM)
"""


WITHDRAW = """
from yunying.core.permissions import SYSTEM
from yunying.members.services import member_find
from yunying.promotions.models import Coupon
from yunying.promotions.services import coupon_void

me = member_find(phone="+86%(phone)s")
coupon = Coupon.objects.get(member=me, promotion__name="合作伙伴兑换券")
coupon_void(coupon_id=coupon.pk, actor=SYSTEM, reason="发错了")
"""


@pytest.fixture(scope="module")
def templates(site, demo_promotions_paused):
    site.run("shell", "-v0", "-c", TEMPLATES % {"code": CODE})


def _tab(phone, name: str) -> None:
    """Open a tab (a link to ?tab=…) and wait for its page: checking right after the click could read
    the page being left."""
    phone.locator(f"#tab-{name}").click()
    phone.wait_for_url(re.compile(f"tab={name}"))
    phone.wait_for_load_state()


def test_a_member_claims_a_coupon_redeems_a_code_and_exchanges_points(phone, site, templates):
    phone.goto("/m/me/")
    consent_and_sign_in(phone, site, MEMBER)
    phone.goto("/m/me/")
    assert phone.locator("#coupons-usable").inner_text() == "0"
    check_page(phone, "h5-me-coupons-tile")
    phone.locator("#coupons-link").click()
    phone.wait_for_url(re.compile("/m/me/coupons/"))
    assert phone.get_by_text("你还没有可用的券。").is_visible()
    check_page(phone, "h5-coupons-empty")

    # 可领取: two to claim, with the one left count; claim the 满减 one
    _tab(phone, "claim")
    offer = phone.locator("#coupons-claim article", has_text="新客满减券")
    assert "满¥200减¥30" in offer.inner_text() and "剩 100 张" in offer.inner_text()
    check_page(phone, "h5-coupons-claim")
    offer.get_by_role("button", name=re.compile("领取")).click()
    phone.wait_for_url(re.compile("tab=mine"))
    assert "领取成功" in phone.locator("#coupons-done").inner_text()
    mine = phone.locator("#coupons-mine article")
    assert mine.count() == 1 and "满¥200减¥30" in mine.first.inner_text()
    assert "店铺券" in mine.first.inner_text()
    check_page(phone, "h5-coupons-mine")
    # back on 可领取 it says 已领取
    _tab(phone, "claim")
    assert (
        phone.locator("#coupons-claim article", has_text="新客满减券").locator(".h5-coupon-held").is_visible()
    )

    # 兑换码: a wrong code first, then the right one typed in lower case
    phone.get_by_role("textbox", name="兑换码").fill("NOTACODE123")
    phone.get_by_role("button", name="兑换", exact=True).click()
    assert "兑换码无效" in phone.get_by_role("alert").inner_text()
    check_page(phone, "h5-coupons-code-refused")
    phone.get_by_role("textbox", name="兑换码").fill(CODE.lower())
    phone.get_by_role("button", name="兑换", exact=True).click()
    phone.wait_for_url(re.compile("tab=mine"))
    assert "兑换成功" in phone.locator("#coupons-done").inner_text()
    assert phone.locator("#coupons-mine article").count() == 2

    # 积分兑券: the price and the balance (the demo's 100 welcome points), confirm, spent once
    _tab(phone, "claim")
    phone.locator("#coupons-points article", has_text="积分兑 9 折券").get_by_role(
        "link", name=re.compile("兑换")
    ).click()
    phone.wait_for_url(re.compile("/m/me/coupons/points/"))
    assert phone.locator("#exchange-price").inner_text() == "50 积分"
    assert phone.locator("#exchange-balance").inner_text() == "100"
    assert phone.locator("#exchange-after").inner_text() == "50"
    check_page(phone, "h5-coupon-points-confirm")
    phone.locator("#exchange-confirm").click()
    phone.wait_for_url(re.compile("tab=mine"))
    assert "50 积分" in phone.locator("#coupons-done").inner_text()
    assert phone.locator("#coupons-mine article").count() == 3
    check_page(phone, "h5-coupons-mine-three")

    # 即将过期: nothing claimed ends within three days yet; claim the 2-day free-shipping coupon
    _tab(phone, "claim")
    phone.locator("#coupons-claim article", has_text="全场包邮券").get_by_role("button").click()
    phone.wait_for_url(re.compile("tab=mine"))
    _tab(phone, "soon")
    soon = phone.locator("#coupons-soon article")
    assert (
        soon.count() == 1 and "全场包邮券" in soon.first.inner_text() and "平台券" in soon.first.inner_text()
    )
    check_page(phone, "h5-coupons-soon")
    _tab(phone, "history")
    assert phone.get_by_text("还没有已使用或已过期的券。").is_visible()
    check_page(phone, "h5-coupons-history-empty")

    # 已使用/已过期: a coupon an operator withdrew moves to the history, marked so
    site.run("shell", "-v0", "-c", WITHDRAW % {"phone": MEMBER})
    phone.reload()
    history = phone.locator("#coupons-history article")
    assert history.count() == 1 and "已撤回" in history.first.inner_text()
    check_page(phone, "h5-coupons-history")
