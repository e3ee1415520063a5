"""/api/v1/loyalty incentives through HTTP: check-in (201, then 200 the same day), Idempotency-Key,
task progress, the invite summary, permissions and refusals as problem+json."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem
from yunying.core.activity import Activity, ActivityKind, activity_publish
from yunying.core.permissions import Actor, Role
from yunying.loyalty.checkin import checkin_rule_save
from yunying.loyalty.models import TaskKind
from yunying.loyalty.tasks import TaskSpec, task_list_save
from yunying.members.models import Member

pytestmark = pytest.mark.django_db

OPERATOR = Actor(kind="user", id=1, label="op", role=Role.STRATEGY)
URL = "/api/v1/loyalty/members"


@pytest.fixture
def storefront(api_as):
    return api_as(Role.INTEGRATION)


@pytest.fixture
def member():
    checkin_rule_save(
        rewards=[5, 10], missed_policy="reset", grace_days=0, cycle_days=0, points_expire_days=0, enabled=True,
        actor=OPERATOR,
    )  # fmt: skip
    return Member.objects.create(external_id="shop-1")


def test_check_in_once_a_day(storefront, member):
    first = storefront.post_json(f"{URL}/shop-1/checkins", {})
    again = storefront.post_json(f"{URL}/shop-1/checkins", {})
    assert first.status_code == 201, first.content
    assert again.status_code == 200
    body = first.json()
    assert (body["streak"], body["points"], body["replayed"], body["tomorrow_points"]) == (1, 5, False, 10)
    assert again.json()["replayed"] is True
    today = storefront.get(f"{URL}/shop-1/checkins/today").json()
    assert today["replayed"] is True and today["points"] == 5
    assert today["tomorrow_points"] == 10  # the same answer the check-in gave (was always 0)


def test_idempotency_key_replays_the_first_answer(storefront, member):
    headers = {"HTTP_IDEMPOTENCY_KEY": "c-1"}
    first = storefront.post_json(f"{URL}/shop-1/checkins", {}, **headers)
    again = storefront.post_json(f"{URL}/shop-1/checkins", {}, **headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()


def test_unknown_member_and_closed_check_in(storefront, db):
    assert_problem(storefront.post_json(f"{URL}/nobody/checkins", {}), 404, "loyalty.member_not_found")
    Member.objects.create(external_id="shop-2")
    assert_problem(storefront.post_json(f"{URL}/shop-2/checkins", {}), 409, "loyalty.checkin_closed")


def test_tasks_and_invite(storefront, member):
    task_list_save(
        name="新人任务", tasks=[TaskSpec(TaskKind.INVITED_FRIEND, points=10), TaskSpec(TaskKind.FIRST_ORDER)],
        required=0, reward_points=50, actor=OPERATOR,
    )  # fmt: skip
    friend = Member.objects.create(external_id="shop-3", invited_by=member)
    activity_publish(
        Activity(
            ActivityKind.MEMBER_REGISTERED,
            friend.pk,
            str(friend.pk),
            friend.created_at,
            {"inviter_id": member.pk},
        )
    )
    [task_list] = storefront.get(f"{URL}/shop-1/tasks").json()
    # "invite a friend" completes when the referral pays (after the friend's first order), not now
    assert (task_list["done"], task_list["required"], task_list["rewarded"]) == (0, 2, False)
    assert [t["done"] for t in task_list["tasks"]] == [False, False]
    invite = storefront.get(f"{URL}/shop-1/invite").json()
    assert invite["code"] == member.invite_code and invite["invitees"] == 1
    assert invite["link"].endswith(f"/m/i/{member.invite_code}/")
    assert invite["referrals"][0]["status"] == "waiting"


def test_auditors_may_not(api_as, member):
    auditor = api_as(Role.AUDITOR)
    assert_problem(auditor.post_json(f"{URL}/shop-1/checkins", {}), 403, "core.permission_denied")
    assert_problem(auditor.get(f"{URL}/shop-1/tasks"), 403, "core.permission_denied")
