"""The rules engine against its contract (risk/rules.py, docs/risk.md "Rules are data"): every built-in
rule fires on its side of each threshold and not on the other, only at its entry points; the score is
the capped sum, the decision the strictest of threshold and hard actions; missing signals and
mismatched types never match; a rule set that cannot be judged with is refused, naming the place."""

from __future__ import annotations

import copy

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from yunying.risk.defaults import BUILT_IN
from yunying.risk.rules import SEVERITY, Action, RuleSetError, judge, ruleset_validate

SIGNUP = "signup.create"
ORDER = "order.ingest"
SMS = "sms.send"


def fired(signals: dict, *, entry: str, ruleset: dict = BUILT_IN) -> set[str]:
    return {reason.rule for reason in judge(ruleset, signals, entry=entry).reasons}


# (id, entry, signals that fire the rule, signals just on the other side of a threshold)
RULES_TABLE = [
    ("scripted_client", SIGNUP, {"ua_kind": "scripted"}, {"ua_kind": "browser"}),
    ("inhuman_fill", SIGNUP, {"fill_ms": 1499, "member.campaign_events": 1}, {"fill_ms": 1500, "member.campaign_events": 1}),
    ("inhuman_fill", SIGNUP, {"fill_ms": 1499, "member.campaign_events": 1}, {"fill_ms": 1499, "member.campaign_events": 2}),
    ("fast_fill", SIGNUP, {"fill_ms": 1500, "member.campaign_events": 1}, {"fill_ms": 1499, "member.campaign_events": 1}),
    ("fast_fill", SIGNUP, {"fill_ms": 2999, "member.campaign_events": 1}, {"fill_ms": 3000, "member.campaign_events": 1}),
    ("fast_fill", SIGNUP, {"fill_ms": 2999, "member.campaign_events": 0}, {"fill_ms": 2999, "member.campaign_events": 2}),
    ("datacentre_ip", SIGNUP, {"ip_class": "datacentre"}, {"ip_class": "residential"}),
    ("datacentre_ip", ORDER, {"ip_class": "datacentre"}, {"ip_class": "mobile"}),
    ("virtual_number", SIGNUP, {"carrier_class": "virtual"}, {"carrier_class": "mobile"}),
    ("device_many_accounts", SIGNUP, {"device.accounts_24h": 5}, {"device.accounts_24h": 4}),
    ("device_shared", SIGNUP, {"device.accounts_24h": 3}, {"device.accounts_24h": 2}),
    ("device_shared", SIGNUP, {"device.accounts_24h": 4}, {"device.accounts_24h": 5}),
    ("ip_block_burst", SIGNUP, {"ip24.accounts_1h": 8, "ip_class": "datacentre"}, {"ip24.accounts_1h": 7, "ip_class": "datacentre"}),
    ("ip_block_burst", SIGNUP, {"ip24.accounts_1h": 8, "ip_class": "datacentre"}, {"ip24.accounts_1h": 8, "ip_class": "residential"}),
    ("ip_block_rotation", SIGNUP, {"ip24.other_accounts_1h": 8, "ip_class": "residential"}, {"ip24.other_accounts_1h": 7, "ip_class": "residential"}),
    ("ip_block_rotation", SIGNUP, {"ip24.other_accounts_1h": 8, "ip_class": "residential"}, {"ip24.other_accounts_1h": 30, "ip_class": "mobile"}),
    ("fresh_virtual", SIGNUP, {"carrier_class": "virtual", "member.age_s": 3599}, {"carrier_class": "virtual", "member.age_s": 3600}),
    ("fresh_virtual", SIGNUP, {"carrier_class": "virtual", "member.age_s": 0}, {"carrier_class": "mobile", "member.age_s": 0}),
    ("virtual_wave", "member.register", {"virtual.events_1h": 10, "virtual.wave_factor": 4.0}, {"virtual.events_1h": 9, "virtual.wave_factor": 24.0}),
    ("virtual_wave", SMS, {"virtual.events_1h": 40, "virtual.wave_factor": 4.0}, {"virtual.events_1h": 40, "virtual.wave_factor": 3.9}),
    ("flagged_virtual", SIGNUP, {"carrier_class": "virtual", "member.registration_score": 40}, {"carrier_class": "virtual", "member.registration_score": 39}),
    ("flagged_virtual", "coupon.claim", {"carrier_class": "virtual", "member.registration_score": 90}, {"carrier_class": "mobile", "member.registration_score": 90}),
    ("phone_run", SIGNUP, {"phone_block.accounts_24h": 3}, {"phone_block.accounts_24h": 2}),
    ("phone_run", SMS, {"phone_block.accounts_24h": 3}, {"phone_block.accounts_24h": 2}),
    ("phone_run_long", SIGNUP, {"phone_block.accounts_24h": 6}, {"phone_block.accounts_24h": 5}),
    ("fresh_shared_device", SIGNUP, {"device.accounts_24h": 2, "member.age_s": 599}, {"device.accounts_24h": 2, "member.age_s": 600}),
    ("fresh_shared_device", "coupon.claim", {"device.accounts_24h": 2, "member.age_s": 0}, {"device.accounts_24h": 1, "member.age_s": 0}),
    ("fresh_building_neighbours", SIGNUP, {"building.other_accounts_24h": 2, "member.age_s": 599}, {"building.other_accounts_24h": 1, "member.age_s": 599}),
    ("fresh_building_neighbours", SIGNUP, {"building.other_accounts_24h": 2, "member.age_s": 599}, {"building.other_accounts_24h": 2, "member.age_s": 600}),
    ("building_many_accounts", SIGNUP, {"building.accounts_24h": 5}, {"building.accounts_24h": 4}),
    ("ring", SIGNUP, {"graph.component_size": 6}, {"graph.component_size": 5}),
    ("payer_shared", ORDER, {"payer.accounts_24h": 3}, {"payer.accounts_24h": 2}),
    ("small_first_orders", ORDER, {"graph.small_first_orders": 3}, {"graph.small_first_orders": 2}),
    ("address_variants", ORDER, {"building.accounts_24h": 5}, {"building.accounts_24h": 4}),
    ("address_variants", "coupon.claim", {"building.accounts_24h": 5}, {"building.accounts_24h": 4}),
    ("invite_cycle", "referral.reward", {"graph.invite_cycle": True}, {"graph.invite_cycle": False}),
    ("phone_burst", SMS, {"phone.events_1h": 6}, {"phone.events_1h": 5}),
    ("ip_sms_burst", SMS, {"ip.events_1h": 20, "ip_class": "residential"}, {"ip.events_1h": 19, "ip_class": "residential"}),
    ("ip_sms_burst", SMS, {"ip.events_1h": 20, "ip_class": "datacentre"}, {"ip.events_1h": 20, "ip_class": "mobile"}),
]  # fmt: skip


