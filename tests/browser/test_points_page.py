"""My points on a phone (375×812): a member whose points came from check-ins, an order still in its
return window and a redemption sees the balance, the pending points with their date, what expires soon
and the history, reached from my page."""

from __future__ import annotations

import re

from tests.browser.conftest import BROWSER, check_page
from tests.browser.test_member_pages import consent_and_sign_in

pytestmark = BROWSER

MEMBER = "13970340077"

POINTS = """
from datetime import timedelta
from django.utils import timezone
from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import points_earn, points_spend
from yunying.loyalty.models import PostingSource
from yunying.members.services import member_find

me = member_find(phone="+86%(phone)s")
now = timezone.now()
earn = dict(member_id=me.pk, actor=SYSTEM)
points_earn(points=120, key="bp-1", source=PostingSource.CHECKIN, expires_at=now + timedelta(days=12), **earn)
points_earn(points=500, key="bp-2", source=PostingSource.TASK, expires_at=now + timedelta(days=380), memo="新人任务", **earn)
points_earn(points=199, key="bp-3", source=PostingSource.ORDER, expires_at=now + timedelta(days=400),
            pending_until=now + timedelta(days=7), memo="SO-2026 #1 TEA-1", **earn)
points_spend(points=100, key="bp-4", source=PostingSource.REDEEM, member_id=me.pk, actor=SYSTEM, memo="兑换 茶具")
"""


def test_a_member_reads_their_points(phone, site):
    phone.goto("/m/me/")
    consent_and_sign_in(phone, site, MEMBER)
    site.run("shell", "-v0", "-c", POINTS % {"phone": MEMBER})
    phone.goto("/m/me/")
    phone.get_by_role("link", name="积分").first.click()
    phone.wait_for_url(re.compile("/m/me/points/"))
    assert phone.locator("#points-balance").inner_text() == "620"  # with the demo rules' 100 welcome points
    assert "199" in phone.locator("#points-pending").inner_text()
    assert "20 积分将在 30 天内过期" in phone.locator("#points-expiring").inner_text()
    assert phone.locator("#points-history li").count() == 5
    check_page(phone, "h5-points")
