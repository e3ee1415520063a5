"""Every audit action and object type has words (core.audit_labels): the audit log showed operators
privacy.request_create and privacy_request (new user review). The source is read for every
audit_record call; an action the reader cannot work out (not a literal, a conditional of literals, an
f-string of those or a module-level dict's values) fails too, so no new action slips past."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest
from django.utils import translation

from yunying.core.audit_labels import (
    action_label,
    action_labels,
    actor_text,
    field_label,
    group_label,
    object_type_label,
    object_type_labels,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "yunying"


def _module_dicts(tree: ast.Module) -> dict[str, ast.Dict]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
    return found


def _values(node: ast.AST, dicts: dict[str, ast.Dict]) -> set[str] | None:
    """Every string `node` can be, or None when that cannot be read from the source."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _values(node.body, dicts), _values(node.orelse, dicts)
        return None if body is None or orelse is None else body | orelse
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            inner = part.value if isinstance(part, ast.FormattedValue) else part
            values = _values(inner, dicts)
            if values is None:
                return None
            parts.append(sorted(values))
        return {"".join(p) for p in itertools.product(*parts)}
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in dicts:
        values = set()
        for value in dicts[node.value.id].values:
            found = _values(value, dicts)
            if found is None:
                return None
            values |= found
        return values
    return None


def _audited() -> tuple[dict[str, set[str]], dict[str, set[str]], list[str]]:
    """(action → files, object type → files, calls whose argument cannot be read) over src/."""
    actions: dict[str, set[str]] = {}
    object_types: dict[str, set[str]] = {}
    unreadable = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        dicts = _module_dicts(tree)
        where = str(path.relative_to(SRC))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) != "audit_record":
                continue
            arguments = {k.arg: k.value for k in node.keywords}
            for name, found in (("action", actions), ("object_type", object_types)):
                values = _values(arguments[name], dicts) if name in arguments else None
                if values is None:
                    unreadable.append(f"{where}:{node.lineno} {name}")
                    continue
                for value in values:
                    found.setdefault(value, set()).add(where)
    return actions, object_types, unreadable


ACTIONS, OBJECT_TYPES, UNREADABLE = _audited()


def test_the_scan_finds_the_actions_it_should():
    # given the source  /  when it is read  /  then the known actions, conditional ones too, are found
    assert len(ACTIONS) > 90, "the scan found almost nothing: it would prove nothing"
    assert {"privacy.request_create", "signup.withdraw", "campaign.publish", "export.approve"} <= set(ACTIONS)
    assert UNREADABLE == [], "write the action and object type as literals (or a conditional of them)"


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_audited_action_has_words_in_both_languages(action):
    assert action in action_labels(), f"{action} ({sorted(ACTIONS[action])}) has no label: register one"
    with translation.override("zh-hans"):
        chinese = action_label(action)
    with translation.override("en"):
        english = action_label(action)
    assert chinese != english, f"{action} has no Chinese label"
    assert group_label(action.split(".")[0]) != action.split(".")[0]


@pytest.mark.parametrize("object_type", sorted(OBJECT_TYPES))
def test_every_audited_object_type_has_words_in_both_languages(object_type):
    assert object_type in object_type_labels(), f"{object_type} has no label: register one"
    with translation.override("zh-hans"):
        chinese = object_type_label(object_type)
    with translation.override("en"):
        english = object_type_label(object_type)
    assert chinese != english, f"{object_type} has no Chinese label"


def test_no_label_for_an_action_nothing_records():
    # a renamed or mistyped action would keep its label and leave the real one bare
    assert set(action_labels()) - set(ACTIONS) == set()
    assert set(object_type_labels()) - set(OBJECT_TYPES) == set()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("privacy.request_create", "登记隐私请求"),
        ("export.approve", "批准明文导出"),
        ("operator.totp_enabled", "启用两步验证"),
    ],
    ids=str,
)
def test_actions_read_as_the_operations_team_says_them(code, words):
    with translation.override("zh-hans"):
        assert action_label(code) == words


def test_fields_and_object_types_read_in_chinese():
    with translation.override("zh-hans"):
        assert object_type_label("privacy_request") == "隐私请求"
        assert [field_label(f) for f in ("channel", "due_at", "kind")] == ["渠道", "截止时间", "类型"]


def test_an_unknown_code_shows_as_itself():
    assert action_label("no.such") == "no.such"
    assert object_type_label("no_such") == "no_such"
    assert field_label("no_such") == "no_such"


@pytest.mark.parametrize(
    ("kind", "label", "words"),
    [
        ("system", "loyalty earning", "系统自动发放积分"),
        ("system", "promotions.issuing", "系统自动发券"),
        ("system", "command line (root)", "命令行（root）"),
        ("member", "member:12", "会员本人"),
        ("user", "loyalty earning", "loyalty earning"),  # an operator's own name is theirs
        ("system", "something new", "something new"),
    ],
    ids=["earning", "issuing", "command-line", "member", "operator-named-like-a-job", "unknown"],
)
def test_actors_read_as_words(kind, label, words):
    with translation.override("zh-hans"):
        assert actor_text(kind, label) == words
