"""Incentives for the storefront (L3): check in a member, read task progress and the invite summary.
Members are named by the storefront's own id (external_id). Check-in answers 201 when it recorded
today's check-in and 200 when the member had already checked in today (nothing paid twice);
`Idempotency-Key` is honoured as on every creating POST."""

from datetime import date, datetime
from typing import Annotated

from django.urls import reverse
from ninja import Path, Router, Schema, Status

from yunying.core.errors import DomainError
from yunying.core.idempotency import idempotent
from yunying.core.permissions import Perm
from yunying.loyalty.checkin import checkin_rule, checkin_status, checkin_today, cycle_length, day_points
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.referrals import invite_summary
from yunying.loyalty.tasks import task_progress
from yunying.members.models import Member

router = Router(tags=["loyalty"])

MemberRef = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", max_length=64)]


class CheckinOut(Schema):
    day: date
    streak: int
    points: int = 0
    replayed: bool
    tomorrow_points: int


class TaskOut(Schema):
    kind: str
    label: str
    points: int
    done: bool
    progress: int
    target: int


class TaskListOut(Schema):
    id: int
    name: str
    description: str
    required: int
    done: int
    reward_kind: str
    reward_points: int
    rewarded: bool
    tasks: list[TaskOut]


class InviteeOut(Schema):
    status: str
    joined_at: datetime
    inviter_points: int


class InviteOut(Schema):
    code: str
    link: str
    invitees: int
    rewarded: int
    points_earned: int
    referrals: list[InviteeOut]


def _tomorrow_points(streak_today: int) -> int:
    """What checking in tomorrow pays, for a member whose streak is `streak_today` after today
    (0: not checked in today — tomorrow then starts a streak of 1 at best)."""
    rule = checkin_rule()
    return day_points(rule, streak_today % cycle_length(rule) + 1) if rule else 0


def _member(external_id: str) -> Member:
    member = Member.objects.filter(external_id=external_id).first()
    if member is None:
        raise DomainError(LoyaltyError.MEMBER_NOT_FOUND)
    return member


@router.post(
    "/members/{external_id}/checkins",
    response={200: CheckinOut, 201: CheckinOut},
    summary="Check the member in for today (201; 200 when already checked in today)",
)
@idempotent
def create_checkin(request, external_id: MemberRef):
    request.auth.require(Perm.LOYALTY_SPEND)
    member = _member(external_id)
    result = checkin_today(member_id=member.pk, actor=request.auth)
    tomorrow = _tomorrow_points(result.checkin.streak)
    return Status(
        200 if result.replayed else 201,
        {
            "day": result.checkin.day,
            "streak": result.checkin.streak,
            "points": result.checkin.points,
            "replayed": result.replayed,
            "tomorrow_points": tomorrow,
        },
    )


@router.get("/members/{external_id}/checkins/today", response=CheckinOut, summary="Today's check-in state")
def get_checkin(request, external_id: MemberRef):
    request.auth.require(Perm.LOYALTY_VIEW)
    status = checkin_status(_member(external_id).pk)
    return {
        "day": status.today,
        "streak": status.streak,
        "points": status.today_points,
        "replayed": status.checked_in_today,
        "tomorrow_points": _tomorrow_points(status.streak if status.checked_in_today else 0),
    }


@router.get("/members/{external_id}/tasks", response=list[TaskListOut], summary="The member's task progress")
def get_tasks(request, external_id: MemberRef):
    request.auth.require(Perm.LOYALTY_VIEW)
    return [
        {
            "id": p.task_list.pk,
            "name": p.task_list.name,
            "description": p.task_list.description,
            "required": p.required,
            "done": p.done,
            "reward_kind": p.task_list.reward_kind,
            "reward_points": p.task_list.reward_points,
            "rewarded": p.rewarded,
            "tasks": [
                {
                    "kind": t.task.kind,
                    "label": str(t.task.get_kind_display()),
                    "points": t.task.points,
                    "done": t.done,
                    "progress": t.progress,
                    "target": t.target,
                }
                for t in p.tasks
            ],
        }
        for p in task_progress(_member(external_id).pk)
    ]


@router.get(
    "/members/{external_id}/invite", response=InviteOut, summary="The member's invite code and rewards"
)
def get_invite(request, external_id: MemberRef):
    request.auth.require(Perm.LOYALTY_VIEW)
    member = _member(external_id)
    summary = invite_summary(member)
    return {
        "code": summary.code,
        "link": request.build_absolute_uri(reverse("h5:invite", args=[summary.code])),
        "invitees": summary.invitees,
        "rewarded": summary.paid,
        "points_earned": summary.points_earned,
        "referrals": [
            {"status": r.status, "joined_at": r.created_at, "inviter_points": r.inviter_points}
            for r in summary.referrals
        ],
    }
