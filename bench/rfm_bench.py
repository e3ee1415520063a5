"""RFM / lifecycle and segment preview benchmark (`make bench`; A4, M5, M6 performance rows).

1,000,000 members and 10,000,000 orders, generated with DuckDB into a Parquet snapshot
(var/bench/rfm/), then loaded straight into a fresh PostgreSQL database with COPY (foreign-key
triggers off during the load, indexes kept). Each phase runs in its own process, so its peak RSS
(ru_maxrss) is its own:

- compute:  RFM + lifecycle with DuckDB over the Arrow tables (analytics.rfm.rfm_compute)   ≤ 5 s
- pandas:   the same result with pandas on the same Arrow data, for comparison
- e2e:      analytics.services.rfm_recompute against PostgreSQL: read the order facts in chunks as
            Arrow, compute, replace the score table with COPY, snapshot the labels          ≤ 60 s
- preview:  segment preview counts over 1M members (the issue's example rule and others)   ≤ 1 s

    PYTHONPATH=. .venv/bin/python -m bench.rfm_bench [--members 1000000] [--orders 10000000] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "var" / "bench" / "rfm"
DBNAME = os.environ.get("YUNYING_RFM_BENCH_DB", "yunying_bench_rfm")
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
THRESHOLDS = {
    "new_days": 30,
    "active_days": 30,
    "high_frequency_orders": 5,
    "at_risk_orders": 2,
    "dormant_days": 180,
}
PREVIEW_RULES = {
    "dormant 90+ days, Zhejiang, 4+ orders": {
        "conditions": [
            {"field": "days_since_last_order", "min": 90},
            {"field": "region", "values": ["33"]},
            {"field": "order_count", "min": 4},
        ]
    },
    "lifecycle at risk or dormant": {
        "conditions": [{"field": "lifecycle", "values": ["at_risk", "dormant"]}]
    },
    "R≥4 and F≥4, women 25-40": {
        "conditions": [
            {"field": "r_score", "min": 4},
            {"field": "f_score", "min": 4},
            {"field": "gender", "values": ["female"]},
            {"field": "age", "min": 25, "max": 40},
        ]
    },
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup_django(database_url: str | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


# --- phases (each in a child process) ---------------------------------------------------------


def phase_generate(members: int, orders: int) -> dict:
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    now = int(NOW.timestamp())
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""COPY (
        SELECT i AS member_id,
            {now} - CAST(floor(random() * 1000 * 86400) AS BIGINT) AS created_epoch,
            (['330106', '330100', '440300', '440106', '110101', '310115', '510104', ''])[1 + i % 8] AS region_code,
            (['male', 'female', 'female', 'unknown'])[1 + i % 4] AS gender,
            CASE WHEN i % 5 = 0 THEN NULL ELSE DATE '1960-01-01' + CAST(floor(random() * 18000) AS INTEGER) END AS birth_date,
            (['app', 'wechat', 'store', 'h5'])[1 + i % 4] AS source_channel
        FROM range(1, {members} + 1) t(i)) TO '{DATA}/members.parquet' (FORMAT parquet)"""
    )
    # Skewed buyers: a power of a uniform draw, so some members order often and many never.
    con.execute(
        f"""COPY (
        SELECT i AS order_id,
            1 + CAST(floor(pow(random(), 1.6) * {members}) AS BIGINT) AS member_id,
            {now} - CAST(floor(pow(random(), 1.3) * 730 * 86400) AS BIGINT) AS paid_epoch,
            100 + CAST(floor(random() * 50000) AS BIGINT) AS total_fen,
            random() AS roll
        FROM range(1, {orders} + 1) t(i)) TO '{DATA}/orders_raw.parquet' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (
        SELECT order_id, member_id, paid_epoch, total_fen,
            CASE WHEN roll < 0.03 THEN 0 WHEN roll < 0.08 THEN total_fen // 2 WHEN roll < 0.10 THEN total_fen ELSE 0 END
                AS refunded_fen,
            CASE WHEN roll < 0.03 THEN 'cancelled' WHEN roll < 0.08 THEN 'partially_refunded'
                 WHEN roll < 0.10 THEN 'refunded' ELSE 'paid' END AS status
        FROM '{DATA}/orders_raw.parquet') TO '{DATA}/orders.parquet' (FORMAT parquet)"""
    )
    (DATA / "orders_raw.parquet").unlink()
    return {"seconds": time.perf_counter() - started, "rss_mb": _rss_mb()}


def _arrow_inputs():
    import duckdb

    con = duckdb.connect()
    orders = con.sql(
        f"SELECT member_id, paid_epoch, total_fen - refunded_fen AS net_fen FROM '{DATA}/orders.parquet' "
        "WHERE status <> 'cancelled'"
    ).to_arrow_table()
    members = con.sql(f"SELECT member_id, created_epoch FROM '{DATA}/members.parquet'").to_arrow_table()
    return orders, members


