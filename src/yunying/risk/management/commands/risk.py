"""yunying risk backtest --traffic DIR [--rules live|builtin|N|FILE] [--out FILE]
   yunying risk backtest --stored [--days N] [--rules ...]

--traffic replays recorded traffic (docs/risk.md "Traffic format") in a child process on its own
throw-away SQLite database, the rules' windows following the recorded times; one JSON line per record
goes to --out, and a table of recall and of honest members hurt, per record type and family, to the
screen. --stored re-judges the signals of the decisions stored in this database.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yunying.core.errors import DomainError
from yunying.risk.defaults import BUILT_IN
from yunying.risk.models import Decision, RuleVersion
from yunying.risk.rules import RuleSetError, ruleset_validate
from yunying.risk.selectors import rule_live

CHILD = "YUNYING_RISK_BACKTEST_CHILD"


def _rules(spec: str) -> tuple[int, dict]:
    """(number, rule set) named by --rules. Raises CommandError."""
    if spec == "builtin":
        return 0, BUILT_IN
    if spec == "live":
        return rule_live()
    if spec.isdigit():
        found = RuleVersion.objects.filter(number=int(spec)).values_list("number", "rules").first()
        if found is None:
            raise CommandError(f"no rule version {spec}")
        return found
    path = Path(spec)
    if not path.is_file():
        raise CommandError(f"--rules: not live, builtin, a version number or a file: {spec}")
    try:
        rules = ruleset_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, RuleSetError, RecursionError) as exc:
        raise CommandError(f"{path}: {exc}") from exc
    return -1, rules


class Command(BaseCommand):
    help = "Risk control: replay traffic or stored decisions through a rule version."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        backtest = sub.add_parser("backtest", help="measure a rule version on labelled traffic")
        source = backtest.add_mutually_exclusive_group(required=True)
        source.add_argument("--traffic", help="a directory of *.jsonl traffic files")
        source.add_argument("--stored", action="store_true", help="re-judge the decisions stored here")
        backtest.add_argument(
            "--rules", default="live", help="live (default), builtin, a version number or a JSON file"
        )
        backtest.add_argument("--out", help="write one JSON line per record here")
        backtest.add_argument("--days", type=int, default=30, help="with --stored: how far back")
        backtest.add_argument("--rules-json", help=argparse.SUPPRESS)  # parent to child
        ranges = sub.add_parser(
            "ip-ranges", help="check a file of IP classes (CIDR datacentre|mobile per line)"
        )
        ranges.add_argument("file", nargs="?", help="the file to check (default: the one in use)")

    def handle(self, *args, action, traffic=None, stored=False, rules="live", out=None, days=30, rules_json=None, file=None, **options):  # fmt: skip
        if action == "ip-ranges":
            return self._ip_ranges(file)
        if stored:
            return self._stored(rules, days)
        if os.environ.get(CHILD):
            return self._replay(Path(traffic), json.loads(rules_json), out)
        from yunying.risk.backtest import traffic_read

        try:
            traffic_read(Path(traffic))  # refuse bad traffic before anything starts
        except DomainError as exc:
            raise CommandError(exc.data.get("problem", exc.code)) from exc
        number, ruleset = _rules(rules)
        with tempfile.TemporaryDirectory(prefix="yunying-backtest-") as scratch:
            env = {
                key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")
            }
            env.update({CHILD: "1", "YUNYING_VAR_DIR": scratch})
            command = [
                sys.executable,
                "-m",
                "yunying.cli",
                "risk",
                "backtest",
                "--traffic",
                str(Path(traffic).resolve()),
            ]
            command += ["--rules-json", json.dumps([number, ruleset])]
            if out:
                command += ["--out", str(Path(out).resolve())]
            done = subprocess.run(command, env=env, check=False)  # noqa: S603 (our own command, argv list)
        if done.returncode:
            raise CommandError("the backtest failed (above)", returncode=done.returncode)

    def _ip_ranges(self, file: str | None) -> None:
        from collections import Counter

        from yunying.risk.signals import ip_ranges_parse, ip_ranges_path

        path = Path(file or ip_ranges_path())
        try:
            ranges = ip_ranges_parse(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        counts = Counter(kind for _, kind in ranges)
        self.stdout.write(
            f"{path}: {len(ranges)} ranges ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))})"
        )

    def _replay(self, directory: Path, rules: list, out: str | None) -> None:
        from yunying.risk.backtest import traffic_read, traffic_replay

        try:
            records = traffic_read(directory)
        except DomainError as exc:
            raise CommandError(exc.data.get("problem", exc.code)) from exc
        call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write(
            f"replaying {len(records)} records with rule version {rules[0]} on a throw-away database"
        )
        with open(out or os.devnull, "w", encoding="utf-8") as handle:
            tally = traffic_replay(records, rules=(rules[0], rules[1]), out=handle)
        self.stdout.write("\n".join(tally.lines()))

    def _stored(self, spec: str, days: int) -> None:
        from yunying.risk.backtest import stored_replay

        number, ruleset = _rules(spec)
        since = timezone.now() - timedelta(days=days)
        rows = Decision.objects.filter(shadow=False, at__gte=since).values_list(
            "entry", "signals", "action", "label"
        )
        tally = stored_replay(rows.iterator(), rules=ruleset)
        self.stdout.write(f"re-judged the decisions of the last {days} days with rule version {number}")
        self.stdout.write("\n".join(tally.lines()))
