"""Backtests (R2): replay recorded traffic, or stored decisions, through a rule version and measure it.

Recorded traffic is a directory of JSONL files in the format docs/risk.md "Traffic format" documents
(members, sign-ups and orders, each with its time, signals and, where known, a label). `traffic_read`
validates all of it before anything runs; `traffic_replay` feeds it in time order through the same
`risk_assess` the entry points call, with the event's recorded time as the clock, so every window
follows the recording, not the wall clock. The command runs the replay in a child process on a
throw-away SQLite database (management/commands/risk.py): nothing of it reaches the real one.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from yunying.core.errors import DomainError
from yunying.risk.errors import RiskError
from yunying.risk.rules import Action, judge
from yunying.risk.signals import Entry, RiskInput

TYPES = ("member", "signup", "order")
LABELS = ("fraud", "honest")
MAX_LINE = 64 * 1024


@dataclass
class Record:
    type: str
    id: str
    at: datetime
    data: dict[str, Any]
    order: int  # position in the files, for ties


def _problem(where: str, text: str) -> DomainError:
    return DomainError(RiskError.TRAFFIC_INVALID, problem=f"{where}: {text}")


def _text(record: dict, name: str, where: str, *, required: bool = False, limit: int = 500) -> str:
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise _problem(where, f"'{name}' is required")
        return ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise _problem(where, f"'{name}' must be text of at most {limit} characters")
    return value


def _record(raw: Any, where: str, order: int) -> Record:
    if not isinstance(raw, dict):
        raise _problem(where, "each line is a JSON object")
    kind = raw.get("type")
    if kind not in TYPES:
        raise _problem(where, "'type' must be member, signup or order")
    ident = _text(raw, "id", where, required=True, limit=64)
    stamp = _text(raw, "at", where, required=True, limit=40)
    try:
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _problem(where, "'at' must be an ISO 8601 time") from exc
    if at.tzinfo is None:
        raise _problem(where, "'at' needs a UTC offset (Z or +08:00)")
    signals = raw.get("signals", {})
    if not isinstance(signals, dict):
        raise _problem(where, "'signals' must be an object")
    fill = signals.get("form_fill_ms")
    if fill is not None and (not isinstance(fill, int) or isinstance(fill, bool) or fill < 0):
        raise _problem(where, "'signals.form_fill_ms' must be a whole number of milliseconds")
    for name in ("ip", "device_id", "user_agent", "channel"):
        _text(signals, name, f"{where} signals", limit=500)
    label = raw.get("label")
    if label not in (None, "", *LABELS):
        raise _problem(where, "'label' must be fraud or honest")
    for name in ("phone", "identity_number", "address", "invited_by", "payer", "family"):
        _text(raw, name, where)
    if kind in ("signup", "order"):
        _text(raw, "member", where, required=True, limit=64)
    if kind == "signup":
        _text(raw, "campaign", where, required=True, limit=64)
        if not isinstance(raw.get("answers", {}), dict):
            raise _problem(where, "'answers' must be an object")
    if kind == "order":
        for name in ("amount_fen", "refunded_fen"):
            value = raw.get(name)
            if (value is None and name == "amount_fen") or (
                value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0)
            ):
                raise _problem(where, f"'{name}' must be a whole number of fen")
    return Record(kind, ident, at, raw, order)


def traffic_read(directory: Path) -> list[Record]:
    """Every record of every *.jsonl file in `directory`, in time order (ties: file order).

    Raises: risk.traffic_invalid naming the file and line."""
    if not directory.is_dir():
        raise _problem(str(directory), "not a directory")
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise _problem(str(directory), "no *.jsonl files")
    records: list[Record] = []
    seen: set[tuple[str, str]] = set()
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                where = f"{path.name}:{number}"
                if len(line) > MAX_LINE:
                    raise _problem(where, "line longer than 64 KiB")
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise _problem(where, f"not JSON ({exc.msg})") from exc
                except RecursionError:
                    raise _problem(where, "nested too deep") from None
                record = _record(raw, where, len(records))
                if (record.type, record.id) in seen:
                    raise _problem(where, f"{record.type} id {record.id} appears twice")
                seen.add((record.type, record.id))
                records.append(record)
    records.sort(key=lambda record: (record.at, record.order))
    return records


def _signals(record: Record) -> dict[str, Any]:
    return record.data.get("signals") or {}


def record_input(record: Record, people: dict[str, dict[str, str]]) -> RiskInput:
    """The RiskInput a live entry point would have built for this record. `people` remembers what a
    member record said (phone, identity, address), as the live system knows its members."""
    data, signals = record.data, _signals(record)
    common = {
        "at": record.at,
        "ip": signals.get("ip") or None,
        "device_id": signals.get("device_id") or "",
        "user_agent": signals.get("user_agent") or "",
        "form_fill_ms": signals.get("form_fill_ms"),
        "channel": signals.get("channel") or "",
    }
    if record.type == "member":
        person = {
            "phone": data.get("phone") or "",
            "identity_number": data.get("identity_number") or "",
            "address": data.get("address") or "",
        }
        people[record.id] = person
        return RiskInput(
            entry=Entry.MEMBER_REGISTER, subject_type="member", subject_ref=record.id, member_ref=record.id,
            phone=person["phone"] or None, identity_number=person["identity_number"] or None,
            address=person["address"] or None, invited_by=data.get("invited_by") or "", **common,
        )  # fmt: skip
    member = data["member"]
    person = people.get(member, {})
    answers = data.get("answers") or {}
    identity = data.get("identity_number") or answers.get("identity_number") or person.get("identity_number")
    address = data.get("address") or answers.get("address") or person.get("address")
    if record.type == "signup":
        return RiskInput(
            entry=Entry.SIGNUP_CREATE, subject_type="signup", subject_ref=record.id, member_ref=member,
            campaign_ref=data["campaign"], phone=person.get("phone") or None,
            identity_number=identity or None, address=address or None, **common,
        )  # fmt: skip
    return RiskInput(
        entry=Entry.ORDER_INGEST, subject_type="order", subject_ref=record.id, member_ref=member,
        phone=person.get("phone") or None, identity_number=identity or None, address=address or None,
        payer=data.get("payer") or None, amount_fen=data["amount_fen"], **common,
    )  # fmt: skip


@dataclass
class Tally:
    """Caught and affected counts per record type and family."""

    rows: dict[tuple[str, str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, kind: str, label: str, family: str, action: str) -> None:
        for key in ((kind, label, "(all)"), (kind, label, family or "(none)")):
            counter = self.rows[key]
            counter["total"] += 1
            counter[action] += 1
            if action != Action.ALLOW:
                counter["flagged"] += 1

    def lines(self) -> list[str]:
        header = f"{'type':<8} {'label':<7} {'family':<18} {'total':>6} {'flagged':>8} {'rate':>7}  {'challenge':>9} {'review':>7} {'block':>6}"  # fmt: skip
        out = [header, "-" * len(header)]
        for (kind, label, family), counter in sorted(self.rows.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] != "(all)", item[0][2])):  # fmt: skip
            rate = counter["flagged"] / counter["total"] if counter["total"] else 0.0
            name = "recall" if label == "fraud" else "hurt" if label == "honest" else ""
            out.append(
                f"{kind:<8} {label or '-':<7} {family:<18} {counter['total']:>6} {counter['flagged']:>8} "
                f"{rate:>6.1%}{name[:1]} {counter['challenge']:>9} {counter['review']:>7} {counter['block']:>6}"
            )
        out.append(
            "rate: share flagged (challenge, review or block); r = recall on fraud, h = honest members hurt"
        )
        return out


def traffic_replay(records: Iterable[Record], *, rules: tuple[int, dict], out: IO[str]) -> Tally:
    """Judge every record in order with `rules` ((number, rule set)); one JSON line per record."""
    from yunying.risk.services import risk_assess

    people: dict[str, dict[str, str]] = {}
    tally = Tally()
    for record in records:
        verdict = risk_assess(record_input(record, people), rules=rules)
        label, family = record.data.get("label") or "", record.data.get("family") or ""
        out.write(
            json.dumps(
                {
                    "type": record.type, "id": record.id, "decision": str(verdict.action), "score": verdict.score,
                    "reasons": verdict.reasons, "label": label, "family": family,
                },
                ensure_ascii=False,
            )
            + "\n"
        )  # fmt: skip
        tally.add(record.type, label, family, str(verdict.action))
    return tally


def stored_replay(decisions: Iterable[tuple[str, dict, str, str]], *, rules: dict) -> Tally:
    """Re-judge stored decisions' signals ((entry, signals, stored action, label)) with `rules`."""
    tally = Tally()
    for entry, signals, _action, label in decisions:
        judgement = judge(rules, signals, entry=entry)
        tally.add(entry, label, "(stored)", str(judgement.action))
    return tally
