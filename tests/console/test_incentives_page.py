"""The console's incentives pages: check-in rewards, task lists, referral rules and the review queue;
each refuses roles without loyalty.configure; every change audited."""

from __future__ import annotations

import pytest

from yunying.console.views import incentives
from yunying.core.models import AuditEntry
from yunying.core.permissions import ROLE_PERMISSIONS, Role
from yunying.loyalty.models import CheckinRule, Referral, ReferralRule, ReferralStatus, TaskList
from yunying.members.models import Member

pytestmark = pytest.mark.django_db
ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]


def _url(pattern) -> str:
    return "/console/" + str(pattern.pattern).replace("<int:referral_id>", "1")


@pytest.mark.parametrize(
    ("pattern", "role"),
    [
        pytest.param(p, r, id=f"{p.name}-{r}")
        for p in incentives.urlpatterns
        for r in ROLES
        if p.callback.console_perm not in ROLE_PERMISSIONS[r]
    ],
)
def test_a_role_without_the_permission_gets_403(console_as, pattern, role):
    client = console_as(role)
    assert client.get(_url(pattern)).status_code == 403
    assert client.post(_url(pattern), {}).status_code == 403


def test_edit_check_in_tasks_and_referral_rules(console_as):
    client = console_as(Role.STRATEGY)
    assert client.get("/console/loyalty/incentives/").status_code == 200
    client.post(
        "/console/loyalty/incentives/checkin/",
        {"rewards": "5，5, 10 30", "missed_policy": "grace", "grace_days": "1", "cycle_days": "0",
         "points_expire_days": "365", "enabled": "on"},
    )  # fmt: skip
    rule = CheckinRule.objects.get()
    assert (rule.rewards, rule.missed_policy, rule.grace_days) == ([5, 5, 10, 30], "grace", 1)
    client.post(
        "/console/loyalty/incentives/tasks/",
        {"name": "新人任务", "task_first_order": "on", "points_first_order": "20", "task_checkins": "on",
         "points_checkins": "5", "target_checkins": "3", "required": "2", "reward_points": "100", "active": "on"},
    )  # fmt: skip
    task_list = TaskList.objects.get()
    assert sorted(task_list.tasks.values_list("kind", "target")) == [("checkins", 3), ("first_order", 1)]
    client.post(
        "/console/loyalty/incentives/referrals/",
        {"inviter_points": "500", "invitee_points": "50", "monthly_cap": "10", "return_window_days": "7",
         "same_signal_limit": "2"},
    )  # fmt: skip
    assert ReferralRule.objects.get().inviter_points == 500
    page = client.get("/console/loyalty/incentives/")
    assert "新人任务" in page.content.decode()
    assert AuditEntry.objects.filter(action__startswith="loyalty.").count() == 3


def test_bad_input_is_a_message_not_a_500(console_as):
    client = console_as(Role.STRATEGY)
    response = client.post(
        "/console/loyalty/incentives/checkin/", {"rewards": "a, b", "missed_policy": "x"}, follow=True
    )
    assert response.status_code == 200 and not CheckinRule.objects.exists()
    response = client.post("/console/loyalty/incentives/tasks/", {"name": ""}, follow=True)
    assert response.status_code == 200 and not TaskList.objects.exists()


def test_the_review_queue_approves(console_as):
    client = console_as(Role.STRATEGY)
    a = Member.objects.create(external_id="a")
    b = Member.objects.create(external_id="b", invited_by=a)
    held = Referral.objects.create(
        inviter=a, invitee=b, status=ReferralStatus.REVIEW, created_at=b.created_at
    )
    assert f"/console/members/{a.pk}/" in client.get("/console/loyalty/referrals/").content.decode()
    client.post(f"/console/loyalty/referrals/{held.pk}/decide/", {"decision": "reject", "reason": "farm"})
    held.refresh_from_db()
    assert held.status == ReferralStatus.REJECTED
    assert AuditEntry.objects.filter(action="loyalty.referral_reject").count() == 1
