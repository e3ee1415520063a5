"""Member centre: my points — balance, pending with its date, what expires soon, lots in the order
they are spent, history; only the signed-in member's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import points_earn, points_spend
from yunying.loyalty.models import PostingSource
from yunying.members.models import Member

pytestmark = pytest.mark.django_db


def earn(member, points, key, **kwargs):
    return points_earn(
        member_id=member.pk, points=points, key=key, source=PostingSource.CHECKIN, actor=SYSTEM, **kwargs
    )


def test_the_page_shows_balance_pending_expiring_lots_and_history(member_client, settings):
    settings.LANGUAGE_CODE = "en"
    me = Member.objects.get()
    now = timezone.now()
    earn(me, 100, "soon", expires_at=now + timedelta(days=5))
    earn(me, 300, "later", expires_at=now + timedelta(days=300))
    earn(me, 50, "order", expires_at=None, pending_until=now + timedelta(days=7))
    points_spend(member_id=me.pk, points=40, key="s", source=PostingSource.REDEEM, actor=SYSTEM)
    page = member_client.get("/m/me/points/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="points-balance">360<' in html
    assert "50 points from orders become spendable" in html
    assert "60 points expire within 30 days" in html
    assert html.index("60<span") < html.index(">300<")  # the soonest-expiring lot first
    assert html.count("list-group-item d-flex justify-content-between px-2") == 4  # 3 earnings, 1 spend


def test_another_members_points_never_show(member_client):
    other = Member.objects.create(external_id="someone-else")
    earn(other, 777, "x", expires_at=None)
    page = member_client.get("/m/me/points/")
    assert b"777" not in page.content and b'id="points-balance">0<' in page.content


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/m/me/points/")
    assert response.status_code == 302 and "/m/" in response["Location"]
