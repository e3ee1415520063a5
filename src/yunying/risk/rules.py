"""Rules are data (R2): a rule set is JSON, versioned in the database, and one pure function judges
signals with it. No Django, no clock: the backtest and the table tests call `judge` directly.

A rule set:
    {"thresholds": {"challenge": 40, "review": 60, "block": 85},
     "rules": [{"key": "fast_fill", "label": "...", "entries": ["signup.create"],
                "when": {"all": [{"signal": "fill_ms", "op": "<", "value": 3000}]},
                "points": 35, "action": null}]}
A condition is {"signal", "op", "value"} or {"all": [...]}, {"any": [...]}, {"not": {...}}. A missing
signal never matches (so {"not": ...} of a missing signal does). The score is the sum of the points of
the rules that fire, at most 100; the decision is the strictest of the score's threshold and the
hard actions of the rules that fired.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _

from yunying.risk.names import ENTRY_POINTS, SIGNALS


class Action(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"
    REVIEW = "review"
    BLOCK = "block"


SEVERITY = {Action.ALLOW: 0, Action.CHALLENGE: 1, Action.REVIEW: 2, Action.BLOCK: 3}

_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "in": lambda value, options: value in options,
}


def reason_label(reason: dict[str, Any]) -> str:
    """A stored reason's label as text (a msgid: callers translate it), else its rule's key. Decisions
    keep the label their rule had; whatever a stored row holds, a page that lists it must not fail."""
    label = reason.get("label")
    return label if isinstance(label, str) and label else str(reason.get("rule", ""))


class RuleSetError(ValueError):
    """A rule set that cannot be judged with; the message names the place."""


@dataclass(frozen=True)
class Reason:
    rule: str
    label: str
    points: int
    signals: dict[str, Any]
    action: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {"rule": self.rule, "label": self.label, "points": self.points, "signals": self.signals}
        if self.action:
            data["action"] = self.action
        return data


@dataclass(frozen=True)
class Judgement:
    score: int
    action: Action
    reasons: list[Reason] = field(default_factory=list)


def strictest(*actions: str) -> Action:
    return max((Action(a) for a in actions), key=SEVERITY.__getitem__, default=Action.ALLOW)


def _kind(value: Any) -> type:
    """The JSON kind of a value: a flag is not a number, an int and a float are both numbers."""
    if isinstance(value, bool):
        return bool
    if isinstance(value, int | float):
        return float
    return type(value)


def _matches(condition: dict[str, Any], signals: dict[str, Any], fired: dict[str, Any]) -> bool:
    """Whether `condition` holds; the signal values that made it hold are added to `fired`."""
    if "all" in condition:
        found: dict[str, Any] = {}
        if all(_matches(part, signals, found) for part in condition["all"]):
            fired.update(found)
            return True
        return False
    if "any" in condition:
        for part in condition["any"]:
            found = {}
            if _matches(part, signals, found):
                fired.update(found)
                return True
        return False
    if "not" in condition:
        return not _matches(condition["not"], signals, {})
    name = condition["signal"]
    value = signals.get(name)
    if value is None:
        return False
    expected = condition["value"]
    # A signal of another type than the rule expects never matches: not by raising (3 < "a"), and not
    # by Python's kindness either ("7" != 6, True == 1, True in [1, 2]).
    if condition["op"] == "in":
        expected = [option for option in expected if _kind(option) == _kind(value)]
    elif _kind(expected) != _kind(value):
        return False
    try:
        holds = bool(_OPS[condition["op"]](value, expected))
    except TypeError:
        return False
    if holds:
        fired[name] = value
    return holds


MAX_DEPTH = 12  # all/any/not nested deeper than this is refused (and could not be judged: recursion)
MAX_OPTIONS = 1000  # options of one "in"


def _check_value(value: Any, where: str) -> None:
    if isinstance(value, bool) or (isinstance(value, str) and len(value) <= 200 and "\x00" not in value):
        return
    if isinstance(value, int) and abs(value) <= 10**15:
        return
    if isinstance(value, float) and math.isfinite(value) and abs(value) <= 1e15:
        return
    raise RuleSetError(
        _("%(where)s: a value is text (at most 200 characters), a finite number or true/false")
        % {"where": where}
    )


def _check_condition(condition: Any, where: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise RuleSetError(
            _("%(where)s: conditions nested more than %(depth)s deep") % {"where": where, "depth": MAX_DEPTH}
        )
    if not isinstance(condition, dict):
        raise RuleSetError(_("%(where)s: a condition is an object") % {"where": where})
    if "all" in condition or "any" in condition:
        parts = condition.get("all", condition.get("any"))
        if not isinstance(parts, list) or not parts:
            raise RuleSetError(_("%(where)s: all/any take a non-empty list") % {"where": where})
        for index, part in enumerate(parts):
            _check_condition(part, f"{where}.{index}", depth + 1)
    elif "not" in condition:
        _check_condition(condition["not"], f"{where}.not", depth + 1)
    else:
        if not isinstance(condition.get("signal"), str) or condition.get("op") not in _OPS:
            raise RuleSetError(
                _("%(where)s: needs signal and op (one of %(ops)s)")
                % {"where": where, "ops": ", ".join(_OPS)}
            )
        if condition["signal"] not in SIGNALS:
            raise RuleSetError(
                _("%(where)s: no signal is called %(name)s (docs/risk.md, Signals)")
                % {"where": where, "name": repr(condition["signal"][:60])}
            )
        if "value" not in condition:
            raise RuleSetError(_("%(where)s: needs a value") % {"where": where})
        if condition["op"] == "in":
            if not isinstance(condition["value"], list) or len(condition["value"]) > MAX_OPTIONS:
                raise RuleSetError(
                    _("%(where)s: 'in' takes a list of at most %(n)s values")
                    % {"where": where, "n": MAX_OPTIONS}
                )
            for option in condition["value"]:
                _check_value(option, where)
        else:
            _check_value(condition["value"], where)


def ruleset_validate(ruleset: Any) -> dict[str, Any]:
    """The rule set if it can be judged with. Raises RuleSetError naming what is wrong."""
    if not isinstance(ruleset, dict) or not isinstance(ruleset.get("rules"), list):
        raise RuleSetError(_("a rule set is an object with a list of rules"))
    thresholds = ruleset.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise RuleSetError(_("thresholds is an object"))
    last = 0
    for name in ("challenge", "review", "block"):
        value = thresholds.get(name, 101)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 101 or value < last:
            raise RuleSetError(
                _("thresholds.%(name)s: a whole number 1–101, challenge ≤ review ≤ block") % {"name": name}
            )
        last = value
    keys = set()
    for index, rule in enumerate(ruleset["rules"]):
        where = f"rules.{index}"
        if (
            not isinstance(rule, dict)
            or not isinstance(rule.get("key"), str)
            or not 0 < len(rule["key"]) <= 64
        ):
            raise RuleSetError(_("%(where)s: needs a key (at most 64 characters)") % {"where": where})
        label = rule.get("label", "")
        if not isinstance(label, str) or len(label) > 200 or "\x00" in label or "\x00" in rule["key"]:
            raise RuleSetError(
                _("%(where)s: label is text, at most 200 characters (key and label without NUL)")
                % {"where": where}
            )
        if rule["key"] in keys:
            raise RuleSetError(
                _("%(where)s: key %(key)s appears twice") % {"where": where, "key": rule["key"]}
            )
        keys.add(rule["key"])
        points = rule.get("points", 0)
        if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= 100:
            raise RuleSetError(_("%(where)s: points is a whole number 0–100") % {"where": where})
        if rule.get("action") not in (None, Action.CHALLENGE, Action.REVIEW, Action.BLOCK):
            raise RuleSetError(_("%(where)s: action is challenge, review or block") % {"where": where})
        entries = rule.get("entries", [])
        if not isinstance(entries, list) or any(entry not in ENTRY_POINTS for entry in entries):
            raise RuleSetError(
                _("%(where)s: entries is a list of entry points (%(entries)s)")
                % {"where": where, "entries": ", ".join(ENTRY_POINTS)}
            )
        _check_condition(rule.get("when"), f"{where}.when")
    return ruleset


def judge(ruleset: dict[str, Any], signals: dict[str, Any], *, entry: str) -> Judgement:
    """Score `signals` of an event at `entry` with `ruleset` (already validated)."""
    reasons: list[Reason] = []
    actions: list[str] = []
    for rule in ruleset["rules"]:
        entries = rule.get("entries")
        if entries and entry not in entries:
            continue
        fired: dict[str, Any] = {}
        if _matches(rule["when"], signals, fired):
            action = rule.get("action")
            reasons.append(
                Reason(rule["key"], rule.get("label", rule["key"]), rule.get("points", 0), fired, action)
            )
            if action:
                actions.append(action)
    score = min(100, sum(reason.points for reason in reasons))
    thresholds = ruleset.get("thresholds", {})
    by_score = Action.ALLOW
    for name in (Action.CHALLENGE, Action.REVIEW, Action.BLOCK):
        if score >= thresholds.get(name, 101):
            by_score = name
    return Judgement(score=score, action=strictest(by_score, *actions), reasons=reasons)
