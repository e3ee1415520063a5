"""Incentives on a phone (375×812): a member checks in and sees the streak and the calendar, completes
a task (a first order, sent as the storefront would) and sees the progress, invites a friend whose
first order passes its return window, and sees the reward once the settling job ran."""

from __future__ import annotations

import re

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import consent_and_sign_in

pytestmark = BROWSER

MEMBER = "13930340011"

ORDER_AND_INVITE = """
from datetime import timedelta
from django.utils import timezone
from yunying.commerce.services import order_ingest
from yunying.commerce.validation import order_parse
from yunying.core.activity import Activity, ActivityKind, activity_publish
from yunying.core.permissions import SYSTEM
from yunying.loyalty.referrals import referrals_settle_due
from yunying.loyalty.tasks import first_orders_due
from yunying.members.models import Member
from yunying.members.services import member_find

def order(ref, member, external_id):
    order_ingest(actor=SYSTEM, order=order_parse({
        "external_id": external_id, "member": ref, "channel": "app",
        "paid_at": timezone.now().isoformat(),
        "lines": [{"sku": "TEA-1", "category": "tea", "unit_price_fen": 5000, "quantity": 1, "paid_fen": 5000}]}))

me = member_find(phone="+86%(phone)s")
order({"phone": "+86%(phone)s"}, me, "BR-INC-1")
friend = Member.objects.create(external_id="br-friend-1", invited_by=me)
activity_publish(Activity(ActivityKind.MEMBER_REGISTERED, friend.pk, str(friend.pk), timezone.now(), {"inviter_id": me.pk}))
order({"external_id": "br-friend-1"}, friend, "BR-INC-2")
# the orders' return window (7 days in the demo) has passed: the jobs run as they would then
print(referrals_settle_due(timezone.now() + timedelta(days=8)), first_orders_due(timezone.now() + timedelta(days=8)))
"""


def test_check_in_complete_a_task_and_see_the_invite_reward(phone, site):
    phone.goto("/m/me/")
    consent_and_sign_in(phone, site, MEMBER)
    phone.goto("/m/me/")
    phone.get_by_role("link", name="签到").click()
    phone.wait_for_url(re.compile("/m/me/checkin/"))
    check_page(phone, "h5-checkin-before")
    phone.get_by_role("button", name="签到").click()
    phone.wait_for_url(re.compile("done="))
    assert phone.get_by_text("签到成功！+5 积分").is_visible()
    assert phone.locator(".h5-streak").get_attribute("data-streak") == "1"
    assert phone.locator("td[data-checked='1']").count() == 1
    assert phone.get_by_role("button", name="签到").count() == 0  # once a day
    check_page(phone, "h5-checkin-done")

    # a first order (and a friend's) arrive from the storefront; the settling job runs
    out = site.run("shell", "-v0", "-c", ORDER_AND_INVITE % {"phone": MEMBER})
    assert "'paid': 1" in out, out

    phone.goto("/m/me/tasks/")
    task = phone.locator(".h5-task[data-kind=first_order]")
    assert task.get_attribute("data-done") == "1"
    assert phone.locator(".h5-task[data-kind=invited_friend]").get_attribute("data-done") == "1"
    check_page(phone, "h5-tasks")

    phone.goto("/m/me/invite/")
    assert phone.locator(".h5-invitees").inner_text() == "1"
    assert phone.locator(".h5-referral-points").inner_text() == "500"
    assert phone.locator(".h5-invitee[data-status=paid]").count() == 1
    phone.get_by_role("button", name="复制").click()
    assert phone.get_by_role("button", name="已复制").is_visible()
    check_page(phone, "h5-invite")


def test_an_operator_edits_the_check_in_rewards_and_sees_the_review_queue(console):
    page = console("strategy")
    page.goto("/console/")
    page.get_by_role("link", name="激励").first.click()
    page.wait_for_url(re.compile("/console/loyalty/incentives/"))
    assert page.locator("input[name=name]").first.input_value() == "新人任务"  # the demo's list
    page.locator("#rewards").fill("10, 10, 10, 10, 10, 10, 50")
    page.get_by_role("button", name="保存签到奖励").click()
    page.wait_for_load_state()
    assert page.get_by_text("签到奖励已保存。").is_visible()
    assert page.locator("#rewards").input_value() == "10, 10, 10, 10, 10, 10, 50"
    check_page(page, "console-incentives")
    page.locator("#rewards").fill("5, 5, 5, 5, 5, 5, 30")  # back to the demo's table for the member test
    page.get_by_role("button", name="保存签到奖励").click()
    page.wait_for_load_state()
    page.goto("/console/loyalty/referrals/")
    check_page(page, "console-referral-review")
