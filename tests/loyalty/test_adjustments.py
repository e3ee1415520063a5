"""Manual points adjustments: a reason always, audited; small ones post at once; large ones wait for
a second operator (never the requester); a deduction never takes the balance below zero."""

from __future__ import annotations

import pytest

from yunying.core.audit import AuditEntry
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Actor, Role
from yunying.loyalty.adjustments import adjustment_decide, adjustment_request
from yunying.loyalty.ledger import ledger_reconcile
from yunying.loyalty.models import AdjustmentState, PointAccount
from yunying.members.models import Member

pytestmark = pytest.mark.django_db
SUPPORT = Actor(kind="user", id=11, label="客服小王", role=Role.SUPPORT)
DIRECTOR = Actor(kind="user", id=12, label="总监", role=Role.STRATEGY)
OTHER_DIRECTOR = Actor(kind="user", id=13, label="副总监", role=Role.STRATEGY)


@pytest.fixture
def member(settings):
    settings.LOYALTY_ADJUST_APPROVAL_THRESHOLD = 1000
    return Member.objects.create(external_id="adj-1")


def balance(member) -> int:
    account = PointAccount.objects.filter(member=member).first()
    return account.balance if account else 0


def test_a_small_adjustment_posts_at_once_with_its_reason_audited(member):
    adjustment = adjustment_request(member_id=member.pk, points=200, reason="补发签到积分", actor=SUPPORT)
    assert adjustment.state == AdjustmentState.DONE and balance(member) == 200
    entry = AuditEntry.objects.get(action="loyalty.adjust")
    assert entry.reason == "补发签到积分"
    adjustment_request(member_id=member.pk, points=-50, reason="重复补发", actor=SUPPORT)
    assert balance(member) == 150
    assert ledger_reconcile() == []


def test_a_large_adjustment_waits_for_a_second_operator(member):
    adjustment = adjustment_request(member_id=member.pk, points=5000, reason="客诉补偿", actor=DIRECTOR)
    assert adjustment.state == AdjustmentState.REQUESTED and balance(member) == 0
    with pytest.raises(DomainError) as refused:
        adjustment_decide(adjustment_id=adjustment.pk, approve=True, actor=DIRECTOR)
    assert refused.value.code == "loyalty.same_person"
    with pytest.raises(DomainError) as refused:
        adjustment_decide(adjustment_id=adjustment.pk, approve=True, actor=SUPPORT)
    assert refused.value.code == "core.permission_denied"
    # a key (whose id may even differ from the requester's) is nobody the rule can tell apart
    for stand_in in (Actor(kind="api_key", id=99, label="key", role=Role.STRATEGY), SYSTEM):
        with pytest.raises(DomainError) as refused:
            adjustment_decide(adjustment_id=adjustment.pk, approve=True, actor=stand_in)
        assert refused.value.code in ("loyalty.same_person", "core.permission_denied")
    assert balance(member) == 0
    adjustment_decide(adjustment_id=adjustment.pk, approve=True, actor=OTHER_DIRECTOR)
    assert balance(member) == 5000
    with pytest.raises(DomainError) as refused:
        adjustment_decide(adjustment_id=adjustment.pk, approve=True, actor=OTHER_DIRECTOR)
    assert refused.value.code == "loyalty.adjustment_decided"
    assert balance(member) == 5000


def test_a_rejected_adjustment_posts_nothing(member):
    adjustment = adjustment_request(member_id=member.pk, points=-5000, reason="追回", actor=SUPPORT)
    adjustment_decide(adjustment_id=adjustment.pk, approve=False, actor=DIRECTOR, note="证据不足")
    adjustment.refresh_from_db()
    assert adjustment.state == AdjustmentState.REJECTED and adjustment.posting is None


@pytest.mark.parametrize(
    ("points", "reason", "code"),
    [
        (0, "x", "loyalty.points_invalid"),
        (10, "  ", "loyalty.reason_required"),
        (-1, "扣", "loyalty.insufficient_points"),
    ],
)
def test_refusals_change_nothing(member, points, reason, code):
    with pytest.raises(DomainError) as refused:
        adjustment_request(member_id=member.pk, points=points, reason=reason, actor=SUPPORT)
    assert refused.value.code == code
    assert balance(member) == 0 and not member.point_adjustments.exists()


def test_roles_without_the_permission_cannot_adjust(member):
    for role in (Role.INTEGRATION, Role.AUDITOR):
        with pytest.raises(DomainError):
            adjustment_request(member_id=member.pk, points=1, reason="x", actor=Actor("user", 99, "x", role))