def _table_id(row) -> str:
    key, entry, _yes, no = row
    return f"{key}@{entry}-not:{','.join(f'{k}={v}' for k, v in no.items())}"


def test_the_table_covers_every_built_in_rule():
    assert {row[0] for row in RULES_TABLE} == {rule["key"] for rule in BUILT_IN["rules"]}


@pytest.mark.parametrize(
    ("key", "entry", "fires", "does_not"), RULES_TABLE, ids=[_table_id(r) for r in RULES_TABLE]
)
def test_each_built_in_rule_fires_on_its_side_of_the_threshold(key, entry, fires, does_not):
    # given the signals on either side of the rule's threshold
    # when the built-in rules judge them
    # then the rule fires on one side only, and its reason names the signals that made it fire
    assert key in fired(fires, entry=entry)
    assert key not in fired(does_not, entry=entry)
    reason = next(r for r in judge(BUILT_IN, fires, entry=entry).reasons if r.rule == key)
    assert reason.signals and set(reason.signals) <= set(fires)
    assert all(fires[name] == value for name, value in reason.signals.items())


def _elsewhere(rule: dict) -> str:
    """An entry point the rule does not list."""
    everywhere = [SIGNUP, SMS, "order.ingest", "coupon.claim", "referral.reward", "member.register"]
    return next(entry for entry in everywhere if entry not in rule["entries"])


