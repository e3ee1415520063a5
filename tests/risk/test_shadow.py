"""Shadow rules against their contract (docs/risk.md "Decisions", services.rule_version_set_state):
a shadow version's would-be decision is recorded beside the live one and never acted on; one version
is live and at most one in shadow, and the database holds that."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from yunying.core.permissions import Actor, Role
from yunying.risk.models import Case, Challenge, Decision, RuleState, RuleVersion
from yunying.risk.services import risk_assess, rule_version_create, rule_version_set_state
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db

OPERATOR = Actor(kind="user", id=1, label="risk operator", role=Role.STRATEGY)


def _everything(action: str, points: int = 100) -> dict:
    """A rule set whose one rule fires on every event (not of a signal no event has)."""
    return {
        "thresholds": {"challenge": 40, "review": 60, "block": 90},
        "rules": [
            {"key": "everything", "label": "everything", "when": {"not": {"signal": "identity.events_1m", "op": "==", "value": 1}},
             "points": points, "action": action},
        ],
    }  # fmt: skip


def _version(rules: dict, state: str | None = None) -> RuleVersion:
    version = rule_version_create(rules=rules, reason="test", based_on=None, actor=OPERATOR)
    if state:
        version = rule_version_set_state(number=version.number, state=state, actor=OPERATOR)
    return version


def _assess(ref: str = "S1", **values):
    return risk_assess(
        RiskInput(entry="signup.create", subject_type="signup", subject_ref=ref, member_ref=f"M-{ref}", ip="114.80.1.1", **values)
    )  # fmt: skip


def test_a_shadow_that_blocks_everything_changes_no_live_decision():
    # given a shadow version that blocks everything (the built-in rules live)
    shadow = _version(_everything("block"), RuleState.SHADOW)
    # when an honest sign-up is judged
    verdict = _assess()
    # then the live decision allows it, and one shadow decision records the block beside it
    assert verdict.action == "allow"
    live = Decision.objects.get(shadow=False)
    assert (live.pk, live.action, live.rule_version) == (verdict.decision_id, "allow", 0)
    would = Decision.objects.get(shadow=True)
    assert (would.action, would.score, would.rule_version) == ("block", 100, shadow.number)
    assert (would.subject_type, would.subject_ref, would.member_ref, would.at) == (live.subject_type, live.subject_ref, live.member_ref, live.at)  # fmt: skip
    assert would.signals == live.signals
    assert [r["rule"] for r in would.reasons] == ["everything"]


@pytest.mark.parametrize("action", ["review", "challenge", "block"])
def test_a_shadow_never_creates_a_case_or_a_challenge(action):
    _version(_everything(action, 0), RuleState.SHADOW)
    verdict = _assess()
    assert verdict.action == "allow" and verdict.challenge == ""
    assert Decision.objects.filter(shadow=True, action=action).count() == 1
    assert not Case.objects.exists()
    assert not Challenge.objects.exists()


def test_without_a_shadow_no_shadow_decision_is_written():
    _version(_everything("block"))  # a draft
    _assess()
    assert not Decision.objects.filter(shadow=True).exists()
    assert Decision.objects.count() == 1


def test_the_live_version_decides_and_the_shadow_is_recorded_beside_it():
    live = _version(_everything("review", 0), RuleState.LIVE)
    shadow = _version(_everything("block"), RuleState.SHADOW)
    verdict = _assess()
    assert verdict.action == "review"
    assert Decision.objects.get(shadow=False).rule_version == live.number
    assert Decision.objects.get(shadow=True).rule_version == shadow.number
    # the case is the live decision's
    assert Case.objects.get().decision.shadow is False


def _states() -> dict[int, str]:
    return dict(RuleVersion.objects.values_list("number", "state"))


def test_set_state_displaces_the_previous_live_and_shadow_versions():
    one, two, three, four = (_version(_everything("block")) for _ in range(4))
    rule_version_set_state(number=one.number, state="live", actor=OPERATOR)
    rule_version_set_state(number=two.number, state="shadow", actor=OPERATOR)
    assert _states() == {
        one.number: "live",
        two.number: "shadow",
        three.number: "draft",
        four.number: "draft",
    }
    # a new live version retires the old one; the shadow stays
    rule_version_set_state(number=three.number, state="live", actor=OPERATOR)
    assert _states() == {
        one.number: "retired",
        two.number: "shadow",
        three.number: "live",
        four.number: "draft",
    }
    # a new shadow sends the old shadow back to draft; the live one stays
    rule_version_set_state(number=four.number, state="shadow", actor=OPERATOR)
    assert _states() == {
        one.number: "retired",
        two.number: "draft",
        three.number: "live",
        four.number: "shadow",
    }
    # the shadow goes live: it leaves the shadow, and the live one retires
    rule_version_set_state(number=four.number, state="live", actor=OPERATOR)
    assert _states() == {
        one.number: "retired",
        two.number: "draft",
        three.number: "retired",
        four.number: "live",
    }
    assert RuleVersion.objects.filter(state="live").count() == 1
    assert RuleVersion.objects.filter(state="shadow").count() == 0


@pytest.mark.parametrize("state", ["live", "shadow"])
def test_the_database_holds_one_live_and_one_shadow_version(state):
    first = _version(_everything("block"), state)
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleVersion.objects.create(number=first.number + 1, rules=_everything("block"), state=state, author="x", reason="x")  # fmt: skip


def test_set_state_refuses_an_unknown_version_or_state():
    version = _version(_everything("block"))
    for number, state in ((version.number + 1, "live"), (version.number, "deleted")):
        with pytest.raises(Exception) as refused:
            rule_version_set_state(number=number, state=state, actor=OPERATOR)
        assert getattr(refused.value, "code", "") == "risk.rules_invalid"
    assert _states() == {version.number: "draft"}


def test_a_broken_shadow_changes_no_live_decision():
    # given a shadow version whose content cannot be judged (stored past validation)
    RuleVersion.objects.create(
        number=9, rules={"rules": "not a list"}, state="shadow", author="x", reason="x"
    )
    # when an event is judged
    verdict = _assess()
    # then the live rules decide as ever: the shadow is never acted on, not even by failing
    assert (verdict.action, verdict.fallback) == ("allow", False)
    assert Decision.objects.get(shadow=False).action == "allow"
    assert not Decision.objects.filter(shadow=True).exists()
