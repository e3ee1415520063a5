"""The points rules service: versions, audit, permission, validation; and the calendar arithmetic
(expiry, birthday month) in the merchant's time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from tests.loyalty.helpers import BASE_RULES
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.models import AuditEntry
from yunying.core.permissions import SYSTEM, Actor, Role
from yunying.loyalty.rules import (
    expiry_at,
    is_birthday_month,
    points_rules_current,
    points_rules_save,
    rules_validate,
)

EXECUTION = Actor(kind="user", id=3, label="执行同事", role=Role.EXECUTION)
STRATEGY = Actor(kind="user", id=4, label="策略同事", role=Role.STRATEGY)


@pytest.mark.django_db
def test_each_save_is_a_new_version_with_its_audit_row():
    # given
    first = points_rules_save(values=BASE_RULES, actor=STRATEGY, note="首版")
    # when
    second = points_rules_save(values=replace(BASE_RULES, welcome_points=200), actor=STRATEGY, base_version=1)
    # then
    assert (first.version, second.version) == (1, 2)
    assert points_rules_current().welcome_points == 200
    assert second.orders_paid_from == first.orders_paid_from  # kept when not given
    entry = AuditEntry.objects.filter(action="loyalty.points_rules_save").order_by("-id").first()
    assert entry.before["welcome_points"] == 100 and entry.after["welcome_points"] == 200
    assert entry.actor_label == "策略同事"


@pytest.mark.django_db
def test_a_role_without_the_permission_is_refused_and_nothing_is_saved():
    with pytest.raises(DomainError) as refused:
        points_rules_save(values=BASE_RULES, actor=EXECUTION)
    assert refused.value.code == "core.permission_denied"
    assert points_rules_current() is None


@pytest.mark.django_db
def test_a_save_based_on_an_old_version_is_refused():
    points_rules_save(values=BASE_RULES, actor=SYSTEM)
    with pytest.raises(DomainError) as refused:
        points_rules_save(values=BASE_RULES, actor=SYSTEM, base_version=0)
    assert (refused.value.code, refused.value.data["version"]) == ("loyalty.rules_changed", 1)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"unit_fen": 0}, ["unit_fen"]),
        ({"points_per_unit": -1, "welcome_points": 10**9}, ["points_per_unit", "welcome_points"]),
        ({"birthday_permille": 999}, ["birthday_permille"]),
        ({"birthday_permille": 10_001}, ["birthday_permille"]),
        ({"expiry_policy": "monthly"}, ["expiry_policy"]),
        ({"return_window_days": True}, ["return_window_days"]),  # a bool is not a number of days
        ({"orders_paid_from": datetime(2026, 1, 1)}, ["orders_paid_from"]),  # naive: which zone?
    ],
    ids=[
        "zero-unit",
        "every-field-at-once",
        "birthday-below-one",
        "birthday-above-ten",
        "policy",
        "bool",
        "naive",
    ],
)
def test_out_of_range_rules_name_every_failing_field(changes, fields):
    with pytest.raises(ValidationFailed) as refused:
        rules_validate(replace(BASE_RULES, **changes))
    assert [error["field"] for error in refused.value.errors] == fields
    assert {error["code"] for error in refused.value.errors} == {"loyalty.rules_out_of_range"}


SH = "Asia/Shanghai"


@pytest.mark.parametrize(
    ("policy", "days", "years", "earned_utc", "expected_utc"),
    [
        # earned 2026-12-31 23:30 in Shanghai (15:30 UTC): a 2026 point, good to the end of 2027
        (
            "year_end",
            0,
            1,
            datetime(2026, 12, 31, 15, 30, tzinfo=UTC),
            datetime(2027, 12, 31, 16, 0, tzinfo=UTC),
        ),
        # earned 2027-01-01 00:30 in Shanghai (still 2026 in UTC): a 2027 point
        (
            "year_end",
            0,
            1,
            datetime(2026, 12, 31, 16, 30, tzinfo=UTC),
            datetime(2028, 12, 31, 16, 0, tzinfo=UTC),
        ),
        ("year_end", 0, 0, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 12, 31, 16, 0, tzinfo=UTC)),
        ("days", 30, 0, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
        ("never", 0, 0, datetime(2026, 6, 1, tzinfo=UTC), None),
    ],
    ids=["year-end-last-evening", "year-end-first-morning", "this-year", "days", "never"],
)
def test_expiry_dates(settings, policy, days, years, earned_utc, expected_utc):
    settings.TIME_ZONE = SH
    assert expiry_at(policy=policy, days=days, years=years, earned_at=earned_utc) == expected_utc


@pytest.mark.parametrize(
    ("birth", "at_utc", "expected"),
    [
        (date(1990, 12, 5), datetime(2026, 11, 30, 17, 0, tzinfo=UTC), True),  # 1 Dec 01:00 in Shanghai
        (date(1990, 11, 5), datetime(2026, 11, 30, 17, 0, tzinfo=UTC), False),
        (date(1990, 11, 5), datetime(2026, 11, 30, 15, 0, tzinfo=UTC), True),  # 30 Nov 23:00 in Shanghai
        (None, datetime(2026, 11, 30, 15, 0, tzinfo=UTC), False),
    ],
    ids=["december-in-shanghai", "not-november-any-more", "still-november", "unknown-birthday"],
)
def test_the_birthday_month_reads_the_shanghai_calendar(settings, birth, at_utc, expected):
    settings.TIME_ZONE = SH
    assert is_birthday_month(birth, at_utc) is expected
