"""Segments in the browser: an operator builds a segment (Zhejiang members) and sees its live count,
saves it, looks at the RFM and lifecycle page, makes the segment a campaign's eligibility target in
the editor; a member inside signs up, a member outside is refused with the segment reason."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import consent_and_sign_in

pytestmark = BROWSER

INSIDE, OUTSIDE = "13715137101", "13720137102"

SETUP = f"""
from datetime import timedelta
from django.utils import timezone
from yunying.campaigns.services.lifecycle import campaign_create
from yunying.core.permissions import SYSTEM
from yunying.members.models import Member
from yunying.members.services import Profile, member_resolve
member_resolve(phone="+86{INSIDE}", external_id=None, profile=Profile(region_code="330106"))
member_resolve(phone="+86{OUTSIDE}", external_id=None, profile=Profile(region_code="440300"))
now = timezone.now()
c = campaign_create(actor=SYSTEM, values=dict(
    title="浙江会员专场", theme="人群测试", type="offline_event", rules_text="仅限浙江会员人群。",
    reward_description="纪念徽章", signup_start_at=now - timedelta(minutes=1), signup_end_at=now + timedelta(days=3),
    event_start_at=now + timedelta(days=5), event_end_at=now + timedelta(days=5, hours=2), capacity=50,
    channels=["h5"], eligibility={{}},
    form=[{{"key": "size", "label": "T恤尺码", "type": "single_choice", "required": True,
           "options": [{{"value": "m", "label": "M"}}, {{"value": "l", "label": "L"}}]}}]))
print(c.pk, Member.objects.filter(region_code__startswith="33").count())
"""

PUBLISH = """
from yunying.campaigns.services.lifecycle import campaign_publish
from yunying.core.permissions import SYSTEM
campaign_publish(campaign_id={campaign_id}, actor=SYSTEM)
"""


@pytest.fixture(scope="module")
def prepared(site) -> tuple[int, int]:
    """(draft campaign id, how many members are in Zhejiang)."""
    campaign_id, zhejiang = site.run("shell", "-v0", "-c", SETUP).strip().splitlines()[-1].split()
    return int(campaign_id), int(zhejiang)


def test_build_a_segment_and_target_a_campaign_with_it(site, console, new_phone, prepared):
    campaign_id, zhejiang = prepared
    page = console("execution")
    # the builder: the count follows what the operator types
    page.goto("/console/segments/new/")
    page.locator("#id_name").fill("浙江会员")
    page.locator("#id_regions").fill("33")
    page.locator("[data-testid=segment-count]").filter(has_text=str(zhejiang)).wait_for()
    page.locator("#id_age_min").fill("30")
    page.locator("#id_age_max").fill("20")
    page.locator("[data-testid=segment-count-errors]").wait_for()
    page.locator("#id_age_min").fill("")
    page.locator("#id_age_max").fill("")
    page.locator("[data-testid=segment-count]").filter(has_text=str(zhejiang)).wait_for()
    check_page(page, "console-segment-builder")
    page.get_by_role("button", name="保存并计算").click()
    page.wait_for_url(re.compile(r"/console/segments/\d+/$"))
    assert page.locator("[data-testid=segment-members]").inner_text() == str(zhejiang)
    check_page(page, "console-segment-detail")
    page.goto("/console/segments/")
    check_page(page, "console-segment-list")
    # RFM and lifecycle (recompute first, so the charts have data)
    page.goto("/console/segments/insights/")
    page.get_by_role("button", name="立即重算 RFM").click()
    page.wait_for_load_state()
    page.locator("[data-testid=rfm-chart] svg").first.wait_for()
    page.locator("[data-testid=lifecycle-chart] svg").first.wait_for()
    check_page(page, "console-segment-insights")
    # the campaign's eligibility: only this segment
    page.goto(f"/console/campaigns/{campaign_id}/edit/eligibility/")
    page.locator("[data-testid=eligibility-segments]").get_by_label("浙江会员").first.check()
    check_page(page, "console-campaign-eligibility-segment")
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url(re.compile(r"/edit/notifications/$"))
    site.run("shell", "-v0", "-c", PUBLISH.format(campaign_id=campaign_id))
    # a member in the segment signs up; one outside is refused with the reason
    for phone_number, allowed in ((INSIDE, True), (OUTSIDE, False)):
        member_page = new_phone()
        member_page.goto(f"/m/c/{campaign_id}/signup/")
        consent_and_sign_in(member_page, site, phone_number)
        member_page.wait_for_url(re.compile(f"/m/c/{campaign_id}/signup/"))
        member_page.get_by_label("L", exact=True).check()
        member_page.get_by_role("button", name="提交").click()
        member_page.wait_for_load_state()
        if allowed:
            member_page.wait_for_url(re.compile("/m/me/s/su_"))
            assert member_page.locator("[data-status]").get_attribute("data-status") == "confirmed"
        else:
            alert = member_page.locator('[data-code="signup.ineligible"]')
            assert alert.is_visible()
            assert alert.locator('[data-code="eligibility.not_in_segment"]').count() == 1
            check_page(member_page, "h5-signup-not-in-segment")
