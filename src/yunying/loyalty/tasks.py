"""Task lists (L3): operators define lists of tasks ("complete 3 to unlock a reward") from events the
system already sees, and members complete them by doing those things.

Sources: core.activity (PROFILE_COMPLETED, SIGNUP_CONFIRMED -> first sign-up, SIGNUP_ATTENDED -> first
attendance, MEMBER_REGISTERED with an inviter -> the inviter invited a friend), commerce order facts
(RECORDED -> first order) and check-ins (CHECKINS: N days). Each handler runs in the transaction that
records the fact. A completion is a unique (member, task) row and its points post under
`task:<task>:<member>`; a list's reward is a unique (member, list) row under `tasklist:<list>:<member>`:
a replayed event completes nothing twice and pays nothing twice.

Rewards: points now. RewardKind has room for a coupon (with the promotions issue): add the choice,
issue the coupon where `_reward_list` pays points, keyed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from yunying.commerce.events import OrderFact
from yunying.core.activity import Activity, ActivityKind
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Actor, Perm
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.ledger import points_earn
from yunying.loyalty.models import (
    Checkin,
    PointPosting,
    PostingSource,
    RewardKind,
    Task,
    TaskCompletion,
    TaskKind,
    TaskList,
    TaskListReward,
)

POINTS_EXPIRE_DAYS = 365
MAX_TASK_POINTS = 1_000_000

_ACTIVITY_TASKS = {
    ActivityKind.PROFILE_COMPLETED: TaskKind.PROFILE_COMPLETED,
    ActivityKind.SIGNUP_CONFIRMED: TaskKind.FIRST_SIGNUP,
    ActivityKind.SIGNUP_ATTENDED: TaskKind.FIRST_ATTENDANCE,
}


# ---------------------------------------------------------------------------------------------------
# Operators


@dataclass(frozen=True)
class TaskSpec:
    kind: str
    points: int = 0
    target: int = 1


def _valid_points(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TASK_POINTS


def task_list_save(
    *,
    name: str,
    tasks: list[TaskSpec],
    required: int,
    reward_points: int,
    actor: Actor,
    description: str = "",
    active: bool = True,
    task_list_id: int | None = None,
) -> TaskList:
    """Create a task list, or replace an existing one's tasks (completions of kept tasks stay).

    Raises: core.permission_denied, loyalty.task_list_invalid, loyalty.task_list_not_found."""
    actor.require(Perm.LOYALTY_CONFIGURE)
    name = (name or "").strip()
    kinds = [t.kind for t in tasks]
    ok = (
        0 < len(name) <= 80
        and 1 <= len(tasks) <= 20
        and len(set(kinds)) == len(kinds)
        and all(t.kind in TaskKind.values and _valid_points(t.points) for t in tasks)
        and all(isinstance(t.target, int) and 1 <= t.target <= 366 for t in tasks)
        and isinstance(required, int)
        and 0 <= required <= len(tasks)
        and _valid_points(reward_points)
    )
    if not ok:
        raise DomainError(LoyaltyError.TASK_LIST_INVALID)
    with transaction.atomic():
        if task_list_id is None:
            task_list = TaskList.objects.create(name=name)
            before = None
        else:
            task_list = TaskList.objects.select_for_update().filter(pk=task_list_id).first()
            if task_list is None:
                raise DomainError(LoyaltyError.TASK_LIST_NOT_FOUND)
            before = _list_dict(task_list)
        task_list.name = name
        task_list.description = (description or "")[:200]
        task_list.required = required
        task_list.reward_kind = RewardKind.POINTS
        task_list.reward_points = reward_points
        task_list.active = active
        task_list.save()
        existing = {t.kind: t for t in task_list.tasks.all()}
        for position, spec in enumerate(tasks):
            task = existing.pop(spec.kind, None) or Task(task_list=task_list, kind=spec.kind)
            task.points, task.target, task.position = spec.points, spec.target, position
            task.save()
        for task in existing.values():
            task.delete()
        audit_record(
            actor=actor,
            action="loyalty.task_list_save",
            object_type="task_list",
            object_id=task_list.pk,
            before=before,
            after=_list_dict(task_list),
        )
    return task_list


def _list_dict(task_list: TaskList) -> dict:
    return {
        "name": task_list.name,
        "required": task_list.required,
        "reward_kind": task_list.reward_kind,
        "reward_points": task_list.reward_points,
        "active": task_list.active,
        "tasks": [{"kind": t.kind, "points": t.points, "target": t.target} for t in task_list.tasks.all()],
    }


# ---------------------------------------------------------------------------------------------------
# Completing


def _earn(member_id: int, points: int, key: str, memo: str, now: datetime) -> None:
    if points:
        points_earn(
            member_id=member_id,
            points=points,
            key=key,
            source=PostingSource.TASK,
            actor=SYSTEM,
            expires_at=now + timedelta(days=POINTS_EXPIRE_DAYS),
            memo=memo,
            now=now,
        )


def _reward_list(member_id: int, task_list: TaskList, now: datetime) -> None:
    done = TaskCompletion.objects.filter(member_id=member_id, task__task_list=task_list).count()
    if done < task_list.required_count:
        return
    try:
        with transaction.atomic():
            TaskListReward.objects.create(
                member_id=member_id,
                task_list=task_list,
                reward_kind=task_list.reward_kind,
                points=task_list.reward_points,
                at=now,
            )
    except IntegrityError:
        return  # rewarded already
    _earn(
        member_id, task_list.reward_points, f"tasklist:{task_list.pk}:{member_id}", task_list.name[:200], now
    )


def _task_key(completion: TaskCompletion) -> str:
    """A completion's points: one posting per completion (an undone task completed again pays again)."""
    return f"task:{completion.task_id}:{completion.member_id}:{completion.pk}"


