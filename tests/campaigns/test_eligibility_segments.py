"""Eligibility by segment membership (M5): a pure table over the facts."""

from __future__ import annotations

from datetime import date

import pytest

from yunying.campaigns.eligibility import MemberFacts, eligibility_evaluate, eligibility_parse
from yunying.core.errors import ValidationFailed

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("rules", "member_in", "reasons"),
    [
        ({"segments_in": [1]}, {1}, []),
        ({"segments_in": [1, 2]}, {2}, []),
        ({"segments_in": [1]}, set(), ["eligibility.not_in_segment"]),
        ({"segments_not_in": [3]}, set(), []),
        ({"segments_not_in": [3]}, {3}, ["eligibility.in_excluded_segment"]),
        (
            {"segments_in": [1], "segments_not_in": [3]},
            {3},
            ["eligibility.not_in_segment", "eligibility.in_excluded_segment"],
        ),
        ({}, {1, 3}, []),
    ],
    ids=["in", "in-any-of", "not-in", "not-excluded", "excluded", "both-fail", "no-rule"],
)
def test_segment_rules(rules, member_in, reasons):
    # given
    facts = MemberFacts(
        birth_date=None,
        gender="unknown",
        region_code="",
        recent_participations=0,
        segment_ids=frozenset(member_in),
    )
    # when
    got = eligibility_evaluate(eligibility_parse(rules), facts, today=TODAY)
    # then
    assert [r.code for r in got] == reasons


def test_segment_lists_compare_as_sets():
    assert eligibility_parse({"segments_in": [2, 1]}) == eligibility_parse({"segments_in": [1, 2, 2]})
    assert eligibility_parse({"segments_in": [1]}) != eligibility_parse({"segments_not_in": [1]})


def test_segment_ids_must_be_positive():
    with pytest.raises(ValidationFailed) as caught:
        eligibility_parse({"segments_in": [0]})
    assert caught.value.code == "core.invalid"
