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


def test_a_segment_both_required_and_excluded_is_refused():
    """Nobody could sign up: the new-user review saved such a campaign without a word."""
    from yunying.campaigns.eligibility import eligibility_problems

    rules, problems = eligibility_problems({"segments_in": [3, 4], "segments_not_in": [3]})
    assert rules is None
    assert any("both required and excluded" in p["message"] for p in problems)


@pytest.mark.django_db
def test_the_campaign_summary_names_its_segments():
    """The summary said "open to every member" for a campaign limited to a segment."""
    from yunying.analytics.models import Segment
    from yunying.console.views.campaign_common import rules_lines

    vip, churned = Segment.objects.create(name="复购会员"), Segment.objects.create(name="流失会员")
    lines = rules_lines({"segments_in": [vip.pk], "segments_not_in": [churned.pk, 999]})
    assert any("复购会员" in line for line in lines)
    assert any("流失会员" in line and "#999" in line for line in lines)
