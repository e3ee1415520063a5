"""Eligibility rules (C3): one table of cases, every reason at once, rule validation, properties."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from yunying.campaigns.eligibility import (
    EligibilityRules,
    MemberFacts,
    Reason,
    age_on,
    eligibility_evaluate,
    eligibility_parse,
)
from yunying.campaigns.errors import EligibilityReason
from yunying.core.errors import DomainError

TODAY = date(2024, 6, 15)


def facts(**overrides) -> MemberFacts:
    """A 34-year-old woman in Nanshan, Shenzhen, with no recent sign-ups and no answers."""
    values = {
        "birth_date": date(1990, 3, 1),
        "gender": "female",
        "region_code": "440305",
        "recent_participations": 0,
        "answers": {},
    }
    values.update(overrides)
    return MemberFacts(**values)


def codes(raw_rules: dict, member: MemberFacts, today: date = TODAY) -> list[str]:
    return [r.code for r in eligibility_evaluate(eligibility_parse(raw_rules), member, today=today)]


R = EligibilityReason
TIER = {"required_answers": [{"question": "tier", "allowed": ["gold", "platinum"]}]}
CONSENT = {"required_answers": [{"question": "agree", "allowed": ["true"]}]}
LIMIT = {"participation_limit": {"count": 3, "period_days": 30}}


@pytest.mark.parametrize(
    ("rules", "member", "expected"),
    [
        pytest.param({}, facts(), [], id="no-rules"),
        pytest.param(
            {}, facts(birth_date=None, gender="unknown", region_code=""), [], id="no-rules-no-facts"
        ),
        # age
        pytest.param({"min_age": 18}, facts(birth_date=date(2006, 6, 15)), [], id="min-age-birthday-today"),
        pytest.param(
            {"min_age": 18},
            facts(birth_date=date(2006, 6, 16)),
            [R.TOO_YOUNG],
            id="min-age-birthday-tomorrow",
        ),
        pytest.param(
            {"min_age": 18}, facts(birth_date=date(2006, 6, 14)), [], id="min-age-birthday-yesterday"
        ),
        pytest.param({"max_age": 60}, facts(birth_date=date(1964, 6, 15)), [], id="max-age-turns-max-today"),
        pytest.param(
            {"max_age": 60}, facts(birth_date=date(1963, 6, 15)), [R.TOO_OLD], id="max-age-turns-max+1-today"
        ),
        pytest.param({"max_age": 60}, facts(birth_date=date(1963, 6, 16)), [], id="max-age-max+1-tomorrow"),
        pytest.param({"min_age": 34, "max_age": 34}, facts(), [], id="exact-age-band"),
        pytest.param({"min_age": 18}, facts(birth_date=None), [R.AGE_UNKNOWN], id="min-age-unknown-birth"),
        pytest.param({"max_age": 60}, facts(birth_date=None), [R.AGE_UNKNOWN], id="max-age-unknown-birth"),
        pytest.param({"genders": ["female"]}, facts(birth_date=None), [], id="no-age-rule-unknown-birth"),
        # gender
        pytest.param({"genders": ["female"]}, facts(gender="female"), [], id="gender-allowed"),
        pytest.param({"genders": ["female"]}, facts(gender="male"), [R.GENDER], id="gender-refused"),
        pytest.param(
            {"genders": ["female"]}, facts(gender="unknown"), [R.GENDER_UNKNOWN], id="gender-unknown-refused"
        ),
        pytest.param({"genders": ["male", "female"]}, facts(gender="male"), [], id="gender-one-of-two"),
        pytest.param({"genders": ["unknown"]}, facts(gender="unknown"), [], id="gender-unknown-allowed"),
        # regions allow
        pytest.param({"regions_allow": ["440000"]}, facts(region_code="440305"), [], id="allow-province"),
        pytest.param(
            {"regions_allow": ["440000"]},
            facts(region_code="110105"),
            [R.REGION_NOT_ALLOWED],
            id="allow-province-other",
        ),
        pytest.param({"regions_allow": ["440300"]}, facts(region_code="440305"), [], id="allow-city"),
        pytest.param({"regions_allow": ["440300"]}, facts(region_code="440300"), [], id="allow-city-itself"),
        pytest.param(
            {"regions_allow": ["440300"]},
            facts(region_code="440106"),
            [R.REGION_NOT_ALLOWED],
            id="allow-city-other-city-same-province",
        ),
        pytest.param({"regions_allow": ["440305"]}, facts(region_code="440305"), [], id="allow-district"),
        pytest.param(
            {"regions_allow": ["440305"]},
            facts(region_code="440306"),
            [R.REGION_NOT_ALLOWED],
            id="allow-district-neighbour",
        ),
        pytest.param(
            {"regions_allow": ["440305"]},
            facts(region_code="440300"),
            [R.REGION_NOT_ALLOWED],
            id="allow-district-parent-city",
        ),
        pytest.param(
            {"regions_allow": ["110000", "440300"]}, facts(region_code="440305"), [], id="allow-any-of-two"
        ),
        # regions deny
        pytest.param(
            {"regions_deny": ["440300"]}, facts(region_code="440305"), [R.REGION_DENIED], id="deny-city"
        ),
        pytest.param({"regions_deny": ["440305"]}, facts(region_code="440306"), [], id="deny-other-district"),
        pytest.param(
            {"regions_deny": ["440000"]}, facts(region_code="440106"), [R.REGION_DENIED], id="deny-province"
        ),
        pytest.param(
            {"regions_allow": ["440000"], "regions_deny": ["440300"]},
            facts(region_code="440305"),
            [R.REGION_DENIED],
            id="allow-province-deny-city-inside",
        ),
        pytest.param(
            {"regions_allow": ["440000"], "regions_deny": ["440300"]},
            facts(region_code="440106"),
            [],
            id="allow-province-deny-city-elsewhere",
        ),
        pytest.param(
            {"regions_allow": ["440000"]},
            facts(region_code=""),
            [R.REGION_UNKNOWN],
            id="allow-unknown-region",
        ),
        pytest.param(
            {"regions_deny": ["440000"]}, facts(region_code=""), [R.REGION_UNKNOWN], id="deny-unknown-region"
        ),
        pytest.param({"genders": ["female"]}, facts(region_code=""), [], id="no-region-rule-unknown-region"),
        # participation limit
        pytest.param(LIMIT, facts(recent_participations=0), [], id="limit-none-yet"),
        pytest.param(LIMIT, facts(recent_participations=2), [], id="limit-below"),
        pytest.param(LIMIT, facts(recent_participations=3), [R.PARTICIPATION_LIMIT], id="limit-at"),
        pytest.param(LIMIT, facts(recent_participations=4), [R.PARTICIPATION_LIMIT], id="limit-above"),
        # required answers
        pytest.param(TIER, facts(answers={"tier": "gold"}), [], id="answer-single-allowed"),
        pytest.param(TIER, facts(answers={"tier": "silver"}), [R.ANSWER_REQUIRED], id="answer-single-other"),
        pytest.param(TIER, facts(answers={}), [R.ANSWER_REQUIRED], id="answer-missing"),
        pytest.param(TIER, facts(answers={"tier": None}), [R.ANSWER_REQUIRED], id="answer-none"),
        pytest.param(TIER, facts(answers={"tier": ["silver", "gold"]}), [], id="answer-multi-contains"),
        pytest.param(TIER, facts(answers={"tier": ["silver"]}), [R.ANSWER_REQUIRED], id="answer-multi-lacks"),
        pytest.param(TIER, facts(answers={"tier": []}), [R.ANSWER_REQUIRED], id="answer-multi-empty"),
        pytest.param(CONSENT, facts(answers={"agree": True}), [], id="answer-consent-true"),
        pytest.param(
            CONSENT, facts(answers={"agree": False}), [R.ANSWER_REQUIRED], id="answer-consent-false"
        ),
        pytest.param(
            {"required_answers": [{"question": "agree", "allowed": ["false"]}]},
            facts(answers={"agree": False}),
            [],
            id="answer-bool-false-allowed",
        ),
    ],
)
def test_rule_table(rules, member, expected):
    # given
    parsed = eligibility_parse(rules)
    # when
    reasons = eligibility_evaluate(parsed, member, today=TODAY)
    # then
    assert [r.code for r in reasons] == expected


@pytest.mark.parametrize(
    ("rules", "member", "expected"),
    [
        pytest.param(
            {"min_age": 40}, facts(), Reason(R.TOO_YOUNG, {"min_age": 40}), id="too-young-names-min-age"
        ),
        pytest.param(
            {"max_age": 30}, facts(), Reason(R.TOO_OLD, {"max_age": 30}), id="too-old-names-max-age"
        ),
        pytest.param(
            {"genders": ["male"]}, facts(), Reason(R.GENDER, {"genders": ["male"]}), id="gender-names-allowed"
        ),
        pytest.param(
            {"regions_allow": ["110000"]},
            facts(),
            Reason(R.REGION_NOT_ALLOWED, {"regions_allow": ["110000"]}),
            id="region-names-allowed",
        ),
        pytest.param(
            LIMIT,
            facts(recent_participations=3),
            Reason(R.PARTICIPATION_LIMIT, {"count": 3, "period_days": 30}),
            id="limit-names-count-and-period",
        ),
        pytest.param(
            TIER, facts(), Reason(R.ANSWER_REQUIRED, {"question": "tier"}), id="answer-names-question"
        ),
    ],
)
def test_reasons_carry_the_rule_that_failed(rules, member, expected):
    # when
    reasons = eligibility_evaluate(eligibility_parse(rules), member, today=TODAY)
    # then
    assert reasons == [expected]
    assert reasons[0].as_dict()["code"] == expected.code
    assert reasons[0].as_dict()["message"]
    assert reasons[0].as_dict()["message"] != expected.code


def test_every_failing_reason_is_returned_in_a_fixed_order():
    # given: a member failing every rule at once
    rules = eligibility_parse(
        {
            "required_answers": [
                {"question": "tier", "allowed": ["gold"]},
                {"question": "agree", "allowed": ["true"]},
            ],
            "participation_limit": {"count": 1, "period_days": 7},
            "regions_deny": ["440000"],
            "regions_allow": ["110000"],
            "genders": ["male"],
            "min_age": 50,
        }
    )
    member = facts(recent_participations=5, answers={"tier": "silver", "agree": False})
    # when
    reasons = eligibility_evaluate(rules, member, today=TODAY)
    # then
    assert [(r.code, r.params.get("question")) for r in reasons] == [
        (R.TOO_YOUNG, None),
        (R.GENDER, None),
        (R.REGION_NOT_ALLOWED, None),
        (R.REGION_DENIED, None),
        (R.PARTICIPATION_LIMIT, None),
        (R.ANSWER_REQUIRED, "tier"),
        (R.ANSWER_REQUIRED, "agree"),
    ]


def test_unknown_facts_each_give_their_own_reason():
    # given
    rules = eligibility_parse({"min_age": 18, "regions_allow": ["440000"], "genders": ["female"]})
    member = facts(birth_date=None, region_code="", gender="unknown")
    # when
    reasons = eligibility_evaluate(rules, member, today=TODAY)
    # then
    assert [r.code for r in reasons] == [R.AGE_UNKNOWN, R.GENDER_UNKNOWN, R.REGION_UNKNOWN]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({"min_age": 30, "max_age": 20}, id="max-below-min"),
        pytest.param({"min_age": -1}, id="negative-age"),
        pytest.param({"max_age": 151}, id="absurd-age"),
        pytest.param({"genders": ["other"]}, id="bad-gender"),
        pytest.param({"genders": ["female", "F"]}, id="one-bad-gender"),
        pytest.param({"regions_allow": ["990000"]}, id="allow-unknown-province"),
        pytest.param({"regions_allow": ["44030"]}, id="allow-five-digits"),
        pytest.param({"regions_deny": ["44030a"]}, id="deny-not-digits"),
        pytest.param({"regions_deny": ["000000"]}, id="deny-zeros"),
        pytest.param({"regions_allow": ["44０３００"]}, id="allow-full-width-digits"),
        pytest.param({"participation_limit": {"count": 0, "period_days": 30}}, id="limit-zero"),
        pytest.param({"participation_limit": {"count": 1}}, id="limit-without-period"),
        pytest.param(
            {"required_answers": [{"question": "tier", "allowed": []}]}, id="answer-nothing-allowed"
        ),
        pytest.param({"required_answers": [{"question": "", "allowed": ["a"]}]}, id="answer-no-question"),
        pytest.param({"min_agee": 18}, id="unknown-rule"),
    ],
)
def test_invalid_rule_definitions_are_refused(raw):
    # when
    with pytest.raises(DomainError) as refused:
        eligibility_parse(raw)
    # then
    assert refused.value.code == "core.invalid"
    assert refused.value.data["errors"]
    # one error shape everywhere (issue 8 §2): each item names its field, with a code and a message
    for error in refused.value.data["errors"]:
        assert set(error) == {"field", "code", "message"}
        assert error["field"].startswith("eligibility")


@pytest.mark.parametrize("raw", [pytest.param(None, id="none"), pytest.param({}, id="empty")])
def test_no_rules_parse_to_the_empty_rule_set(raw):
    # when
    rules = eligibility_parse(raw)
    # then
    assert rules == EligibilityRules()


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        pytest.param(date(2000, 6, 15), date(2000, 6, 15), 0, id="day-of-birth"),
        pytest.param(date(2000, 6, 15), date(2018, 6, 14), 17, id="day-before-18th"),
        pytest.param(date(2000, 6, 15), date(2018, 6, 15), 18, id="18th-birthday"),
        pytest.param(date(2000, 12, 31), date(2001, 1, 1), 0, id="new-year-after-birth"),
        pytest.param(date(2000, 2, 29), date(2018, 2, 28), 17, id="leap-born-feb-28"),
        pytest.param(date(2000, 2, 29), date(2018, 3, 1), 18, id="leap-born-mar-1"),
        pytest.param(date(2000, 2, 29), date(2020, 2, 29), 20, id="leap-born-leap-day"),
    ],
)
def test_age_on(born, today, age):
    assert age_on(born, today) == age


# --- properties ---------------------------------------------------------------------------------

REGIONS = ["440000", "440300", "440305", "440306", "440106", "110000", "110105", "310000"]
QUESTIONS = ["tier", "agree"]
VALUES = ["gold", "silver", "true", "false"]

answer_values = st.one_of(
    st.none(), st.booleans(), st.sampled_from(VALUES), st.lists(st.sampled_from(VALUES), max_size=3)
)
member_facts = st.builds(
    MemberFacts,
    birth_date=st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2024, 12, 31))),
    gender=st.sampled_from(["male", "female", "unknown"]),
    region_code=st.sampled_from([*REGIONS, ""]),
    recent_participations=st.integers(0, 20),
    answers=st.dictionaries(st.sampled_from(QUESTIONS), answer_values, max_size=2),
    orders=st.integers(0, 5),
    paid_fen=st.integers(0, 20000),
    has_orders=st.booleans(),
)
days = st.dates(date(1950, 1, 1), date(2030, 12, 31))


@st.composite
def raw_rules(draw) -> dict:
    """A valid rule definition with any subset of the rules set."""
    raw: dict = {}
    ages = sorted(draw(st.lists(st.integers(0, 100), min_size=2, max_size=2)))
    if draw(st.booleans()):
        raw["min_age"] = ages[0]
    if draw(st.booleans()):
        raw["max_age"] = ages[1]
    if draw(st.booleans()):
        raw["genders"] = draw(st.lists(st.sampled_from(["male", "female", "unknown"]), unique=True))
    if draw(st.booleans()):
        raw["regions_allow"] = draw(st.lists(st.sampled_from(REGIONS), unique=True, max_size=3))
    if draw(st.booleans()):
        raw["regions_deny"] = draw(st.lists(st.sampled_from(REGIONS), unique=True, max_size=3))
    if draw(st.booleans()):
        raw["participation_limit"] = {"count": draw(st.integers(1, 10)), "period_days": 30}
    if draw(st.booleans()):
        raw["required_answers"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "question": st.sampled_from(QUESTIONS),
                        "allowed": st.lists(st.sampled_from(VALUES), min_size=1, unique=True),
                    }
                ),
                max_size=2,
            )
        )
    # Purchases: thresholds, or new customers only (the two exclude each other). No period: it picks
    # which orders the facts count, not how the facts are judged.
    if draw(st.booleans()):
        raw["first_order_only"] = True
    else:
        if draw(st.booleans()):
            raw["min_paid_fen"] = draw(st.integers(1, 20000))
        if draw(st.booleans()):
            raw["min_orders"] = draw(st.integers(1, 5))
    return raw


def _is_subsequence(part: list, whole: list) -> bool:
    remaining = iter(whole)
    return all(any(item == candidate for candidate in remaining) for item in part)


@given(member=member_facts, today=days)
def test_property_empty_rules_accept_any_member(member, today):
    assert eligibility_evaluate(eligibility_parse({}), member, today=today) == []


@given(raw=raw_rules(), member=member_facts, today=days, data=st.data())
def test_property_adding_rules_never_removes_a_reason(raw, member, today, data):
    # given: some of the rules, then all of them
    kept = data.draw(st.sets(st.sampled_from(sorted(raw))) if raw else st.just(set()))
    fewer = {key: raw[key] for key in kept}
    # when
    with_fewer = eligibility_evaluate(eligibility_parse(fewer), member, today=today)
    with_all = eligibility_evaluate(eligibility_parse(raw), member, today=today)
    # then: every reason still stands, in the same relative order
    assert _is_subsequence(with_fewer, with_all)


@given(raw=raw_rules(), member=member_facts, today=days)
def test_property_age_reasons_agree_with_age_on(raw, member, today):
    # when
    got = {r.code for r in eligibility_evaluate(eligibility_parse(raw), member, today=today)}
    # then
    has_age_rule = "min_age" in raw or "max_age" in raw
    assert (R.AGE_UNKNOWN in got) == (has_age_rule and member.birth_date is None)
    age = age_on(member.birth_date, today) if member.birth_date else None
    assert (R.TOO_YOUNG in got) == (age is not None and "min_age" in raw and age < raw["min_age"])
    assert (R.TOO_OLD in got) == (age is not None and "max_age" in raw and age > raw["max_age"])


@given(raw=raw_rules(), member=member_facts, today=days)
def test_property_evaluation_is_deterministic_and_survives_a_round_trip(raw, member, today):
    # given
    rules = eligibility_parse(raw)
    reparsed = eligibility_parse(rules.model_dump(exclude_unset=True))
    # when
    first = eligibility_evaluate(rules, member, today=today)
    second = eligibility_evaluate(rules, member, today=today)
    third = eligibility_evaluate(reparsed, dataclasses.replace(member), today=today)
    # then
    assert first == second == third


@given(raw=raw_rules(), member=member_facts, today=days)
def test_property_reasons_follow_the_declared_order(raw, member, today):
    # when
    got = [r.code for r in eligibility_evaluate(eligibility_parse(raw), member, today=today)]
    # then
    order = list(EligibilityReason)
    assert [order.index(code) for code in got] == sorted(order.index(code) for code in got)
    assert len([c for c in got if c != R.ANSWER_REQUIRED]) == len(set(got) - {R.ANSWER_REQUIRED})


@hsettings(max_examples=200)
@given(born=st.dates(date(1900, 1, 1), date(2024, 12, 31)), later=st.integers(0, 40000))
def test_property_age_grows_by_one_each_birthday(born, later):
    # given
    today = born + timedelta(days=later)
    # when
    age = age_on(born, today)
    tomorrow = age_on(born, today + timedelta(days=1))
    # then
    assert 0 <= age <= today.year - born.year
    assert tomorrow in (age, age + 1)
