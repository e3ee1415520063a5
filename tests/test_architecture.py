"""Dependencies point one way (DESIGN "Layout"): the API, then the domain apps, then core; notify
knows no campaign and no member; no import cycles. The contracts live in pyproject.toml
([tool.importlinter]) and are checked by import-linter, which reads every import, including those
inside functions."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Files are read, nothing runs: one xdist worker for both tests, they share nothing else.
pytestmark = pytest.mark.xdist_group("import-linter")


def _lint(source_root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        env={"PYTHONPATH": str(source_root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_app_has_its_place_in_the_layers():
    # A new package (loyalty, console, …) must be placed in a layer, or nothing would check it.
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [layers] = [c["layers"] for c in contracts if c["type"] == "layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    packages = {f"yunying.{p.parent.name}" for p in (ROOT / "src" / "yunying").glob("*/__init__.py")}
    assert packages <= placed, f"add {sorted(packages - placed)} to [tool.importlinter] layers"


def test_the_code_keeps_every_import_contract():
    done = _lint(ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        pytest.param(
            "core/metrics.py",
            "from yunying.campaigns.models import Campaign",
            "Layers: the API and the pages, then the domain apps, then core",
            id="core-imports-a-domain-app",
        ),
        pytest.param(
            "notify/delivery.py",
            "def _f():\n    from yunying.campaigns.messages import TEMPLATES",
            "notify knows no campaign and no member",
            id="notify-imports-campaigns-inside-a-function",
        ),
        pytest.param(
            "campaigns/services/lottery.py",
            "from yunying.campaigns.jobs import campaigns_advance_due",
            "No import cycles, between apps or inside one",
            id="a-cycle-inside-campaigns",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, statement, contract):
    # given: a copy of the code with one import added against the rules
    shutil.copytree(ROOT / "src" / "yunying", tmp_path / "yunying", ignore=shutil.ignore_patterns("*.mo"))
    with (tmp_path / "yunying" / module).open("a", encoding="utf-8") as source:
        source.write(f"\n\n{statement}\n")
    # when
    done = _lint(tmp_path)
    # then
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{contract} BROKEN" in done.stdout
