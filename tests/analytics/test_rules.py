"""Segment rules: validation, each condition as a table, and a property test against a plain
Python oracle over random rules."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.analytics.factories import member
from yunying.analytics.models import MemberRfm, Segment, SegmentMember
from yunying.analytics.rules import birth_date_cutoff, rule_parse, rule_problems
from yunying.analytics.services import segment_preview, segment_queryset
from yunying.campaigns.eligibility import age_on
from yunying.core.errors import ValidationFailed
from yunying.members.models import MemberTag, Tag

NOW = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
TODAY = date(2026, 12, 4)
LABELS = ["new", "active", "high_frequency", "potential", "at_risk", "dormant"]


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"conditions": []}, "rules.conditions"),
        ({"conditions": [{"field": "r_score", "min": 6}]}, "rules.conditions.0.r_score.min"),
        ({"conditions": [{"field": "order_count"}]}, "rules.conditions.0.order_count"),
        ({"conditions": [{"field": "order_count", "min": 5, "max": 2}]}, "rules.conditions.0.order_count"),
        ({"conditions": [{"field": "region", "values": ["3"]}]}, "rules.conditions.0.region.values.0"),
        (
            {"conditions": [{"field": "lifecycle", "values": ["sleepy"]}]},
            "rules.conditions.0.lifecycle.values.0",
        ),
        ({"conditions": [{"field": "gender", "values": ["x"]}]}, "rules.conditions.0.gender.values.0"),
        ({"conditions": [{"field": "shoe_size", "min": 1}]}, "rules.conditions.0"),
        ({"conditions": [{"field": "registered"}]}, "rules.conditions.0.registered"),
        ({"match": "some", "conditions": [{"field": "gender", "values": ["male"]}]}, "rules.match"),
        (
            {"conditions": [{"field": "gender", "values": ["male"], "colour": 1}]},
            "rules.conditions.0.gender.colour",
        ),
    ],
    ids=[
        "empty-group",
        "score-above-5",
        "range-without-bounds",
        "max-below-min",
        "region-one-digit",
        "unknown-label",
        "unknown-gender",
        "unknown-field",
        "registered-without-dates",
        "bad-match",
        "extra-key",
    ],
)
def test_invalid_rules_name_the_field(raw, field):
    # when
    rule, errors = rule_problems(raw)
    # then
    assert rule is None
    assert field in [e["field"] for e in errors], errors
    assert all(e["code"] == "core.invalid" for e in errors)


def test_rule_parse_raises_core_invalid_with_every_error():
    with pytest.raises(ValidationFailed) as caught:
        rule_parse({"conditions": [{"field": "r_score", "min": 0}, {"field": "age", "min": 200}]})
    assert len(caught.value.errors) == 2


def test_groups_nest_at_most_four_deep():
    leaf = {"field": "gender", "values": ["male"]}
    rule = {"conditions": [leaf]}
    for _ in range(4):
        rule = {"conditions": [rule]}
    assert rule_problems(rule)[0] is None


@pytest.mark.parametrize(
    ("today", "years", "cutoff"),
    [
        (date(2026, 12, 4), 18, date(2008, 12, 4)),
        (date(2028, 2, 29), 1, date(2027, 2, 28)),
        (date(2028, 2, 29), 4, date(2024, 2, 29)),
    ],
    ids=["plain", "leap-day-to-common-year", "leap-day-to-leap-year"],
)
def test_birth_date_cutoff(today, years, cutoff):
    assert birth_date_cutoff(today, years) == cutoff


# --- conditions, one table --------------------------------------------------------------------


@pytest.fixture
def people(db):
    """Five members with distinct facts, by name."""
    tag = Tag.objects.create(name="vip")
    other = Segment.objects.create(name="other")

    def make(name, *, rfm=None, tags=(), segment=False, **fields):
        who = member(now=NOW, **fields)
        if rfm is not None:
            MemberRfm.objects.create(member=who, computed_at=NOW, **rfm)
        for t in tags:
            MemberTag.objects.create(member=who, tag=t)
        if segment:
            SegmentMember.objects.create(segment=other, member=who, since=NOW)
        return name, who.pk

    people = dict(
        [
            make(
                "zj_dormant",
                region_code="330106",
                gender="male",
                birth_date=date(1990, 1, 1),
                source_channel="wechat",
                registered_days_ago=500,
                rfm={
                    "lifecycle": "dormant",
                    "last_paid_at": NOW - timedelta(days=120),
                    "recency_days": 120,
                    "frequency": 5,
                    "monetary_fen": 50000,
                    "r_score": 1,
                    "f_score": 4,
                    "m_score": 5,
                },
            ),
            make(
                "gd_active",
                region_code="440300",
                gender="female",
                birth_date=date(2008, 12, 5),  # 17 today, 18 tomorrow
                source_channel="app",
                registered_days_ago=100,
                tags=[tag],
                rfm={
                    "lifecycle": "active",
                    "last_paid_at": NOW - timedelta(days=3),
                    "recency_days": 3,
                    "frequency": 2,
                    "monetary_fen": 9000,
                    "r_score": 5,
                    "f_score": 2,
                    "m_score": 3,
                },
            ),
            make(
                "hz_new",
                region_code="330100",
                gender="female",
                birth_date=date(2008, 12, 4),  # 18 today
                registered_days_ago=2,
                segment=True,
                rfm={"lifecycle": "new", "frequency": 0, "monetary_fen": 0},
            ),
            make("unknown", registered_days_ago=40, rfm={"lifecycle": "potential"}),
            make("never_computed", region_code="110101", gender="male", registered_days_ago=1),
        ]
    )
    people["_segment"] = other.pk
    return people


CONDITION_TABLE = [
    ("lifecycle", {"field": "lifecycle", "values": ["dormant", "new"]}, {"zj_dormant", "hz_new"}),
    ("r_score", {"field": "r_score", "min": 4}, {"gd_active"}),
    ("f_score-range", {"field": "f_score", "min": 2, "max": 4}, {"zj_dormant", "gd_active"}),
    ("m_score-max", {"field": "m_score", "max": 3}, {"gd_active"}),
    ("days-since-90+", {"field": "days_since_last_order", "min": 90}, {"zj_dormant"}),
    ("days-since-upto-3", {"field": "days_since_last_order", "max": 3}, {"gd_active"}),
    ("days-since-upto-2", {"field": "days_since_last_order", "max": 2}, set()),
    ("order-count", {"field": "order_count", "min": 4}, {"zj_dormant"}),
    ("order-count-zero", {"field": "order_count", "max": 0}, {"hz_new", "unknown"}),
    ("net-paid", {"field": "net_paid_fen", "min": 9000, "max": 9000}, {"gd_active"}),
    ("age-18+", {"field": "age", "min": 18}, {"zj_dormant", "hz_new"}),
    ("age-upto-17", {"field": "age", "max": 17}, {"gd_active"}),
    ("province", {"field": "region", "values": ["33"]}, {"zj_dormant", "hz_new"}),
    ("city", {"field": "region", "values": ["3301"]}, {"zj_dormant", "hz_new"}),
    ("district", {"field": "region", "values": ["330106", "110101"]}, {"zj_dormant", "never_computed"}),
    ("gender", {"field": "gender", "values": ["male"]}, {"zj_dormant", "never_computed"}),
    ("source", {"field": "source_channel", "values": ["app", "wechat"]}, {"zj_dormant", "gd_active"}),
    ("tag", {"field": "tag", "values": ["vip"]}, {"gd_active"}),
    ("registered-since", {"field": "registered", "since": "2026-11-01"}, {"hz_new", "never_computed"}),
    ("registered-until", {"field": "registered", "until": "2026-10-01"}, {"zj_dormant", "gd_active"}),
    (
        "not-region",
        {"field": "region", "values": ["33"], "negate": True},
        {"gd_active", "unknown", "never_computed"},
    ),
]


@pytest.mark.parametrize(
    ("condition", "expected"), [c[1:] for c in CONDITION_TABLE], ids=[c[0] for c in CONDITION_TABLE]
)
def test_each_condition(people, condition, expected):
    # given
    rule = {"conditions": [condition]}
    # when
    got = set(segment_queryset(rule_parse(rule), now=NOW).values_list("id", flat=True))
    # then
    assert got == {people[n] for n in expected}
    assert segment_preview(rules=rule, now=NOW) == len(expected)


def test_in_and_not_in_another_segment(people):
    in_rule = rule_parse({"conditions": [{"field": "segment", "segment_id": people["_segment"]}]})
    out_rule = rule_parse(
        {"conditions": [{"field": "segment", "segment_id": people["_segment"], "negate": True}]}
    )
    assert set(segment_queryset(in_rule, now=NOW).values_list("id", flat=True)) == {people["hz_new"]}
    assert segment_queryset(out_rule, now=NOW).count() == 4


def test_the_issue_example_dormant_90_days_zhejiang_more_than_3_orders(people):
    rule = {
        "match": "all",
        "conditions": [
            {"field": "days_since_last_order", "min": 90},
            {"field": "region", "values": ["33"]},
            {"field": "order_count", "min": 4},
        ],
    }
    assert set(segment_queryset(rule_parse(rule), now=NOW).values_list("id", flat=True)) == {
        people["zj_dormant"]
    }


def test_any_and_nested_groups(people):
    rule = {
        "match": "any",
        "conditions": [
            {"field": "tag", "values": ["vip"]},
            {
                "match": "all",
                "conditions": [
                    {"field": "gender", "values": ["male"]},
                    {"field": "region", "values": ["11"]},
                ],
            },
        ],
    }
    got = set(segment_queryset(rule_parse(rule), now=NOW).values_list("id", flat=True))
    assert got == {people["gd_active"], people["never_computed"]}


# --- property: the database's answer is the oracle's ------------------------------------------

REGIONS = ["", "330106", "330100", "440300", "110101", "310115"]
CHANNELS = ["", "app", "wechat", "store"]


@pytest.fixture
def population(db):
    """Forty members with random facts (a fixed seed), and the facts as the oracle sees them."""
    rng = random.Random(10)
    tags = [Tag.objects.create(name=n) for n in ("vip", "cold")]
    segment = Segment.objects.create(name="seed")
    facts = []
    for _ in range(40):
        birth = (
            None
            if rng.random() < 0.2
            else date(rng.randint(1950, 2012), rng.randint(1, 12), rng.randint(1, 28))
        )
        who = member(
            now=NOW,
            registered_days_ago=rng.randint(0, 800),
            gender=rng.choice(["male", "female", "unknown"]),
            birth_date=birth,
            region_code=rng.choice(REGIONS),
            source_channel=rng.choice(CHANNELS),
        )
        who.refresh_from_db()
        fact = {"id": who.pk, "member": who, "rfm": None, "tags": set(), "segments": set()}
        if rng.random() < 0.9:
            buyer = rng.random() < 0.7
            days = rng.randint(0, 400)
            rfm = {
                "lifecycle": rng.choice(LABELS),
                "last_paid_at": NOW - timedelta(days=days, hours=rng.randint(0, 23)) if buyer else None,
                "frequency": rng.randint(1, 9) if buyer else 0,
                "monetary_fen": rng.randint(1, 20) * 1000 if buyer else 0,
                "r_score": rng.randint(1, 5) if buyer else 0,
                "f_score": rng.randint(1, 5) if buyer else 0,
                "m_score": rng.randint(1, 5) if buyer else 0,
            }
            MemberRfm.objects.create(member=who, computed_at=NOW, **rfm)
            fact["rfm"] = rfm
        for tag in tags:
            if rng.random() < 0.3:
                MemberTag.objects.create(member=who, tag=tag)
                fact["tags"].add(tag.name)
        if rng.random() < 0.4:
            SegmentMember.objects.create(segment=segment, member=who, since=NOW)
            fact["segments"].add(segment.pk)
        facts.append(fact)
    return segment.pk, facts


def _in_range(value, c):
    if value is None:
        return False
    return (c.get("min") is None or value >= c["min"]) and (c.get("max") is None or value <= c["max"])


def _oracle_condition(c: dict, f: dict) -> bool:
    m, rfm = f["member"], f["rfm"] or {}
    kind = c["field"]
    if kind == "lifecycle":
        hit = rfm.get("lifecycle") in c["values"]
    elif kind in ("r_score", "f_score", "m_score"):
        hit = _in_range(rfm.get(kind) or None, c)  # 0: no order, no score
    elif kind == "days_since_last_order":
        last = rfm.get("last_paid_at")
        # whole days elapsed: at least n days means last <= now - n days
        hit = last is not None and _in_range(int((NOW - last) / timedelta(days=1)), c)
    elif kind == "order_count":
        hit = _in_range(rfm.get("frequency"), c)
    elif kind == "net_paid_fen":
        hit = _in_range(rfm.get("monetary_fen"), c)
    elif kind == "age":
        hit = m.birth_date is not None and _in_range(age_on(m.birth_date, TODAY), c)
    elif kind == "region":
        hit = any(m.region_code.startswith(p) for p in c["values"])
    elif kind == "gender":
        hit = m.gender in c["values"]
    elif kind == "source_channel":
        hit = m.source_channel in c["values"]
    elif kind == "tag":
        hit = bool(f["tags"] & set(c["values"]))
    elif kind == "registered":
        day = timezone.localtime(m.created_at).date()
        hit = (c.get("since") is None or day >= c["since"]) and (c.get("until") is None or day < c["until"])
    elif kind == "segment":
        hit = c["segment_id"] in f["segments"]
    else:
        raise AssertionError(kind)
    return hit != c.get("negate", False)


def _oracle(group: dict, f: dict) -> bool:
    results = [_oracle(c, f) if "conditions" in c else _oracle_condition(c, f) for c in group["conditions"]]
    return all(results) if group.get("match", "all") == "all" else any(results)


def _ranged(field, low, high):
    bound = st.one_of(st.none(), st.integers(low, high))
    return (
        st.tuples(bound, bound)
        .filter(lambda b: b != (None, None))
        .map(
            lambda b: {
                "field": field,
                "min": min(x for x in b if x is not None) if None not in b else b[0],
                "max": max(b) if None not in b else b[1],
            }
        )
    )


def _conditions(segment_id):
    negate = st.booleans()
    plain = st.one_of(
        st.builds(
            lambda v: {"field": "lifecycle", "values": v},
            st.lists(st.sampled_from(LABELS), min_size=1, max_size=3),
        ),
        st.sampled_from(["r_score", "f_score", "m_score"]).flatmap(lambda f: _ranged(f, 1, 5)),
        _ranged("days_since_last_order", 0, 400),
        _ranged("order_count", 0, 10),
        _ranged("net_paid_fen", 0, 20000),
        _ranged("age", 0, 80),
        st.builds(
            lambda v: {"field": "region", "values": v},
            st.lists(st.sampled_from(["33", "44", "3301", "330106", "11", "31"]), min_size=1, max_size=2),
        ),
        st.builds(
            lambda v: {"field": "gender", "values": v},
            st.lists(st.sampled_from(["male", "female", "unknown"]), min_size=1),
        ),
        st.builds(
            lambda v: {"field": "source_channel", "values": v},
            st.lists(st.sampled_from(["app", "wechat", "store", "x"]), min_size=1),
        ),
        st.builds(
            lambda v: {"field": "tag", "values": v},
            st.lists(st.sampled_from(["vip", "cold", "none"]), min_size=1),
        ),
        st.builds(
            lambda d, span: {"field": "registered", "since": d, "until": d + timedelta(days=span)},
            st.dates(date(2024, 6, 1), date(2026, 12, 5)),
            st.integers(1, 400),
        ),
        st.just({"field": "segment", "segment_id": segment_id}),
    )
    return st.builds(lambda c, n: {**c, "negate": n} if n else c, plain, negate)


def _groups(segment_id):
    leaf = _conditions(segment_id)
    return st.recursive(
        st.builds(
            lambda m, cs: {"match": m, "conditions": cs},
            st.sampled_from(["all", "any"]),
            st.lists(leaf, min_size=1, max_size=3),
        ),
        lambda inner: st.builds(
            lambda m, cs: {"match": m, "conditions": cs},
            st.sampled_from(["all", "any"]),
            st.lists(st.one_of(leaf, inner), min_size=1, max_size=3),
        ),
        max_leaves=6,
    ).filter(lambda g: rule_problems(g)[0] is not None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_evaluation_equals_the_python_oracle(population, data):
    segment_id, facts = population
    # given
    rule = data.draw(_groups(segment_id))
    # when
    got = set(segment_queryset(rule_parse(rule), now=NOW).values_list("id", flat=True))
    # then
    assert got == {f["id"] for f in facts if _oracle(rule, f)}