@pytest.mark.parametrize(
    ("key", "entry", "fires"),
    [
        (
            key,
            _elsewhere(next(r for r in BUILT_IN["rules"] if r["key"] == key)),
            fires,
        )
        for key, _entry, fires, _no in RULES_TABLE
    ],
    ids=[f"{row[0]}-{i}" for i, row in enumerate(RULES_TABLE)],
)
def test_a_rule_fires_only_at_its_entry_points(key, entry, fires):
    # given signals that fire the rule at its own entry point
    # when the event is at an entry point the rule does not list
    # then it does not fire
    rule = next(r for r in BUILT_IN["rules"] if r["key"] == key)
    assert entry not in rule["entries"]
    assert key not in fired(fires, entry=entry)


def test_a_sign_up_rule_does_not_fire_at_an_sms_send():
    # given a scripted client (a sign-up rule)
    signals = {"ua_kind": "scripted"}
    # when it asks for an SMS code / then the sign-up rule stays silent; at a sign-up it fires
    assert fired(signals, entry=SMS) == set()
    assert fired(signals, entry=SIGNUP) == {"scripted_client"}


# ---------------------------------------------------------------- score and action


def _always(key: str, points: int, action: str | None = None, entries: list | None = None) -> dict:
    rule = {
        "key": key,
        "when": {"signal": "amount_fen", "op": "==", "value": 1},
        "points": points,
        "action": action,
    }
    if entries is not None:
        rule["entries"] = entries
    return rule


def _never(key: str, points: int, action: str | None = None) -> dict:
    return {
        "key": key,
        "when": {"signal": "amount_fen", "op": "==", "value": 0},
        "points": points,
        "action": action,
    }


THRESHOLDS = {"challenge": 40, "review": 60, "block": 90}


def _ruleset(*rules: dict, thresholds: dict = THRESHOLDS) -> dict:
    return ruleset_validate({"thresholds": dict(thresholds), "rules": list(rules)})


def test_the_score_is_capped_at_100():
    # given three rules of 50 points that all fire
    ruleset = _ruleset(_always("a", 50), _always("b", 50), _always("c", 50))
    # when judged / then the score is 100 and every reason is kept
    judgement = judge(ruleset, {"amount_fen": 1}, entry=SIGNUP)
    assert judgement.score == 100
    assert [r.rule for r in judgement.reasons] == ["a", "b", "c"]
    assert judgement.action == Action.BLOCK


@pytest.mark.parametrize(
    ("points", "action"),
    [(0, "allow"), (39, "allow"), (40, "challenge"), (59, "challenge"), (60, "review"), (89, "review"), (90, "block"), (100, "block")],
    ids=lambda value: str(value),
)  # fmt: skip
def test_thresholds_turn_the_score_into_an_action(points, action):
    # given a rule of `points` that fires, thresholds 40/60/90
    ruleset = _ruleset(_always("r", points))
    # when judged / then the action is the highest threshold the score reaches
    judgement = judge(ruleset, {"amount_fen": 1}, entry=SIGNUP)
    assert (judgement.score, judgement.action) == (points, action)


def test_a_threshold_left_out_is_never_reached():
    ruleset = _ruleset(_always("r", 100), thresholds={"challenge": 40})
    assert judge(ruleset, {"amount_fen": 1}, entry=SIGNUP).action == Action.CHALLENGE


@pytest.mark.parametrize(
    ("points", "hard", "expected"),
    [
        (0, "block", "block"),
        (10, "review", "review"),
        (45, "review", "review"),  # challenge by score, review by the rule
        (65, "challenge", "review"),  # the stricter score wins over a milder hard action
        (95, "challenge", "block"),
    ],
    ids=[
        "0pts+block",
        "10pts+review",
        "challenge-score+review",
        "review-score+challenge",
        "block-score+challenge",
    ],
)
def test_a_hard_action_wins_over_a_lower_score(points, hard, expected):
    # given a rule with a hard action and `points` from another rule
    ruleset = _ruleset(_always("hard", 0, hard), _always("points", points))
    # when judged / then the decision is the stricter of the two
    judgement = judge(ruleset, {"amount_fen": 1}, entry=SIGNUP)
    assert judgement.action == expected
    assert judgement.score == points


def test_a_hard_action_of_a_rule_that_does_not_fire_does_nothing():
    ruleset = _ruleset(_never("hard", 0, "block"))
    assert judge(ruleset, {"amount_fen": 1}, entry=SIGNUP).action == Action.ALLOW


