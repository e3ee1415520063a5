"""Working-day arithmetic for the deadline of members' requests (PIPL: 15 working days)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone


def _holidays() -> set[date]:
    return {date.fromisoformat(d) for d in settings.PRIVACY_HOLIDAYS}


def is_working_day(day: date, holidays: set[date] | None = None) -> bool:
    return day.weekday() < 5 and day not in (_holidays() if holidays is None else holidays)


def working_days_after(start: date, days: int) -> date:
    """The `days`-th working day after `start` (not counting `start`)."""
    holidays, day, left = _holidays(), start, days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


def due_at_for(received_at: datetime) -> datetime:
    """The end of the PRIVACY_REQUEST_WORKING_DAYS-th working day after receipt, in the configured zone."""
    local = timezone.localtime(received_at)
    due_day = working_days_after(local.date(), settings.PRIVACY_REQUEST_WORKING_DAYS)
    end = datetime.combine(due_day, datetime.max.time().replace(microsecond=0))
    return timezone.make_aware(end, timezone.get_current_timezone())


def working_days_left(due_at: datetime, *, now: datetime | None = None) -> int:
    """Working days from today to the due day (0 on the due day, negative once overdue)."""
    today = timezone.localtime(now or timezone.now()).date()
    due = timezone.localtime(due_at).date()
    holidays = _holidays()
    if due >= today:
        return sum(
            1 for n in range((due - today).days) if is_working_day(today + timedelta(days=n + 1), holidays)
        )
    return -sum(1 for n in range((today - due).days) if is_working_day(due + timedelta(days=n + 1), holidays))