def phase_compute() -> dict:
    _setup_django()
    from yunying.analytics.rfm import rfm_compute

    orders, members = _arrow_inputs()
    loaded_rss = _rss_mb()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        result = rfm_compute(orders, members, now=NOW, thresholds=THRESHOLDS)
        runs.append(time.perf_counter() - started)
    labels = dict(
        zip(
            *[
                result.group_by("lifecycle").aggregate([("member_id", "count")])[c].to_pylist()
                for c in ("lifecycle", "member_id_count")
            ],
            strict=True,
        )
    )
    return {
        "seconds": min(runs),
        "runs": runs,
        "rss_mb": _rss_mb(),
        "inputs_rss_mb": loaded_rss,
        "members": result.num_rows,
        "orders": orders.num_rows,
        "labels": labels,
        "checksum": _checksum(
            result.select(["member_id", "r_score", "f_score", "m_score", "lifecycle"]).to_pandas()
        ),
    }


def _checksum(frame) -> str:
    import hashlib

    frame = frame.sort_values("member_id").reset_index(drop=True)
    text = frame.astype(str).agg("|".join, axis=1).str.cat(sep="\n")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def phase_pandas() -> dict:
    """The same definitions with pandas (groupby, rank(method="min"), numpy select)."""
    import numpy as np

    orders_t, members_t = _arrow_inputs()
    orders, members = orders_t.to_pandas(), members_t.to_pandas()
    del orders_t, members_t
    now = int(NOW.timestamp())
    t = THRESHOLDS
    started = time.perf_counter()
    per = orders.groupby("member_id").agg(
        frequency=("net_fen", "size"), monetary_fen=("net_fen", "sum"), last_paid_epoch=("paid_epoch", "max")
    )
    n = len(per)
    for score, column in (
        ("r_score", "last_paid_epoch"),
        ("f_score", "frequency"),
        ("m_score", "monetary_fen"),
    ):
        rank = per[column].rank(method="min").astype("int64")
        per[score] = 1 + (5 * (rank - 1)) // n
    out = members.merge(per, how="left", left_on="member_id", right_index=True)
    recency = (now - out["last_paid_epoch"]) // 86400
    registered = (now - out["created_epoch"]) // 86400
    freq = out["frequency"].fillna(0)
    for score in ("r_score", "f_score", "m_score"):
        out[score] = out[score].fillna(0).astype("int64")
    conditions = [
        (registered <= t["new_days"]) & (freq <= 1),
        (recency <= t["active_days"]) & (freq >= t["high_frequency_orders"]),
        recency <= t["active_days"],
        recency.fillna(registered) > t["dormant_days"],
        freq >= t["at_risk_orders"],
    ]
    out["lifecycle"] = np.select(
        conditions, ["new", "high_frequency", "active", "dormant", "at_risk"], "potential"
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rss_mb": _rss_mb(),
        "checksum": _checksum(out[["member_id", "r_score", "f_score", "m_score", "lifecycle"]]),
    }


