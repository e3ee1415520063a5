"""Numbers typed with Unicode digits ("①", "²", full-width) are refused like any other non-number,
never a 500 (new-user review: str.isdigit() accepts them and int() then fails)."""

from __future__ import annotations

import pytest

from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", True), ("①", False), ("²", False), ("１２", False), ("", False), ("-1", False)],
)
def test_ascii_digits(text, expected):
    assert ascii_digits(text) is expected


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/console/loyalty/incentives/checkin/", {"rewards": "①,5", "grace_days": "①"}),
        ("/console/loyalty/incentives/tasks/", {"name": "x", "task_list_id": "①", "points_first_order": "①"}),
        ("/console/loyalty/incentives/referrals/", {"inviter_points": "①"}),
        ("/console/loyalty/tiers/", {"period_days": "²", "level-0-name": "a", "level-0-threshold": "①"}),
        # 5,000 digits: int() raises ValueError past 4,300 digits (core.numbers.digits_int bounds it)
        (
            "/console/loyalty/tiers/",
            {"period_days": "9" * 5000, "level-0-name": "a", "level-0-threshold": "9" * 5000},
        ),
        ("/console/review/", {"action": "approve", "ids": ["1-" + "9" * 5000]}),
    ],
)
def test_console_forms_refuse_unicode_digits_without_a_500(console_as, url, data):
    response = console_as(Role.STRATEGY).post(url, data)
    assert response.status_code < 500


def test_a_unicode_page_number_shows_the_first_page(console_as):
    assert console_as(Role.STRATEGY).get("/console/members/all/?page=²").status_code == 200


@pytest.mark.parametrize("query", ["?end=9999-12-31", "?start=0001-01-01"])
def test_brokerage_dates_at_the_edge_of_the_calendar_are_refused_not_a_500(console_as, query):
    """New-user review: 9999-12-31 overflowed computing the next day."""
    client = console_as(Role.STRATEGY)
    assert client.get(f"/console/brokerage/{query}").status_code < 500
    assert client.post("/console/brokerage/statements/", {"month": "9999-12"}).status_code < 500
