"""schemathesis over the whole OpenAPI document, every check, authenticated, against the shipped
server (`yunying serve`): every status an operation returns is declared, every body matches its
schema, schema-valid data is accepted or refused with a declared domain code, invalid data refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.harness import BIN, REPO

pytestmark = pytest.mark.xdist_group("live")

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_finds_nothing_over_the_whole_api(yunying_server):
    # when: a bounded, seeded run (the same examples every time; CI must be repeatable)
    run = subprocess.run(
        [
            str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run",
            f"{yunying_server.url}/api/v1/openapi.json", "--checks", "all",
            "--header", f"Authorization: Bearer {yunying_server.token}",
            "--max-examples", "5", "--seed", "20261204", "--generation-deterministic",
            # one worker: with two, schemathesis itself now and then fails while generating
            # ("SystemError: AST constructor recursion depth mismatch", a runtime error, not a finding)
            "--workers", "1",
        ],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    # then
    assert run.returncode == 0, run.stdout[-15000:] + run.stderr[-3000:]
