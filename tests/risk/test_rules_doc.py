"""docs/risk.md carries the built-in rules as scripts/risk_rules_table.py prints them, and every rule
has its reasoning."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location(
        "risk_rules_table", ROOT / "scripts" / "risk_rules_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_carry_the_built_in_rules_table():
    doc = (ROOT / "docs" / "risk.md").read_text(encoding="utf-8")
    start = doc.index("<!-- rules table: scripts/risk_rules_table.py -->\n") + len(
        "<!-- rules table: scripts/risk_rules_table.py -->\n"
    )
    end = doc.index("\n<!-- end rules table -->")
    assert doc[start:end] == _script().rules_table(), "run scripts/risk_rules_table.py and paste its table"


def test_every_built_in_rule_says_why():
    from yunying.risk.defaults import BUILT_IN

    assert {rule["key"] for rule in BUILT_IN["rules"]} == set(_script().WHY)
