"""Audit chain benchmark (`make bench`): what hash-chaining the audit trail costs writers.

core.chain serialises appends to a chain: on PostgreSQL each audit_record takes a transaction-scoped
advisory lock (pg_advisory_xact_lock), held until its transaction commits, so every audited write of
the platform waits for the one before it to commit; on SQLite every write transaction is already one
at a time (BEGIN IMMEDIATE). Side by side, in one run, SQLite and PostgreSQL (a child process each, on
a fresh database), 1, 4 and 8 threads, each thread with its own connection doing --tx transactions:

- floor:        the same audit row inserted into an unchained table of the same shape (AuditEntry's
                columns and indexes, no lock, no hash), one transaction each;
- ours:         core.audit.audit_record, one transaction each;
- work:         a service transaction without an audit row: a few queries on the thread's own rows
                (SELECT … FOR UPDATE, UPDATE, INSERT, SELECT), topped up to --work-ms with a sleep
                standing for application code;
- audit first:  audit_record, then the same work, then commit (the chain lock is held during the work);
- audit last:   the same work, then audit_record, then commit (the lock is held only for the insert
                and the commit).

Throughput (transactions per second over the wall time of all threads) and p50 / p99 latency per
case; medians over --repeat runs (each on a fresh database). After each run the chain is verified.

    python -m bench.chain_bench [--modes sqlite,postgres] [--threads 1,4,8] [--tx 300] [--repeat 3]
                                [--work-ms 2] [--no-write]

Results go to stdout and between the chain-bench markers of the "Audit chain" section of
docs/benchmarks.md.
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
import threading
import time

from bench.harness import MODES, PG_ADMIN_URL, REPO, mode_env

DBNAME = "bench_chain"
CASES = ("floor", "ours", "work", "audit_first", "audit_last")
LABELS = {
    "floor": "(a) floor: same row, unchained table",
    "ours": "(b) ours: audit_record",
    "work": "(c) service work, no audit",
    "audit_first": "(c) audit_record, then the work",
    "audit_last": "(c) the work, then audit_record",
}
BASE = {"ours": "floor", "audit_first": "work", "audit_last": "work"}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _models():
    """An unchained table of AuditEntry's shape (the floor) and a service's rows (the work)."""
    from django.db import connection, models

    from yunying.core.models import AuditEntry

    attrs = {f.name: f.clone() for f in AuditEntry._meta.local_fields if f.name != "id"}
    meta = type(
        "Meta",
        (),
        {
            "app_label": "bench_chain",
            "db_table": "bench_chain_floor",
            "indexes": [models.Index(fields=index.fields) for index in AuditEntry._meta.indexes],
        },
    )
    floor = type("FloorEntry", (models.Model,), {"__module__": __name__, "Meta": meta, **attrs})
    account = type(
        "WorkAccount",
        (models.Model,),
        {
            "__module__": __name__,
            "Meta": type("Meta", (), {"app_label": "bench_chain", "db_table": "bench_chain_account"}),
            "balance": models.BigIntegerField(default=0),
            "updated_at": models.DateTimeField(null=True),
        },
    )
    line = type(
        "WorkLine",
        (models.Model,),
        {
            "__module__": __name__,
            "Meta": type("Meta", (), {"app_label": "bench_chain", "db_table": "bench_chain_line"}),
            "account": models.ForeignKey(account, on_delete=models.CASCADE),
            "amount": models.BigIntegerField(),
            "at": models.DateTimeField(),
            "note": models.CharField(max_length=100),
        },
    )
    with connection.schema_editor() as editor:
        for model in (floor, account, line):
            editor.create_model(model)
    return floor, account, line


def child(tx: int, threads_list: list[int], work_ms: float) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from yunying.core.audit import audit_record
    from yunying.core.chain import AUDIT_CHAIN, chain_verify
    from yunying.core.models import AuditEntry
    from yunying.core.permissions import Actor, Role

    floor_model, account_model, line_model = _models()
    account_model.objects.bulk_create([account_model(id=t + 1) for t in range(max(threads_list))])
    actor = Actor(kind="user", id=1, label="bench operator", role=Role.STRATEGY)
    work_seconds = work_ms / 1000

    def row(n: int) -> dict:
        # What a typical service records: the changed fields, personal ones masked.
        return {
            "action": "member.update",
            "object_type": "member",
            "object_id": n,
            "before": {"status": "active", "tier": "silver", "phone": "138****0001"},
            "after": {"status": "frozen", "tier": "silver", "phone": "138****0001"},
        }

    def floor(tid: int, n: int) -> None:
        r = row(n)
        with transaction.atomic():
            floor_model(
                actor_kind=actor.kind, actor_id=actor.id, actor_label=actor.label, actor_role=str(actor.role),
                action=r["action"], object_type=r["object_type"], object_id=str(n), before=r["before"],
                after=r["after"], reason="", request_id="",
            ).save(force_insert=True)  # fmt: skip

    def audit(n: int) -> None:
        audit_record(actor=actor, **row(n))

    def work(tid: int, n: int, started: float) -> None:
        account = account_model.objects.select_for_update().get(id=tid + 1)
        account_model.objects.filter(id=account.id).update(
            balance=account.balance + 1, updated_at=timezone.now()
        )
        line_model.objects.create(account_id=account.id, amount=1, at=timezone.now(), note=f"line {n}")
        line_model.objects.filter(account_id=account.id).order_by("-id").values_list("id", flat=True).first()
        left = started + work_seconds - time.perf_counter()
        if left > 0:
            time.sleep(left)  # the service's own code between its queries

    def ours(tid: int, n: int) -> None:
        with transaction.atomic():
            audit(n)

    def work_only(tid: int, n: int) -> None:
        with transaction.atomic():
            work(tid, n, time.perf_counter())

    def audit_first(tid: int, n: int) -> None:
        with transaction.atomic():
            audit(n)
            work(tid, n, time.perf_counter())

    def audit_last(tid: int, n: int) -> None:
        with transaction.atomic():
            work(tid, n, time.perf_counter())
            audit(n)

    run = {
        "floor": floor,
        "ours": ours,
        "work": work_only,
        "audit_first": audit_first,
        "audit_last": audit_last,
    }

    def measure(case: str, threads: int) -> dict:
        latencies: list[list[float]] = [[] for _ in range(threads)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(threads + 1)

        def worker(tid: int) -> None:
            try:
                connection.ensure_connection()
                run[case](tid, -1)  # warm: the connection's first statements, this thread's rows
                barrier.wait()
                for n in range(tx):
                    started = time.perf_counter()
                    run[case](tid, n)
                    latencies[tid].append((time.perf_counter() - started) * 1000)
            except BaseException as exc:  # reported and raised below
                errors.append(exc)
                barrier.abort()
            finally:
                connections.close_all()

        pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for thread in pool:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in pool:
            thread.join()
        wall = time.perf_counter() - started
        if errors:
            raise errors[0]
        flat = [v for per in latencies for v in per]
        return {"per_second": len(flat) / wall, "p50": statistics.median(flat), "p99": _pct(flat, 0.99)}

    results: dict[str, dict] = {}
    for threads in threads_list:
        for case in CASES:
            results[f"{case}/{threads}"] = measure(case, threads)
    verdict = chain_verify(AUDIT_CHAIN, AuditEntry)
    # Three audited cases, each thread's warm-up transaction included.
    expected = sum(threads * (tx + 1) for threads in threads_list) * 3
    return {
        "vendor": connection.vendor,
        "results": results,
        "chain_ok": verdict.ok,
        "chain_rows": verdict.count,
        "chain_expected": expected,
    }


def _drop_postgres() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')


def _run_mode(mode_name: str, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="yunying-chain-bench-") as var_dir:
        env = mode_env(MODES[mode_name], var_dir=var_dir, dbname=DBNAME)
        env["DJANGO_SETTINGS_MODULE"] = "yunying.settings"
        # Keep a caller's PYTHONPATH (a worktree's src/) after the repository's.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "bench.chain_bench", "--child", "--tx", str(args.tx),
                 "--threads", args.threads, "--work-ms", str(args.work_ms)],
                env=env, cwd=REPO, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            if MODES[mode_name].postgres:
                _drop_postgres()
    if done.returncode:
        raise RuntimeError(f"{mode_name} child failed:\n{done.stderr[-4000:]}")
    one = json.loads(done.stdout.strip().splitlines()[-1])
    if not one["chain_ok"] or one["chain_rows"] != one["chain_expected"]:
        raise RuntimeError(f"{mode_name}: the chain did not verify after the run: {one}")
    return one


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="sqlite,postgres")
    parser.add_argument("--threads", default="1,4,8")
    parser.add_argument("--tx", type=int, default=300, help="transactions per thread per case")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-ms", type=float, default=2.0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    if args.child:
        print(json.dumps(child(args.tx, threads_list, args.work_ms)))
        return
    modes = args.modes.split(",")
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    # Repeats interleave the databases, so a noisy minute on the machine lands on both.
    for _ in range(args.repeat):
        for mode_name in modes:
            runs[mode_name].append(_run_mode(mode_name, args)["results"])

    def med(mode_name: str, key: str, metric: str) -> float:
        return statistics.median(run[key][metric] for run in runs[mode_name])

    labels = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    lines = [
        f"Audit chain: {args.repeat} runs × {args.tx} transactions per thread per case, medians of the runs; "
        f"service work {args.work_ms:g} ms; {platform.machine()}, {os.cpu_count()} cores shared with other "
        f"work (noisy: read the ratios), Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"`python -m bench.chain_bench --tx {args.tx} --repeat {args.repeat}`. After every run the chain "
        "verified (core.chain.chain_verify) with every row present.",
        "",
        "| database | case | threads | writes/s | p50 ms | p99 ms | writes/s ÷ base | p50 ÷ base |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    summary: dict[str, dict] = {}
    for mode_name in modes:
        for threads in threads_list:
            for case in CASES:
                key = f"{case}/{threads}"
                rate, p50, p99 = (med(mode_name, key, m) for m in ("per_second", "p50", "p99"))
                base = BASE.get(case)
                if base:
                    ratio_rate = rate / med(mode_name, f"{base}/{threads}", "per_second")
                    ratio_p50 = p50 / med(mode_name, f"{base}/{threads}", "p50")
                    ratios = f"{ratio_rate:.2f}× {base.replace('_', ' ')} | {ratio_p50:.2f}×"
                else:
                    ratios = "— | —"
                lines.append(
                    f"| {labels.get(mode_name, mode_name)} | {LABELS[case]} | {threads} | {rate:,.0f} | "
                    f"{p50:.2f} | {p99:.2f} | {ratios} |"
                )
                summary.setdefault(mode_name, {})[key] = rate
    top = max(threads_list)
    lines.append("")
    for mode_name in modes:
        s = summary[mode_name]
        lines.append(
            f"- {labels.get(mode_name, mode_name)}, {top} threads: audited writes/s {s[f'ours/{top}']:,.0f} alone "
            f"(floor {s[f'floor/{top}']:,.0f}); in a service transaction {s[f'audit_first/{top}']:,.0f} with "
            f"audit_record first, {s[f'audit_last/{top}']:,.0f} with it last (the work alone "
            f"{s[f'work/{top}']:,.0f})."
        )
    print("\n".join(lines))
    if not args.no_write:
        _record(lines)


INTRO = """## Audit chain

`python -m bench.chain_bench` (in `make bench`). The reading is written by hand; the table between
the markers is rewritten by each run.
"""


def _record(lines: list[str]) -> None:
    doc = REPO / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8")
    start, end = "<!-- chain-bench:start -->", "<!-- chain-bench:end -->"
    block = start + "\n" + "\n".join(lines) + "\n" + end
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + INTRO + "\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
