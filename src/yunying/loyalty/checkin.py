"""Daily check-in (L3): once per member per calendar day, streaks, a reward table.

The day is the calendar day in settings.TIME_ZONE: members have no time zone of their own, so "today"
is the operator's day (Asia/Shanghai by default) for everyone. One check-in per member per day is a
unique constraint, so two taps at once (two threads, two workers) record one check-in and pay once;
the points go through loyalty.ledger under the key `checkin:<member>:<day>`.

Streaks: a check-in the day after the previous one continues the streak; a gap resets it to 1, unless
the rule keeps streaks over up to `grace_days` missed days (MissedDayPolicy.GRACE). The reward is
`rewards[cycle_day - 1]` where cycle_day runs 1..cycle length and starts again after it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Actor, Perm
from yunying.loyalty import tasks  # tasks counts check-ins
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.ledger import points_earn
from yunying.loyalty.models import Checkin, CheckinRule, MissedDayPolicy, PostingSource
from yunying.members.models import Member

MAX_REWARD_DAYS = 60
MAX_DAY_POINTS = 100_000


def local_day(at: datetime) -> date:
    return timezone.localtime(at).date()


def checkin_rule() -> CheckinRule | None:
    return CheckinRule.objects.order_by("-id").first()


def checkin_rule_save(
    *,
    rewards: list[int],
    missed_policy: str,
    grace_days: int,
    cycle_days: int,
    points_expire_days: int,
    enabled: bool,
    actor: Actor,
) -> CheckinRule:
    """A new rule in force (the old rows stay as history).

    Raises: core.permission_denied, loyalty.checkin_rule_invalid."""
    actor.require(Perm.LOYALTY_CONFIGURE)
    ok = (
        isinstance(rewards, list)
        and 1 <= len(rewards) <= MAX_REWARD_DAYS
        and all(isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= MAX_DAY_POINTS for p in rewards)
        and missed_policy in MissedDayPolicy.values
        and 0 <= grace_days <= 7
        and 0 <= cycle_days <= 366
        and 0 <= points_expire_days <= 3660
    )
    if not ok:
        raise DomainError(LoyaltyError.CHECKIN_RULE_INVALID)
    before = checkin_rule()
    with transaction.atomic():
        rule = CheckinRule.objects.create(
            rewards=rewards,
            missed_policy=missed_policy,
            grace_days=grace_days if missed_policy == MissedDayPolicy.GRACE else 0,
            cycle_days=cycle_days,
            points_expire_days=points_expire_days,
            enabled=enabled,
            created_by=actor.label[:150],
        )
        audit_record(
            actor=actor,
            action="loyalty.checkin_rule_save",
            object_type="checkin_rule",
            object_id=rule.pk,
            before=_rule_dict(before) if before else None,
            after=_rule_dict(rule),
        )
    return rule


def _rule_dict(rule: CheckinRule) -> dict:
    return {
        "rewards": rule.rewards,
        "missed_policy": rule.missed_policy,
        "grace_days": rule.grace_days,
        "cycle_days": rule.cycle_days,
        "points_expire_days": rule.points_expire_days,
        "enabled": rule.enabled,
    }


def cycle_length(rule: CheckinRule) -> int:
    return rule.cycle_days or len(rule.rewards) or 1


def day_points(rule: CheckinRule, cycle_day: int) -> int:
    if not rule.rewards:
        return 0
    return rule.rewards[min(cycle_day, len(rule.rewards)) - 1]


def next_streak(rule: CheckinRule, previous: Checkin | None, today: date) -> int:
    """The streak today's check-in counts as, after `previous` (the member's latest before today)."""
    if previous is None:
        return 1
    missed = (today - previous.day).days - 1
    if missed <= 0:
        return previous.streak + 1
    if rule.missed_policy == MissedDayPolicy.GRACE and missed <= rule.grace_days:
        return previous.streak + 1
    return 1


@dataclass(frozen=True)
class CheckinResult:
    checkin: Checkin
    replayed: bool  # already checked in today: nothing new recorded or paid

    @property
    def points(self) -> int:
        return self.checkin.points


def _previous(member_id: int, today: date) -> Checkin | None:
    return Checkin.objects.filter(member_id=member_id, day__lt=today).order_by("-day").first()


def checkin_today(*, member_id: int, actor: Actor = SYSTEM, now: datetime | None = None) -> CheckinResult:
    """Check the member in for today (settings.TIME_ZONE); a second call the same day returns the
    first check-in with replayed=True.

    Raises: loyalty.member_not_found, loyalty.checkin_closed."""
    now = now or timezone.now()
    today = local_day(now)
    rule = checkin_rule()
    if rule is None or not rule.enabled:
        raise DomainError(LoyaltyError.CHECKIN_CLOSED)
    if not Member.objects.filter(pk=member_id).exists():
        raise DomainError(LoyaltyError.MEMBER_NOT_FOUND)
    existing = Checkin.objects.filter(member_id=member_id, day=today).first()
    if existing:
        return CheckinResult(existing, replayed=True)
    try:
        with transaction.atomic():
            streak = next_streak(rule, _previous(member_id, today), today)
            cycle_day = (streak - 1) % cycle_length(rule) + 1
            points = day_points(rule, cycle_day)
            checkin = Checkin.objects.create(
                member_id=member_id, day=today, streak=streak, cycle_day=cycle_day, points=points, at=now
            )
            if points:
                expires = now + timedelta(days=rule.points_expire_days) if rule.points_expire_days else None
                points_earn(
                    member_id=member_id,
                    points=points,
                    key=f"checkin:{member_id}:{today.isoformat()}",
                    source=PostingSource.CHECKIN,
                    actor=actor,
                    expires_at=expires,
                    ref=today.isoformat(),
                    memo=f"check-in day {cycle_day}",
                    now=now,
                )
            tasks.checkins_counted(member_id=member_id, count=checkin_count(member_id), now=now)
    except IntegrityError:
        # A concurrent tap recorded today's check-in first; answer with it.
        existing = Checkin.objects.filter(member_id=member_id, day=today).first()
        if existing is None:
            raise
        return CheckinResult(existing, replayed=True)
    return CheckinResult(checkin, replayed=False)


def checkin_count(member_id: int) -> int:
    return Checkin.objects.filter(member_id=member_id).count()


@dataclass(frozen=True)
class CheckinStatus:
    today: date
    checked_in_today: bool
    streak: int  # the current streak (0 when broken and not yet checked in today)
    today_points: int  # what today's check-in pays (or paid)
    next_streak: int  # the streak day today's check-in counts (or counted) as
    enabled: bool


def checkin_status(member_id: int, *, now: datetime | None = None) -> CheckinStatus:
    now = now or timezone.now()
    today = local_day(now)
    rule = checkin_rule()
    todays = Checkin.objects.filter(member_id=member_id, day=today).first()
    if todays:
        return CheckinStatus(
            today, True, todays.streak, todays.points, todays.streak, bool(rule and rule.enabled)
        )
    if rule is None:
        return CheckinStatus(today, False, 0, 0, 1, False)
    previous = _previous(member_id, today)
    streak = next_streak(rule, previous, today)
    current = previous.streak if previous and streak > 1 else 0
    cycle_day = (streak - 1) % cycle_length(rule) + 1
    return CheckinStatus(today, False, current, day_points(rule, cycle_day), streak, rule.enabled)


@dataclass(frozen=True)
class CalendarDay:
    day: date | None  # None: padding before the 1st (weeks start on Monday)
    checked: bool
    points: int
    is_today: bool


def checkin_calendar(
    member_id: int, *, year: int, month: int, now: datetime | None = None
) -> list[list[CalendarDay]]:
    """The month as weeks (Monday first) with the member's check-ins marked."""
    today = local_day(now or timezone.now())
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    done = {
        c.day: c.points for c in Checkin.objects.filter(member_id=member_id, day__gte=first, day__lte=last)
    }
    weeks: list[list[CalendarDay]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                CalendarDay(d, d in done, done.get(d, 0), d == today)
                if d.month == month
                else CalendarDay(None, False, 0, False)
                for d in week
            ]
        )
    return weeks