# ---------------------------------------------------------------- missing signals, not, types


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!=", "in"])
def test_a_missing_signal_never_matches(op):
    # given a rule on a signal the event does not have (with every operator, even !=)
    value = [1] if op == "in" else 1
    ruleset = _ruleset(
        {"key": "r", "when": {"signal": "payer.events_1h", "op": op, "value": value}, "points": 50}
    )
    # when judged with and without the signal being None / then the rule never fires
    assert fired({}, entry=SIGNUP, ruleset=ruleset) == set()
    assert fired({"payer.events_1h": None}, entry=SIGNUP, ruleset=ruleset) == set()


def test_not_of_a_missing_signal_matches():
    # given "not scripted" and an event without a user agent kind
    ruleset = _ruleset(
        {"key": "r", "when": {"not": {"signal": "ua_kind", "op": "==", "value": "scripted"}}, "points": 50}
    )
    # when judged / then the rule fires (the inner condition did not match)
    assert fired({}, entry=SIGNUP, ruleset=ruleset) == {"r"}
    assert fired({"ua_kind": "scripted"}, entry=SIGNUP, ruleset=ruleset) == set()


def test_all_with_one_missing_signal_does_not_match_and_any_needs_one():
    all_rule = {"key": "all", "when": {"all": [{"signal": "ip.events_1m", "op": ">=", "value": 1}, {"signal": "device.events_1m", "op": ">=", "value": 1}]}, "points": 10}  # fmt: skip
    any_rule = {"key": "any", "when": {"any": [{"signal": "ip.events_1m", "op": ">=", "value": 1}, {"signal": "device.events_1m", "op": ">=", "value": 1}]}, "points": 10}  # fmt: skip
    ruleset = _ruleset(all_rule, any_rule)
    assert fired({"ip.events_1m": 1}, entry=SIGNUP, ruleset=ruleset) == {"any"}
    assert fired({"ip.events_1m": 1, "device.events_1m": 1}, entry=SIGNUP, ruleset=ruleset) == {"all", "any"}
    assert fired({}, entry=SIGNUP, ruleset=ruleset) == set()


@pytest.mark.parametrize(
    ("op", "value", "signal"),
    [
        ("<", 3000, "fast"),
        (">=", 5, "5"),
        ("<", "3000", 10),
        ("==", 6, "6"),
        ("!=", 6, "7"),  # "not six" is not said of a word
        (">=", 1, True),  # a flag is not a count
        ("==", 1, True),
        ("==", True, 1),  # a count is not a flag
        ("in", [1, 2], True),
        ("in", ["5"], 5),
        ("<", 3000, [1]),
        ("<", 3000, {"ms": 1}),
    ],
    ids=[
        "str<int",
        "str>=int",
        "int<str",
        "str==int",
        "str!=int",
        "bool>=int",
        "bool==int",
        "int==bool",
        "bool-in-ints",
        "int-in-strs",
        "list<int",
        "dict<int",
    ],
)
def test_a_signal_of_another_type_never_matches(op, value, signal):
    # given a rule expecting one type and a signal of another
    ruleset = _ruleset({"key": "r", "when": {"signal": "fill_ms", "op": op, "value": value}, "points": 50})
    # when judged / then the rule does not fire (and nothing raises)
    assert fired({"fill_ms": signal}, entry=SIGNUP, ruleset=ruleset) == set()


def test_numbers_of_either_kind_compare():
    ruleset = _ruleset({"key": "r", "when": {"signal": "fill_ms", "op": "<", "value": 3000}, "points": 50})
    assert fired({"fill_ms": 2999.5}, entry=SIGNUP, ruleset=ruleset) == {"r"}


# ---------------------------------------------------------------- validation


def _valid_rule(**changes) -> dict:
    rule = {"key": "r", "when": {"signal": "fill_ms", "op": "<", "value": 1}, "points": 10}
    rule.update(changes)
    return rule


def _nested(depth: int) -> dict:
    """A condition `depth` levels of "not" deep."""
    condition: dict = {"signal": "fill_ms", "op": "<", "value": 1}
    for _ in range(depth):
        condition = {"not": condition}
    return condition


