"""The points rules editor: strategy only; saving makes a new version with an audit row; the preview
says what an order earns; bad input and a concurrent save are form errors, never a 500."""

from __future__ import annotations

import pytest

from tests.loyalty.helpers import rules_set
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role
from yunying.loyalty.models import PointsRules

URL = "/console/loyalty/points-rules/"


def _form(**changes) -> dict:
    data = {
        "base_version": "0",
        "points_per_unit": "1",
        "unit_yuan": "1.00",
        "return_window_days": "7",
        "expiry_policy": "year_end",
        "expiry_years": "1",
        "expiry_days": "365",
        "welcome_points": "100",
        "signup_points": "10",
        "attendance_points": "20",
        "birthday_multiplier": "2",
        "note": "首版规则",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.STRATEGY, 200), (Role.EXECUTION, 403), (Role.SUPPORT, 403), (Role.AUDITOR, 403)],
)
def test_only_strategy_configures_points_rules(console_as, db, role, status):
    client = console_as(role)
    assert client.get(URL).status_code == status
    if status == 403:
        assert client.post(URL, _form()).status_code == 403
        assert not PointsRules.objects.exists()


def test_saving_makes_a_version_audited_and_the_preview_follows(console_as, db):
    client = console_as(Role.STRATEGY)
    # when
    response = client.post(URL, _form())
    # then
    assert response.status_code == 302
    rules = PointsRules.objects.get()
    assert (rules.version, rules.unit_fen, rules.birthday_permille, rules.welcome_points) == (
        1,
        100,
        2000,
        100,
    )
    entry = AuditEntry.objects.get(action="loyalty.points_rules_save")
    assert entry.reason == "首版规则"
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "An order of ¥199 earns 199 points, 398 in the birthday month." in page
    # and a second save is version 2, the first kept
    assert client.post(URL, _form(base_version="1", points_per_unit="2", unit_yuan="10")).status_code == 302
    assert list(PointsRules.objects.order_by("version").values_list("version", "unit_fen")) == [
        (1, 100),
        (2, 1000),
    ]
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "An order of ¥199 earns 39 points, 79 in the birthday month." in page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit_yuan": "0"}, "unit_yuan"),
        ({"birthday_multiplier": "0.5"}, "birthday_multiplier"),
        ({"expiry_policy": "sometimes"}, "expiry_policy"),
        ({"points_per_unit": "-1"}, "points_per_unit"),
        ({"welcome_points": "abc"}, "welcome_points"),
    ],
    ids=["zero-unit", "birthday-below-one", "unknown-policy", "negative", "not-a-number"],
)
def test_bad_values_are_form_errors(console_as, db, changes, field):
    response = console_as(Role.STRATEGY).post(URL, _form(**changes))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not PointsRules.objects.exists()


def test_a_save_over_someone_elses_is_refused(console_as, db):
    rules_set()  # someone saved version 1 after this form was opened at version 0
    response = console_as(Role.STRATEGY).post(URL, _form(base_version="0"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert PointsRules.objects.count() == 1
