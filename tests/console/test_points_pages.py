"""Points for operators: the member 360 page's points section, adjusting with a reason, the approval
queue (another operator decides), the liabilities report, and who may do each."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.console.conftest import make_operator, sign_in
from yunying.core.permissions import SYSTEM, Actor, Role
from yunying.loyalty.earning import EARNER
from yunying.loyalty.ledger import points_earn
from yunying.loyalty.models import AdjustmentState, PointAccount, PointAdjustment, PostingSource
from yunying.members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(settings):
    settings.LOYALTY_ADJUST_APPROVAL_THRESHOLD = 1000
    member = Member.objects.create(external_id="p360")
    points_earn(
        member_id=member.pk, points=300, key="e", source=PostingSource.CHECKIN, actor=SYSTEM, expires_at=None
    )
    return member


def balance(member) -> int:
    return PointAccount.objects.get(member=member).balance


def test_the_360_page_shows_points_and_support_adjusts_with_a_reason(console_as, member):
    client = console_as(Role.SUPPORT)
    page = client.get(f"/console/members/{member.pk}/")
    assert b'id="member-points-balance">300<' in page.content and b'id="points-adjust-form"' in page.content
    refused = client.post(
        f"/console/members/{member.pk}/points/adjust/", {"points": "50", "reason": " "}, follow=True
    )
    assert balance(member) == 300 and refused.status_code == 200
    client.post(f"/console/members/{member.pk}/points/adjust/", {"points": "-50", "reason": "重复发放"})
    assert balance(member) == 250
    for bad in ("abc", "1.5", "0", "99999999999"):
        client.post(f"/console/members/{member.pk}/points/adjust/", {"points": bad, "reason": "x"})
    assert balance(member) == 250


def test_a_large_adjustment_is_approved_by_another_operator(console_as, member):
    requester = console_as(Role.STRATEGY)
    requester.post(f"/console/members/{member.pk}/points/adjust/", {"points": "5000", "reason": "客诉补偿"})
    adjustment = PointAdjustment.objects.get()
    assert adjustment.state == AdjustmentState.REQUESTED and balance(member) == 300
    queue = requester.get("/console/loyalty/adjustments/")
    assert b'id="adjustment-queue"' in queue.content
    requester.post(f"/console/loyalty/adjustments/{adjustment.pk}/decide/", {"decision": "approve"})
    assert balance(member) == 300  # not their own
    second = make_operator(Role.STRATEGY, username="second-director", with_totp=True)
    other = Client()
    sign_in(other, second)
    other.post(f"/console/loyalty/adjustments/{adjustment.pk}/decide/", {"decision": "approve"})
    assert balance(member) == 5300


def test_liabilities_report(console_as, member):
    page = console_as(Role.EXECUTION).get("/console/loyalty/liabilities/")
    assert page.status_code == 200 and b'id="liability-balance">300<' in page.content


@pytest.mark.parametrize("role", [Role.AUDITOR])
def test_roles_without_loyalty_permissions(console_as, member, role):
    client = console_as(role)
    assert client.get("/console/loyalty/liabilities/").status_code == 403
    assert (
        client.post(
            f"/console/members/{member.pk}/points/adjust/", {"points": "5", "reason": "x"}
        ).status_code
        == 403
    )
    assert balance(member) == 300


def test_execution_cannot_approve(console_as, member):
    client = console_as(Role.EXECUTION)
    assert client.get("/console/loyalty/adjustments/").status_code == 403


@pytest.mark.parametrize(
    ("actor", "words"),
    [
        (EARNER, "系统自动发放积分"),
        (SYSTEM, "系统"),
        (Actor(kind="system", id=None, label="loyalty birthday"), "系统生日礼遇"),
    ],
    ids=["earning", "system", "birthday"],
)
def test_the_points_history_names_system_actors_in_words(console_as, actor, words):
    """The 操作人 column showed "loyalty earning" (new user review); the code stays in the title."""
    # given
    member = Member.objects.create(external_id="p360-actor")
    points_earn(
        member_id=member.pk, points=10, key="a", source=PostingSource.CHECKIN, actor=actor, expires_at=None
    )
    # when
    page = console_as(Role.SUPPORT).get(f"/console/members/{member.pk}/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    # then
    assert f'<td title="{actor.label}">{words}</td>' in page.content.decode()