REFUSALS = [
    ("not-an-object", [], "a rule set is an object"),
    ("rules-not-a-list", {"rules": {}}, "a rule set is an object"),
    ("thresholds-not-an-object", {"thresholds": [], "rules": []}, "thresholds is an object"),
    ("threshold-zero", {"thresholds": {"challenge": 0}, "rules": []}, "thresholds.challenge"),
    ("threshold-102", {"thresholds": {"block": 102}, "rules": []}, "thresholds.block"),
    ("threshold-bool", {"thresholds": {"review": True}, "rules": []}, "thresholds.review"),
    ("thresholds-out-of-order", {"thresholds": {"challenge": 60, "review": 40}, "rules": []}, "thresholds.review"),
    ("rule-without-key", {"rules": [_valid_rule(), {"when": {}}]}, "rules.1: needs a key"),
    ("duplicate-key", {"rules": [_valid_rule(), _valid_rule()]}, "rules.1: key r appears twice"),
    ("points-101", {"rules": [_valid_rule(points=101)]}, "rules.0: points"),
    ("points-negative", {"rules": [_valid_rule(points=-1)]}, "rules.0: points"),
    ("points-bool", {"rules": [_valid_rule(points=True)]}, "rules.0: points"),
    ("action-unknown", {"rules": [_valid_rule(action="deny")]}, "rules.0: action"),
    ("action-allow", {"rules": [_valid_rule(action="allow")]}, "rules.0: action"),
    ("entries-a-string", {"rules": [_valid_rule(entries="signup.create")]}, "rules.0: entries"),
    ("when-missing", {"rules": [{"key": "r", "points": 1}]}, "rules.0.when"),
    ("empty-all", {"rules": [_valid_rule(when={"all": []})]}, "rules.0.when"),
    ("bad-op-in-all", {"rules": [_valid_rule(when={"all": [{"signal": "fill_ms", "op": "<", "value": 1}, {"signal": "fill_ms", "op": "~", "value": 1}]})]}, "rules.0.when.1"),
    ("bad-inside-not", {"rules": [_valid_rule(when={"not": {"signal": "fill_ms"}})]}, "rules.0.when.not"),
    ("no-value", {"rules": [_valid_rule(when={"signal": "fill_ms", "op": "<"})]}, "rules.0.when: needs a value"),
    ("in-not-a-list", {"rules": [_valid_rule(when={"signal": "fill_ms", "op": "in", "value": "abc"})]}, "rules.0.when: 'in' takes a list"),
    ("signal-not-a-string", {"rules": [_valid_rule(when={"signal": 3, "op": "<", "value": 1})]}, "rules.0.when"),
    # What an operator can type in the editor and would never fire, or could not be stored or judged:
    ("signal-misspelt", {"rules": [_valid_rule(when={"signal": "fil_ms", "op": "<", "value": 1})]}, "no signal is called 'fil_ms'"),
    ("entry-unknown", {"rules": [_valid_rule(entries=["signup.create", "nope"])]}, "rules.0: entries"),
    ("entry-not-text", {"rules": [_valid_rule(entries=[5])]}, "rules.0: entries"),
    ("label-an-object", {"rules": [_valid_rule(label={"a": 1})]}, "rules.0: label"),
    ("label-too-long", {"rules": [_valid_rule(label="x" * 201)]}, "rules.0: label"),
    ("label-with-nul", {"rules": [_valid_rule(label="a\x00b")]}, "rules.0: label"),  # PostgreSQL's jsonb refuses it: a 500
    ("value-with-nul", {"rules": [_valid_rule(when={"signal": "ua_kind", "op": "==", "value": "a\x00"})]}, "rules.0.when: a value"),
    ("key-too-long", {"rules": [_valid_rule(key="k" * 65)]}, "rules.0: needs a key"),
    ("value-infinite", {"rules": [_valid_rule(when={"signal": "fill_ms", "op": "<", "value": float("inf")})]}, "rules.0.when: a value"),
    ("value-nan", {"rules": [_valid_rule(when={"signal": "fill_ms", "op": "<", "value": float("nan")})]}, "rules.0.when: a value"),
    ("value-an-object", {"rules": [_valid_rule(when={"signal": "fill_ms", "op": "==", "value": {"a": 1}})]}, "rules.0.when: a value"),
    ("in-an-object", {"rules": [_valid_rule(when={"signal": "ip_class", "op": "in", "value": [{"a": 1}]})]}, "rules.0.when: a value"),
    ("nested-too-deep", {"rules": [_valid_rule(when=_nested(13))]}, "nested more than 12 deep"),
    ("nested-1500-deep", {"rules": [_valid_rule(when=_nested(1500))]}, "nested more than 12 deep"),
]  # fmt: skip