def task_event(
    *, member_id: int, kind: str, source_key: str, now: datetime | None = None, count: int = 1
) -> int:
    """The member did `kind` (count: how many check-ins so far). Completes the matching tasks of
    active lists not completed yet; returns how many it completed."""
    now = now or timezone.now()
    completed = 0
    tasks = Task.objects.filter(kind=kind, task_list__active=True, target__lte=count).select_related(
        "task_list"
    )
    for task in tasks.exclude(completions__member_id=member_id):
        try:
            with transaction.atomic():
                completion = TaskCompletion.objects.create(
                    member_id=member_id, task=task, source_key=source_key[:120], at=now
                )
        except IntegrityError:
            continue  # a concurrent replay completed it
        _earn(member_id, task.points, _task_key(completion), task.get_kind_display()[:200], now)
        _reward_list(member_id, task.task_list, now)
        completed += 1
    return completed


def on_activity(activity: Activity) -> None:
    kind = _ACTIVITY_TASKS.get(activity.kind)
    if kind is not None:
        task_event(
            member_id=activity.member_id,
            kind=kind,
            source_key=f"{activity.kind}:{activity.key}",
            now=activity.at,
        )
    elif activity.kind == ActivityKind.SIGNUP_LEFT:
        _undo_first_signup(activity)
    # "Invite a friend" completes when the referral is paid (loyalty.referrals), not when the friend
    # registers: the referral's guards (self, circular, one device, the cap) then hold for it too.


def _undo_first_signup(activity: Activity) -> None:
    """A confirmed sign-up withdrawn or rejected: the "first sign-up" task it completed is undone and
    its points taken back, so signing up and withdrawing pays nothing (a later sign-up completes it)."""
    from yunying.loyalty.ledger import points_reverse

    source_key = f"{ActivityKind.SIGNUP_CONFIRMED}:{activity.key}"
    for completion in TaskCompletion.objects.filter(
        member_id=activity.member_id, source_key=source_key[:120], task__kind=TaskKind.FIRST_SIGNUP
    ).select_related("task"):
        key = _task_key(completion)
        if PointPosting.objects.filter(business_key=key, kind="earn").exists():
            points_reverse(earn_key=key, key=f"{key}:undone", actor=SYSTEM)
        completion.delete()


def on_order(fact: OrderFact) -> None:
    """Orders complete "first order" only once past their return window (first_orders_due)."""


def first_orders_due(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: a member's first order completes "first order" when it is past the points
    rules' return window (counted from when it reached us), paid for something, not cancelled or
    fully refunded, and sent by the storefront, not imported history."""
    from yunying.commerce.models import Order, OrderStatus
    from yunying.loyalty.rules import points_rules_current

    now = now or timezone.now()
    if not Task.objects.filter(kind=TaskKind.FIRST_ORDER, task_list__active=True).exists():
        return {}
    rules = points_rules_current()
    window = timedelta(days=rules.return_window_days if rules is not None else 7)
    done_members = TaskCompletion.objects.filter(task__kind=TaskKind.FIRST_ORDER).values("member_id")
    candidates = (
        Order.objects.filter(
            status__in=[OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED],
            total_fen__gt=0,
            recorded_at__lte=now - window,
            paid_at__lte=now - window,
        )
        .exclude(source="import")
        .exclude(member_id__in=done_members)
        .order_by("member_id", "paid_at")
        .values_list("member_id", "pk")[:1000]
    )
    completed, seen = 0, set()
    for member_id, order_id in candidates:
        if member_id in seen:
            continue
        seen.add(member_id)
        with transaction.atomic():
            completed += task_event(
                member_id=member_id, kind=TaskKind.FIRST_ORDER, source_key=f"order:{order_id}", now=now
            )
    return {"first_order_tasks": completed} if completed else {}


def checkins_counted(*, member_id: int, count: int, now: datetime) -> None:
    task_event(
        member_id=member_id, kind=TaskKind.CHECKINS, source_key=f"checkins:{count}", now=now, count=count
    )


# ---------------------------------------------------------------------------------------------------
# Progress


@dataclass(frozen=True)
class TaskProgress:
    task: Task
    done: bool
    progress: int  # CHECKINS: days so far (capped at target); others 0 or 1
    target: int


@dataclass(frozen=True)
class ListProgress:
    task_list: TaskList
    tasks: list[TaskProgress]
    done: int
    required: int
    rewarded: bool

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.required) if self.required else 100


def task_progress(member_id: int) -> list[ListProgress]:
    checkins = Checkin.objects.filter(member_id=member_id).count()
    completed = set(TaskCompletion.objects.filter(member_id=member_id).values_list("task_id", flat=True))
    rewarded = set(TaskListReward.objects.filter(member_id=member_id).values_list("task_list_id", flat=True))
    result = []
    for task_list in TaskList.objects.filter(active=True).prefetch_related("tasks").order_by("id"):
        rows = []
        for task in task_list.tasks.all():
            done = task.pk in completed
            if task.kind == TaskKind.CHECKINS:
                progress = task.target if done else min(checkins, task.target)
            else:
                progress = 1 if done else 0
            rows.append(
                TaskProgress(task, done, progress, task.target if task.kind == TaskKind.CHECKINS else 1)
            )
        result.append(
            ListProgress(
                task_list,
                rows,
                sum(1 for r in rows if r.done),
                task_list.required_count,
                task_list.pk in rewarded,
            )
        )
    return result
