"""Member centre incentives: check in (once a day), the calendar, task progress, the invite page."""

from __future__ import annotations

import pytest

from yunying.core.permissions import Actor, Role
from yunying.loyalty.checkin import checkin_rule_save
from yunying.loyalty.models import Checkin, TaskKind
from yunying.loyalty.referrals import referral_open
from yunying.loyalty.tasks import TaskSpec, task_list_save
from yunying.members.models import Member

pytestmark = pytest.mark.django_db
OPERATOR = Actor(kind="user", id=1, label="op", role=Role.STRATEGY)


@pytest.fixture
def rules(db):
    checkin_rule_save(
        rewards=[5, 5, 30], missed_policy="reset", grace_days=0, cycle_days=0, points_expire_days=0, enabled=True,
        actor=OPERATOR,
    )  # fmt: skip
    task_list_save(
        name="Newbie", tasks=[TaskSpec(TaskKind.CHECKINS, points=3, target=1), TaskSpec(TaskKind.FIRST_ORDER)],
        required=0, reward_points=20, actor=OPERATOR,
    )  # fmt: skip


def test_check_in_from_the_page_once(member_client, rules):
    page = member_client.get("/m/me/checkin/")
    assert page.status_code == 200 and b"h5-checkin-button" in page.content
    done = member_client.post("/m/me/checkin/", follow=True)
    assert b"+5 points" in done.content and b'data-checked="1"' in done.content
    assert b"h5-checkin-button" not in done.content
    member_client.post("/m/me/checkin/")
    assert Checkin.objects.count() == 1
    tasks = member_client.get("/m/me/tasks/")
    assert b'data-kind="checkins" data-done="1"' in tasks.content
    assert b"1 of 2 done" in tasks.content


def test_the_invite_page_masks_invitees(member_client, rules):
    me = Member.objects.get()
    friend = Member.objects.create(external_id="f", invited_by=me)
    referral_open(invitee_id=friend.pk, inviter_id=me.pk)
    page = member_client.get("/m/me/invite/")
    assert page.status_code == 200
    assert me.invite_code.encode() in page.content
    assert b">1</div>" in page.content
    assert b"Waiting for the friend" in page.content


def test_signed_out_goes_to_sign_in(client):
    assert client.get("/m/me/checkin/").status_code == 302
