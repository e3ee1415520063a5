"""Sign-up burst benchmark (`make bench`): the product against its floors, per storage mode.

For each mode (SQLite; PostgreSQL; PostgreSQL + Redis) one child process prepares a fresh database,
starts the real server (granian WSGI, 2 worker processes × 2 threads) and, from a separate load
process on loopback, fires:

- product, hot:        20,000 sign-ups, 200 connections, 10 % duplicates, capacity 1,000
- product, unreached:  the same against a capacity nobody reaches
- bare admission:      the same burst at an endpoint doing only the admission transaction
- trivial:             an endpoint doing nothing
- open loop:           the product at half its measured maximum rate, for p99 under load
- raw admission:       the admission transaction without HTTP, 8 threads in-process

and verifies every product burst: zero oversell, zero double sign-ups, zero 5xx and timeouts, every
success answer committed, counters equal to rows. Results go to stdout and docs/benchmarks.md.

    python -m bench.signup_burst [--modes sqlite,postgres,postgres+redis] [--count 20000] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import MODES, REPO, Server, mode_env, run_load, summarize

CAPACITY_HOT = 1000
CAPACITY_UNREACHED = 10_000_000
CONCURRENCY = 200
DUP_RATIO = 0.10
RAW_THREADS = 8
RAW_OPS = 6000


# ---------------------------------------------------------------- child: one mode, Django configured


def _campaign(capacity: int, title: str):
    from django.utils import timezone

    from yunying.campaigns.services.lifecycle import campaign_create, campaign_publish
    from yunying.core.permissions import SYSTEM

    now = timezone.now()
    campaign = campaign_create(
        actor=SYSTEM,
        values={
            "title": title,
            "type": "promotion",
            "rules_text": "每人限报一次，先到先得。",
            "capacity": capacity,
            "channels": ["h5"],
            "notify_channels": ["sms"],
            "signup_start_at": now - timedelta(minutes=5),
            "signup_end_at": now + timedelta(hours=6),
            "event_start_at": now + timedelta(days=1),
            "event_end_at": now + timedelta(days=1, hours=2),
        },
    )
    return campaign_publish(campaign_id=campaign.pk, actor=SYSTEM)


def _verify(campaign, data: dict, *, expected_duplicates: int | None) -> list[str]:
    """Every invariant the burst must keep; returns the broken ones."""
    from django.db.models import Count

    from yunying.campaigns.models import BLOCKING_STATUSES, Signup

    results = data["results"]
    problems = []
    answered_ok = {r[2] for r in results if r[1] == 201}
    rows = Signup.objects.filter(campaign=campaign)
    in_db = dict(rows.values_list("pk", "status"))
    confirmed = sum(1 for s in in_db.values() if s == "confirmed")
    if any(r[1] >= 500 for r in results):
        problems.append(f"{sum(1 for r in results if r[1] >= 500)} server errors")
    if any(r[1] == 0 for r in results):
        problems.append(f"{sum(1 for r in results if r[1] == 0)} timeouts")
    if missing := answered_ok - set(in_db):
        problems.append(f"{len(missing)} success answers not committed")
    if unanswered := set(in_db) - answered_ok:
        problems.append(f"{len(unanswered)} rows without a success answer")
    if confirmed > campaign.capacity:
        problems.append(f"oversold: {confirmed} > {campaign.capacity}")
    twice = rows.filter(status__in=BLOCKING_STATUSES).values("member").annotate(n=Count("id")).filter(n__gt=1)
    if twice.exists():
        problems.append(f"{twice.count()} members signed up twice")
    campaign.refresh_from_db()
    counted = campaign.seats_taken
    if counted != confirmed:
        problems.append(f"counter {counted} != {confirmed} confirmed rows")
    if expected_duplicates is not None:
        refused_dup = sum(1 for r in results if r[3] == "signup.duplicate")
        if refused_dup != expected_duplicates:
            problems.append(f"{refused_dup} duplicates refused, expected {expected_duplicates}")
    return problems


def _raw_floor() -> dict:
    """Admissions per second without HTTP: the bare transaction."""
    from django.db import connections

    from bench.views import bare_admission

    campaign = _campaign(CAPACITY_UNREACHED, "raw floor")
    counter = iter(range(RAW_OPS))
    lock = threading.Lock()
    outcomes: list[str] = []

    def worker():
        try:
            for i in counter:
                outcome = bare_admission(campaign.pk, f"raw{i}")
                with lock:
                    outcomes.append(outcome)
        finally:
            connections.close_all()

    begin = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(RAW_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - begin
    return {
        "admissions": outcomes.count("confirmed"),
        "per_second": round(outcomes.count("confirmed") / wall, 1),
    }


def child(mode_name: str, count: int, out: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.views import bare_table_create
    from yunying.core.apikeys import apikey_create
    from yunying.core.permissions import Role

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        bare_table_create(cursor)
    _, token = apikey_create(name="bench", role=Role.INTEGRATION)
    hot, unreached = _campaign(CAPACITY_HOT, "burst hot"), _campaign(CAPACITY_UNREACHED, "burst unreached")
    bare, warm, opened = (_campaign(CAPACITY_UNREACHED, t) for t in ("bare", "warm-up", "open loop"))
    connection.close()

    server = Server(dict(os.environ)).start()
    report: dict = {"mode": mode_name}
    try:
        run_load(server.url, kind="trivial", count=2000, concurrency=CONCURRENCY)  # warm-up
        run_load(server.url, kind="product", campaign=warm.pk, token=token, count=1000, prefix="1399")
        duplicates = count - (count - int(count * DUP_RATIO))
        burst = {"count": count, "concurrency": CONCURRENCY, "dup_ratio": DUP_RATIO}
        runs = {
            "trivial": run_load(server.url, kind="trivial", count=count, concurrency=CONCURRENCY),
            "bare": run_load(server.url, kind="bare", campaign=bare.pk, prefix="1390", **burst),
            "hot": run_load(server.url, kind="product", campaign=hot.pk, token=token, prefix="1391", **burst),
            "unreached": run_load(
                server.url, kind="product", campaign=unreached.pk, token=token, prefix="1392", **burst
            ),
        }
        report.update({name: summarize(data) for name, data in runs.items()})
        # The hot burst is two populations (1,000 admissions, then fast refusals): each on its own
        # shows whether any request starved, which one p99 over both cannot.
        for outcome, keep in (("accepted", lambda r: r[1] == 201), ("refused", lambda r: r[1] != 201)):
            part = {**runs["hot"], "results": [r for r in runs["hot"]["results"] if keep(r)]}
            report[f"hot_{outcome}"] = summarize(part)
        report["verify_hot"] = _verify(hot, runs["hot"], expected_duplicates=None)
        report["verify_unreached"] = _verify(unreached, runs["unreached"], expected_duplicates=duplicates)
        report["hot"]["confirmed"] = hot.signups.filter(status="confirmed").count()
        rate = max(report["unreached"]["per_second"] / 2, 10)
        open_data = run_load(
            server.url, loop="open", kind="product", campaign=opened.pk, token=token, prefix="1393",
            rate=rate, duration=10, concurrency=CONCURRENCY,
        )  # fmt: skip
        report["open"] = summarize(open_data) | {"offered_per_second": rate}
        report["verify_open"] = _verify(opened, open_data, expected_duplicates=0)
    finally:
        server.stop()
    report["raw"] = _raw_floor()
    Path(out).write_text(json.dumps(report))


# ---------------------------------------------------------------- parent: every mode, table, docs


def _machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    return f"{os.cpu_count()} cores ({cpu}), {mem_kb // 1024 // 1024} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _versions() -> str:
    import django
    import granian

    parts = [f"Django {django.get_version()}", f"granian {granian.__version__}"]
    try:
        pg = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, check=False
        ).stdout.split()[-1]
        parts.append(f"PostgreSQL {pg}")
    except (OSError, IndexError):
        pass
    try:
        rv = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout
        parts.append("Redis " + rv.split("v=")[1].split()[0])
    except (OSError, IndexError):
        pass
    import sqlite3

    parts.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(parts)


def _table(reports: list[dict]) -> str:
    rows = [
        "| mode | trivial req/s | bare admission accepted/s | product accepted/s (unreached) | product ÷ bare "
        "| hot burst: accepted + refused /s | hot p50 / p95 / p99 / mean ms | unreached p99 / mean ms "
        "| open loop at ½ max: offered/s, p99 ms | raw admission/s (no HTTP) | invariants |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        bare, hot, un, opened = r["bare"], r["hot"], r["unreached"], r["open"]
        broken = r["verify_hot"] + r["verify_unreached"] + r["verify_open"]
        rows.append(
            f"| {MODES[r['mode']].label} | {r['trivial']['per_second']:.0f} | {bare['accepted_per_second']:.0f} "
            f"| {un['accepted_per_second']:.0f} | {un['accepted_per_second'] / bare['accepted_per_second']:.2f} "
            f"| {hot['accepted']} + {hot['requests'] - hot['accepted']} in {hot['wall_seconds']} s = {hot['per_second']:.0f} "
            f"| {hot['p50_ms']:.0f} / {hot['p95_ms']:.0f} / {hot['p99_ms']:.0f} / {hot['mean_ms']:.0f} "
            f"| {un['p99_ms']:.0f} / {un['mean_ms']:.0f} "
            f"| {opened['offered_per_second']:.0f}, {opened['p99_ms']:.1f} | {r['raw']['per_second']:.0f} "
            f"| {'all hold' if not broken else '; '.join(broken)} |"
        )
    return "\n".join(rows)


def _targets(reports: list[dict]) -> list[str]:
    by = {r["mode"]: r for r in reports}
    lines = []
    for r in reports:
        label = MODES[r["mode"]].label
        ratio = r["unreached"]["accepted_per_second"] / r["bare"]["accepted_per_second"]
        lines.append(
            f"- {label}: product ÷ bare admission = {ratio:.2f} (target ≥ 0.60): {'met' if ratio >= 0.6 else 'MISSED'}"
        )
        for burst in ("hot", "unreached"):
            s = r[burst]
            ok = s["p99_ms"] <= 2 * s["mean_ms"] and s["timeouts"] == 0
            lines.append(
                f"- {label}, {burst} burst: p99 {s['p99_ms']:.0f} ms vs 2 × mean {2 * s['mean_ms']:.0f} ms, "
                f"{s['timeouts']} timeouts: {'met' if ok else 'MISSED'}"
            )
        for outcome in ("accepted", "refused"):
            s = r.get(f"hot_{outcome}")
            if s and s["requests"]:
                ok = s["p99_ms"] <= 2 * s["mean_ms"]
                lines.append(
                    f"  - hot burst, {outcome} only ({s['requests']}): p99 {s['p99_ms']:.0f} ms vs 2 × mean "
                    f"{2 * s['mean_ms']:.0f} ms: {'met' if ok else 'MISSED'}"
                )
        o = r["open"]
        lines.append(
            f"- {label}, open loop at {o['offered_per_second']:.0f}/s: p99 {o['p99_ms']:.1f} ms (target < 50): "
            f"{'met' if o['p99_ms'] < 50 else 'MISSED'}"
        )
    if "postgres" in by and "postgres+redis" in by:
        # Redis holds rate limits, the cache and the task queue; seats are on the database in every mode.
        http = (
            by["postgres+redis"]["unreached"]["accepted_per_second"]
            / by["postgres"]["unreached"]["accepted_per_second"]
        )
        lines.append(f"- PostgreSQL + Redis ÷ PostgreSQL alone, accepted/s (unreached): {http:.2f}")
    return lines


def _missing_services(mode) -> str:
    missing = []
    if mode.postgres:
        import psycopg

        from bench.harness import PG_ADMIN_URL

        try:
            psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        except psycopg.OperationalError:
            missing.append("PostgreSQL")
    if mode.redis:
        import redis

        from bench.harness import REDIS_BENCH_URL

        try:
            redis.Redis.from_url(REDIS_BENCH_URL, socket_connect_timeout=2).ping()
        except redis.ConnectionError:
            missing.append("Redis")
    return " and ".join(missing)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modes", default="sqlite,postgres,postgres+redis")
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.count, args.out)
        return

    reports = []
    for name in args.modes.split(","):
        mode = MODES[name]
        missing = _missing_services(mode)
        if missing:
            print(f"!!! SKIPPED {mode.label}: {missing} not reachable on 127.0.0.1 !!!", flush=True)
            continue
        with tempfile.TemporaryDirectory(prefix="yunying-bench-") as var_dir:
            env = mode_env(mode, var_dir=var_dir)
            out = Path(var_dir) / "report.json"
            print(f"== {mode.label}: {args.count} sign-ups per burst, {CONCURRENCY} connections", flush=True)
            subprocess.run(
                [sys.executable, "-m", "bench.signup_burst", "--child", name, "--count", str(args.count), "--out", str(out)],
                env=env, cwd=REPO, check=True,
            )  # fmt: skip
            reports.append(json.loads(out.read_text()))
    table, targets = _table(reports), _targets(reports)
    machine, versions = _machine(), _versions()
    print(f"\n{machine}\n{versions}\n\n{table}\n\n" + "\n".join(targets))
    (REPO / "var").mkdir(exist_ok=True)
    (REPO / "var" / "bench-latest.json").write_text(json.dumps(reports, indent=2))
    if not args.no_write:
        _write_docs(machine, versions, table, targets, args.count)


def _write_docs(machine: str, versions: str, table: str, targets: list[str], count: int) -> None:
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else ""
    marker = "<!-- signup-burst:latest -->"
    head, _, _ = text.partition(marker)
    if not head:
        head = "# Benchmarks\n\n"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"{marker}\n## Sign-up burst (`make bench`, last run {stamp})\n\n"
        f"Machine: {machine}. {versions}.\n\n"
        f"Each burst: {count} sign-ups from {CONCURRENCY} concurrent connections, {int(DUP_RATIO * 100)} % duplicates, "
        f"one separate load process on loopback; server: granian WSGI, 2 workers × 2 threads. "
        f"The machine is shared and noisy: read the ratios, not the absolute numbers.\n\n{table}\n\n"
        "Targets:\n\n" + "\n".join(targets) + "\n"
    )
    path.write_text(head.rstrip() + "\n\n" + block)


if __name__ == "__main__":
    main()
