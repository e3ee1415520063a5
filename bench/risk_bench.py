"""Risk control benchmark (`make bench`, issue 13): what judging one event costs, on the embedded default.

Side by side, in one run, on a fresh SQLite database (a child process with its own var dir):

- floor:     one decision row inserted in its own transaction (the least a recorded decision costs);
- ours:      `risk.services.risk_assess` for a sign-up with every client signal (IP, device, user agent,
             form time, phone): counters, graph, lists, rules, the decision, in one transaction. It runs
             in its own transaction before the admission, so its time is what it adds to a sign-up;
- counters:  `risk.counters.velocity_record_and_count` alone, in the database and in Redis
             (REDIS_URL; the same function), on the same event sequence.

    python -m bench.risk_bench [--runs 3000] [--repeat 3] [--no-write]

Results go to stdout and to the "Risk control" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from bench.harness import REPO

TARGET_P99_MS = 2.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def child(runs: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from django.conf import settings

    from yunying.risk import counters
    from yunying.risk.models import Decision
    from yunying.risk.services import risk_assess
    from yunying.risk.signals import RiskInput, input_keys

    def event(n: int) -> RiskInput:
        return RiskInput(
            entry="signup.create", subject_type="signup", subject_ref=f"su_{n}", member_ref=f"m{n % (runs // 3 or 1)}",
            ip=f"113.{64 + n % 30}.{n % 250}.{n % 200 + 1}", device_id=f"dev-{n % 5000:08d}",
            user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)", form_fill_ms=15_000 + n % 9000,
            phone=f"1{(3, 5, 8)[n % 3]}{n % 10}{n * 7_654_321 % 10**8:08d}", campaign_ref=str(n % 5),
        )  # fmt: skip

    results: dict[str, list[float]] = {"floor": [], "ours": [], "counters_db": [], "counters_redis": []}
    for n in range(200):  # warm-up
        risk_assess(event(10**6 + n))
    for n in range(runs):
        started = time.perf_counter()
        with transaction.atomic():
            Decision.objects.create(entry="signup.create", subject_type="signup", subject_ref=f"f{n}", at=timezone.now(), score=0, action="allow")  # fmt: skip
        results["floor"].append(time.perf_counter() - started)
        started = time.perf_counter()
        risk_assess(event(n))
        results["ours"].append(time.perf_counter() - started)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    for store in ("db", "redis"):
        settings.REDIS_URL = redis_url if store == "redis" else ""
        for n in range(runs):
            data = event(2 * 10**6 + n)
            keys = input_keys(data)
            started = time.perf_counter()
            with transaction.atomic():
                counters.velocity_record_and_count(keys, entry=data.entry, member_ref=data.member_ref, campaign_ref=data.campaign_ref, at=timezone.now())  # fmt: skip
            results[f"counters_{store}"].append(time.perf_counter() - started)
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    return {name: [v * 1000 for v in values] for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.runs)))
        return
    # Several fresh databases, one after another, pooled: one run's p99 swings by ±0.3 ms with what
    # else the machine does; the pooled one is steadier, and each run's p99 is printed beside it.
    results: dict[str, list[float]] = {}
    run_p99s: list[float] = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="yunying-risk-bench-") as scratch:
            env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
            env.update(
                DJANGO_SETTINGS_MODULE="yunying.settings", YUNYING_VAR_DIR=scratch, PYTHONPATH=str(REPO)
            )
            done = subprocess.run([sys.executable, "-m", "bench.risk_bench", "--child", "--runs", str(args.runs)], env=env, capture_output=True, text=True, check=True, cwd=REPO)  # fmt: skip
        one = json.loads(done.stdout.strip().splitlines()[-1])
        run_p99s.append(_pct(one["ours"], 0.99))
        for name, values in one.items():
            results.setdefault(name, []).extend(values)
    floor_p50 = statistics.median(results["floor"])
    lines = [
        f"Risk control, SQLite, {args.repeat} runs × {args.runs} events each, pooled ({platform.processor() or platform.machine()}, {os.cpu_count()} cores; noisy: read the ratios)",
        "",
        "| what | p50 ms | p99 ms | p50 ÷ floor |",
        "| --- | ---: | ---: | ---: |",
    ]
    names = {
        "floor": "floor: one decision row in its own transaction",
        "ours": "risk_assess for a sign-up (what it adds to one)",
        "counters_db": "velocity counters, database",
        "counters_redis": "velocity counters, Redis (same function)",
    }
    for key, label in names.items():
        values = results[key]
        lines.append(f"| {label} | {statistics.median(values):.3f} | {_pct(values, 0.99):.3f} | {statistics.median(values) / floor_p50:.1f}× |")  # fmt: skip
    p99 = _pct(results["ours"], 0.99)
    verdict = "meets" if p99 <= TARGET_P99_MS else "misses"
    each = ", ".join(f"{value:.2f}" for value in run_p99s)
    lines += [
        "",
        f"Added p99 to a sign-up: {p99:.2f} ms pooled (each run: {each}) — {verdict} the {TARGET_P99_MS:.0f} ms target.",
    ]
    print("\n".join(lines))
    if not args.no_write:
        doc = REPO / "docs" / "benchmarks.md"
        text = doc.read_text(encoding="utf-8")
        section = "## Risk control (issue 13)\n\n" + "\n".join(lines) + "\n"
        start = text.find("## Risk control (issue 13)")
        if start >= 0:
            end = text.find("\n## ", start + 5)
            text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + section
        doc.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
