"""The backtest: recorded traffic is validated whole, replayed in recorded time, on its own database."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from yunying.core.errors import DomainError
from yunying.risk.backtest import traffic_read, traffic_replay
from yunying.risk.defaults import BUILT_IN
from yunying.risk.models import Decision

T0 = datetime(2020, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def _member(ident: str, at: datetime, **extra) -> dict:
    # Numbers far apart: consecutive ones would be a phone run, another rule than the one under test.
    record = {
        "type": "member",
        "id": ident,
        "at": at.isoformat(),
        "phone": f"139{int(ident[1:]) * 7_654_321 % 10**8:08d}",
    }
    record.update(extra)
    return record


def _write(directory: Path, records: list[dict], name: str = "traffic.jsonl") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return directory


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("not json", "not JSON"),
        ('{"id": "m1", "at": "2020-03-01T09:00:00Z"}', "'type'"),
        ('{"type": "member", "at": "2020-03-01T09:00:00Z"}', "'id' is required"),
        ('{"type": "member", "id": "m1", "at": "2020-03-01T09:00:00"}', "UTC offset"),
        ('{"type": "member", "id": "m1", "at": "yesterday"}', "ISO 8601"),
        ('{"type": "signup", "id": "s1", "at": "2020-03-01T09:00:00Z", "campaign": "c"}', "'member' is required"),
        ('{"type": "order", "id": "o1", "at": "2020-03-01T09:00:00Z", "member": "m1"}', "amount_fen"),
        ('{"type": "order", "id": "o1", "at": "2020-03-01T09:00:00Z", "member": "m1", "amount_fen": 1.5}', "amount_fen"),
        ('{"type": "member", "id": "m1", "at": "2020-03-01T09:00:00Z", "signals": {"form_fill_ms": -1}}', "form_fill_ms"),
        ('{"type": "member", "id": "m1", "at": "2020-03-01T09:00:00Z", "label": "maybe"}', "'label'"),
        ('{"type": "member", "id": "m\\u0000", "at": "2020-03-01T09:00:00Z"}', "'id'"),
        ("[1, 2]", "JSON object"),
    ],
    ids=["not-json", "no-type", "no-id", "naive-time", "bad-time", "signup-no-member", "order-no-amount",
         "order-float-amount", "negative-fill", "bad-label", "nul-id", "array"],
)  # fmt: skip
def test_bad_traffic_is_refused_whole_naming_file_and_line(tmp_path, line, problem):
    # given: a good first line and a bad second one
    good = json.dumps(_member("m1", T0))
    (tmp_path / "a.jsonl").write_text(f"{good}\n{line}\n")
    # when
    with pytest.raises(DomainError) as refused:
        traffic_read(tmp_path)
    # then
    assert refused.value.code == "risk.traffic_invalid"
    assert refused.value.data["problem"].startswith("a.jsonl:2: ")
    assert problem in refused.value.data["problem"]


def test_a_repeated_id_and_an_empty_directory_are_refused(tmp_path):
    _write(tmp_path, [_member("m1", T0), _member("m1", T0 + timedelta(seconds=1))])
    with pytest.raises(DomainError, match=r"risk\.traffic_invalid"):
        traffic_read(tmp_path)
    with pytest.raises(DomainError, match=r"risk\.traffic_invalid"):
        traffic_read(tmp_path / "nothing")


def test_records_replay_in_recorded_time_across_files(tmp_path):
    # given: two files whose records interleave in time
    _write(
        tmp_path,
        [_member("m2", T0 + timedelta(minutes=2)), _member("m4", T0 + timedelta(minutes=4))],
        "b.jsonl",
    )
    _write(
        tmp_path,
        [_member("m1", T0 + timedelta(minutes=1)), _member("m3", T0 + timedelta(minutes=3))],
        "a.jsonl",
    )
    # when / then
    assert [record.id for record in traffic_read(tmp_path)] == ["m1", "m2", "m3", "m4"]


def _device_farm(tmp_path: Path, gap: timedelta) -> list[dict]:
    """Six members on one device, `gap` apart, at recorded times years before today."""
    records = [
        _member(f"m{n}", T0 + n * gap, signals={"device_id": "shared-device-01", "user_agent": "Mozilla/5.0"})
        for n in range(1, 7)
    ]
    _write(tmp_path, records)
    out = io.StringIO()
    traffic_replay(traffic_read(tmp_path), rules=(0, BUILT_IN), out=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.django_db
def test_windows_follow_the_recorded_times_not_the_wall_clock(tmp_path):
    # when: six accounts on one device within minutes (recorded in 2020)
    close = _device_farm(tmp_path / "close", timedelta(minutes=1))
    # then: the fifth and sixth are caught by "many accounts on one device" (five within 24 h)
    assert [line["decision"] != "allow" for line in close] == [False] * 4 + [True] * 2
    assert "device_many_accounts" in [reason["rule"] for reason in close[-1]["reasons"]]


@pytest.mark.django_db
def test_the_same_accounts_two_days_apart_fall_outside_the_day_window(tmp_path):
    spread = _device_farm(tmp_path / "spread", timedelta(hours=30))
    assert all("device_many_accounts" not in [r["rule"] for r in line["reasons"]] for line in spread)


@pytest.mark.django_db
def test_the_command_replays_on_a_throw_away_database_and_writes_one_line_per_record(tmp_path):
    # given
    traffic = _write(
        tmp_path / "traffic",
        [
            _member("m1", T0, label="honest", family="normal", signals={"user_agent": "Mozilla/5.0 (iPhone)"}),
            _member("m2", T0 + timedelta(seconds=5), label="fraud", family="bot",
                    signals={"ip": "47.92.1.7", "user_agent": "python-requests/2.31", "form_fill_ms": 300}),
            {"type": "signup", "id": "s1", "at": (T0 + timedelta(minutes=1)).isoformat(), "member": "m1",
             "campaign": "c1", "label": "honest"},
        ],
    )  # fmt: skip
    out = tmp_path / "decisions.jsonl"
    # when: the real command, as an operator runs it
    done = subprocess.run(
        [sys.executable, "-m", "yunying.cli", "risk", "backtest", "--traffic", str(traffic), "--rules", "builtin",
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    # then
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["type"], line["id"]) for line in lines] == [
        ("member", "m1"),
        ("member", "m2"),
        ("signup", "s1"),
    ]
    assert lines[1]["decision"] == "block" and lines[1]["score"] == 100
    assert {reason["rule"] for reason in lines[1]["reasons"]} >= {"scripted_client", "datacentre_ip"}
    assert re.search(r"member\s+fraud\s+bot\s+1\s+1\s+100\.0%r", done.stdout)
    assert not Decision.objects.exists()  # nothing reached this database


def test_the_command_refuses_bad_traffic_with_the_place(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"type": "member"}\n')
    done = subprocess.run(
        [sys.executable, "-m", "yunying.cli", "risk", "backtest", "--traffic", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "x.jsonl:1: 'id' is required" in done.stderr