def phase_load(database_url: str) -> dict:
    """Migrate a fresh database and COPY the snapshot into members and orders."""
    _setup_django(database_url)
    import duckdb
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    con = duckdb.connect()
    members_csv, orders_csv = DATA / "members.csv", DATA / "orders.csv"
    con.execute(
        f"""COPY (SELECT member_id, 'b' || member_id, '', '', '', substr(md5(member_id::VARCHAR), 1, 22), gender,
            birth_date, region_code, 'zh-hans', source_channel, '', '', '',
            strftime(make_timestamp(created_epoch * 1000000), '%Y-%m-%d %H:%M:%S') || '+00'
        FROM '{DATA}/members.parquet') TO '{members_csv}' (HEADER false)"""
    )
    con.execute(
        f"""COPY (SELECT order_id, 'o' || order_id, member_id, 'app',
            strftime(make_timestamp(paid_epoch * 1000000), '%Y-%m-%d %H:%M:%S') || '+00', total_fen, '[]',
            refunded_fen, status, 'bench', 'import', '2026-12-01 04:00:00+00'
        FROM '{DATA}/orders.parquet') TO '{orders_csv}' (HEADER false)"""
    )
    exported = time.perf_counter()
    member_cols = (
        "id, external_id, phone_encrypted, name_encrypted, email_encrypted, row_token, gender, "
        "birth_date, region_code, language, source_channel, utm_source, utm_medium, utm_campaign, created_at"
    )
    order_cols = (
        "id, external_id, member_id, channel, paid_at, total_fen, coupon_refs, refunded_fen, status, "
        "fingerprint, source, recorded_at"
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        cursor.execute("SET session_replication_role = replica")  # the load skips FK triggers (bench only)
        for table, cols, path in (
            ("members_member", member_cols, members_csv),
            ("commerce_order", order_cols, orders_csv),
        ):
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy, open(path, "rb") as f:
                while block := f.read(1 << 20):
                    copy.write(block)
        cursor.execute("SET session_replication_role = origin")
        for table in ("members_member", "commerce_order"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE members_member")
        cursor.execute("ANALYZE commerce_order")
    members_csv.unlink()
    orders_csv.unlink()
    return {
        "seconds": time.perf_counter() - started,
        "migrate_seconds": migrated - started,
        "export_seconds": exported - migrated,
        "copy_seconds": time.perf_counter() - exported,
        "rss_mb": _rss_mb(),
    }


def phase_e2e(database_url: str) -> dict:
    _setup_django(database_url)
    from django.conf import settings
    from django.db import connection

    settings.LIFECYCLE_THRESHOLDS = THRESHOLDS
    from yunying.analytics.services import rfm_recompute

    started = time.perf_counter()
    run = rfm_recompute(now=NOW)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_memberrfm")
    return {
        "seconds": seconds,
        "read_seconds": run.read_seconds,
        "compute_seconds": run.compute_seconds,
        "write_seconds": run.write_seconds,
        "members": run.members,
        "orders": run.orders,
        "rss_mb": _rss_mb(),
    }


def phase_preview(database_url: str) -> dict:
    _setup_django(database_url)
    from yunying.analytics.services import segment_preview

    results = {}
    for name, rule in PREVIEW_RULES.items():
        runs, count = [], None
        for _ in range(3):
            started = time.perf_counter()
            count = segment_preview(rules=rule, now=NOW)
            runs.append(time.perf_counter() - started)
        results[name] = {"count": count, "seconds": sorted(runs)[1], "runs": runs}
    return {"rules": results, "rss_mb": _rss_mb()}


PHASES = {
    "generate": lambda a: phase_generate(a.members, a.orders),
    "compute": lambda a: phase_compute(),
    "pandas": lambda a: phase_pandas(),
    "load": lambda a: phase_load(a.database_url),
    "e2e": lambda a: phase_e2e(a.database_url),
    "preview": lambda a: phase_preview(a.database_url),
}


def _child(phase: str, args) -> dict:
    command = [
        sys.executable,
        "-m",
        "bench.rfm_bench",
        "--phase",
        phase,
        "--members",
        str(args.members),
        "--orders",
        str(args.orders),
        "--database-url",
        args.database_url or "",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"phase {phase} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated phases to run again; the others come from the last run's results",
    )
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args), default=str))
        return

    from bench.harness import reset_postgres

    only = [p for p in args.only.split(",") if p]
    saved = DATA / "results.json"
    results = json.loads(saved.read_text()) if only and saved.exists() else {}
    if not only or "load" in only:
        args.database_url = reset_postgres(DBNAME)
    else:
        args.database_url = reset_postgres.__globals__["PG_ADMIN_URL"].rsplit("/", 1)[0] + f"/{DBNAME}"
    for phase in ("generate", "compute", "pandas", "load", "e2e", "preview"):
        if only and phase not in only:
            continue
        print(f"… {phase}", file=sys.stderr, flush=True)
        results[phase] = _child(phase, args)
        saved.write_text(json.dumps(results, default=str))
    table = _table(results, args)
    print(table)
    if not args.no_write:
        _write(table)


def _table(r: dict, args) -> str:
    c, p, e = r["compute"], r["pandas"], r["e2e"]
    same = "yes" if c["checksum"] == p["checksum"] else "NO"
    rows = [
        (name, r[key]["seconds"], r[key]["rss_mb"], "")
        for key, name in (
            ("generate", "generate (DuckDB → Parquet)"),
            ("load", "load into PostgreSQL (migrate + COPY)"),
        )
        if key in r  # a partial re-run (--only) may lack them
    ] + [
        ("RFM + lifecycle, DuckDB over Arrow (best of 3)", c["seconds"], c["rss_mb"], "≤ 5 s"),
        ("same with pandas", p["seconds"], p["rss_mb"], f"same result: {same}"),
        ("end to end from PostgreSQL (rfm_recompute)", e["seconds"], e["rss_mb"], "≤ 60 s, < 2 GB"),
        ("  read order facts as Arrow", e["read_seconds"], None, f"{e['orders']:,} orders"),
        ("  compute", e["compute_seconds"], None, ""),
        ("  write scores (COPY) + snapshot", e["write_seconds"], None, f"{e['members']:,} members"),
    ]
    for name, pr in r["preview"]["rules"].items():
        rows.append((f"preview count: {name}", pr["seconds"], None, f"{pr['count']:,} members; ≤ 1 s"))
    lines = [
        f"RFM benchmark: {args.members:,} members, {args.orders:,} orders; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d}",
        "",
        "| step | seconds | peak RSS (MB) | note |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, seconds, rss, note in rows:
        lines.append(f"| {name} | {seconds:.2f} | {'' if rss is None else f'{rss:.0f}'} | {note} |")
    return "\n".join(lines)


def _write(table: str) -> None:
    doc = REPO / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start, end = "<!-- rfm-bench:start -->", "<!-- rfm-bench:end -->"
    block = f"{start}\n{table}\n{end}"
    if start in text:
        text = text.split(start)[0] + block + text.split(end, 1)[1]
    else:
        text = (
            text.rstrip()
            + "\n\n## RFM, lifecycle and segment preview (`python -m bench.rfm_bench`)\n\n"
            + block
            + "\n"
        )
    doc.write_text(text)


if __name__ == "__main__":
    main()
