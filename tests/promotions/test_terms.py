"""promotion_validate: every field's refusal is a field error, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from yunying.promotions.terms import promotion_validate, yuan_to_fen

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"steps": [["9" * 5000, "100"]]}, "steps.0"),
        ({"steps": [["20000", "①"]]}, "steps.0"),
        ({"steps": [[20000, 30000]]}, "steps"),
        ({"steps": [[20000, 3000], [20000, 4000]]}, "steps"),
        ({"steps": [[20000, 3000], [30000, 2000]]}, "steps"),
        ({"steps": [], "priority": "9" * 5000}, "priority"),
        ({"steps": [[20000, 3000]], "channels": ["APP!"]}, "channels"),
        ({"steps": [[20000, 3000]], "not_with": [7]}, "not_with"),
        ({"steps": [[20000, 3000]], "repeat": True, "cap_fen": -1}, "cap_fen"),
    ],
    ids=[
        "5000-digits",
        "circled-digit",
        "off-above-threshold",
        "same-threshold",
        "ladder-gives-less",
        "huge-priority",
        "bad-channel",
        "bad-layer",
        "negative-cap",
    ],
)
def test_spend_off_refusals_are_field_errors(fields, field):
    spec, errors = promotion_validate({"name": "满减", "kind": "spend_off", "starts_at": START, **fields})
    assert spec is None
    assert field in [error["field"] for error in errors]


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("199.5", 19950),
        ("199.50", 19950),
        ("¥1,000", 100000),
        ("0", 0),
        ("1.999", None),
        ("-1", None),
        ("１２", None),
        ("abc", None),
        ("", None),
    ],
)
def test_yuan_to_fen(text, fen):
    assert yuan_to_fen(text) == fen


def test_a_limited_time_price_names_its_items_and_is_not_zero():
    """Without SKUs or categories a ¥10 限时价 priced every line of every cart (new-user review)."""
    spec, errors = promotion_validate(
        {"name": "限时价", "kind": "special_price", "starts_at": START, "price_fen": 1000}
    )
    assert spec is None and "skus" in [e["field"] for e in errors]
    spec, errors = promotion_validate(
        {"name": "限时价", "kind": "special_price", "starts_at": START, "price_fen": 0, "skus": ["TV"]}
    )
    assert spec is None and "price_fen" in [e["field"] for e in errors]