def test_conditions_nested_to_the_limit_are_accepted():
    assert ruleset_validate({"rules": [_valid_rule(when=_nested(12))]})


@pytest.mark.parametrize(("ruleset", "place"), [(r[1], r[2]) for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_ruleset_validate_refuses_naming_the_place(ruleset, place):
    with translation.override("en"), pytest.raises(RuleSetError) as refused:
        ruleset_validate(ruleset)
    assert place in str(refused.value)


def test_a_refusal_is_in_the_operators_language():
    with translation.override("zh-hans"), pytest.raises(RuleSetError) as refused:  # as the console shows it
        ruleset_validate({"rules": [_valid_rule(when={"signal": "fil_ms", "op": "<", "value": 1})]})
    assert str(refused.value) == "rules.0.when：没有名为 'fil_ms' 的信号（见 docs/risk.md 的“信号”一节）"


def test_the_built_in_rule_set_is_valid():
    assert ruleset_validate(copy.deepcopy(BUILT_IN)) == BUILT_IN


# ---------------------------------------------------------------- properties

# A rule that fires or not by construction: its condition reads a signal that is 1 or 0.
rule_strategy = st.builds(
    lambda points, action, fires: (points, action, fires),
    st.integers(0, 100),
    st.sampled_from([None, "challenge", "review", "block"]),
    st.booleans(),
)
thresholds_strategy = (
    st.lists(st.integers(1, 101), min_size=3, max_size=3)
    .map(sorted)
    .map(lambda t: {"challenge": t[0], "review": t[1], "block": t[2]})
)


def _built(rules: list[tuple], thresholds: dict) -> dict:
    return _ruleset(
        *[
            (_always if fires else _never)(f"r{index}", points, action)
            for index, (points, action, fires) in enumerate(rules)
        ],
        thresholds=thresholds,
    )


@given(st.lists(rule_strategy, max_size=12), thresholds_strategy)
def test_the_score_is_the_capped_sum_of_the_fired_points(rules, thresholds):
    judgement = judge(_built(rules, thresholds), {"amount_fen": 1}, entry=SIGNUP)
    assert judgement.score == min(100, sum(points for points, _a, fires in rules if fires))
    assert {r.rule for r in judgement.reasons} == {
        f"r{i}" for i, (_p, _a, fires) in enumerate(rules) if fires
    }


@given(st.lists(rule_strategy, max_size=10), thresholds_strategy, st.integers(0, 100), st.sampled_from([None, "challenge", "review", "block"]))  # fmt: skip
def test_adding_a_fired_rule_never_lowers_the_severity(rules, thresholds, points, action):
    before = judge(_built(rules, thresholds), {"amount_fen": 1}, entry=SIGNUP)
    after = judge(_built([*rules, (points, action, True)], thresholds), {"amount_fen": 1}, entry=SIGNUP)
    assert SEVERITY[after.action] >= SEVERITY[before.action]
    assert after.score >= before.score


signal_values = st.one_of(st.none(), st.booleans(), st.integers(-10, 10_000), st.sampled_from(["scripted", "browser", "datacentre", "virtual", "mobile"]))  # fmt: skip
signal_names = st.sampled_from(
    sorted(
        {
            c["signal"]
            for r in BUILT_IN["rules"]
            for c in ([r["when"]] if "signal" in r["when"] else r["when"]["all"])
        }
    )
)


@given(
    st.dictionaries(signal_names, signal_values, max_size=10),
    st.sampled_from(
        ["signup.create", "member.register", "sms.send", "coupon.claim", "referral.reward", "order.ingest"]
    ),
)
def test_judge_is_deterministic(signals, entry):
    first = judge(BUILT_IN, dict(signals), entry=entry)
    second = judge(copy.deepcopy(BUILT_IN), dict(signals), entry=entry)
    assert first == second
    assert 0 <= first.score <= 100
    assert first.action in Action
