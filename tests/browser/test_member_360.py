"""The member list, the member 360 page and the tags page in a real browser on the demo data: each
passes axe-core, the CSP and the no-foreign-host check; a tag is put on and taken off through htmx;
a reveal with a purpose shows the profile and then appears in "who accessed their data"."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import BROWSER, check_page

pytestmark = BROWSER


def _busy_member(site) -> int:
    """The demo member with the most orders who also has a sign-up and a tag."""
    out = site.run(
        "shell", "-c",
        "import json\n"
        "from django.db.models import Count\n"
        "from yunying.members.models import Member\n"
        "m = (Member.objects.filter(signups__isnull=False, tag_links__isnull=False)"
        ".annotate(n=Count('orders', distinct=True)).order_by('-n', 'pk').first())\n"
        "print(json.dumps({'id': m.pk}))",
    )  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])["id"]


def test_the_member_list_filters_by_tag_and_opens_the_360_page(console, site):
    page = console("execution")
    page.goto("/console/members/all/")
    check_page(page, "console-member-list")
    page.get_by_label("标签").select_option("VIP")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    rows = page.locator("#member-list tbody tr")
    assert rows.count() >= 1
    assert all("VIP" in rows.nth(i).inner_text() for i in range(rows.count()))
    assert re.search(r"1\d\d\*\*\*\*\d{4}", rows.first.inner_text())  # masked phone
    rows.first.get_by_role("link").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=re.compile("会员 \\d+")).is_visible()


def test_the_360_page_shows_orders_sign_ups_tags_and_the_timeline(console, site):
    member_id = _busy_member(site)
    page = console("support")
    page.goto(f"/console/members/{member_id}/")
    for section in ("资料", "来源", "标签", "订单", "报名名单", "时间线", "谁查看过其个人信息"):
        assert page.get_by_role("heading", name=section, exact=True).first.is_visible(), section
    assert page.locator("#member-orders tbody tr").count() >= 2
    assert page.locator("#member-signups tbody tr").count() >= 1
    assert page.locator("#member-timeline li").count() >= 3
    assert "*" in page.locator("#member-phone").inner_text()
    check_page(page, "console-member-360")

    # a tag put on and taken off without leaving the page (htmx swaps the card)
    card = page.locator("#tags-card")
    card.get_by_label("要添加的标签").select_option("客诉跟进")
    card.get_by_role("button", name="添加标签").click()
    expect(page.locator("#tags-card .badge", has_text="客诉跟进")).to_be_visible()
    page.locator("#tags-card").get_by_role("button", name="移除标签 客诉跟进").click()
    expect(page.locator("#tags-card .badge", has_text="客诉跟进")).to_have_count(0)

    # a reveal with a purpose, then the access row on the masked page
    page.get_by_label("用途").select_option("customer_service")
    page.get_by_role("button", name="查看明文").click()
    page.wait_for_load_state()
    assert "*" not in page.locator("#member-phone").inner_text()
    check_page(page, "console-member-360-revealed")
    page.goto(f"/console/members/{member_id}/")
    accesses = page.locator("#member-accesses tbody").inner_text()
    assert "support" in accesses and "客户服务：会员请求帮助" in accesses and "客服" in accesses


def test_the_tags_page(console):
    page = console("execution")
    page.goto("/console/tags/")
    assert page.locator("#tag-list tbody tr").count() >= 3
    page.get_by_role("region", name="新建标签").get_by_label("标签名").fill("浏览器测试标签")
    page.get_by_role("button", name="创建").click()
    page.wait_for_load_state()
    assert "浏览器测试标签" in page.locator("#tag-list").inner_text()
    check_page(page, "console-tags")
