"""Bulk import benchmark (`make bench`): order rows per second, SQLite and PostgreSQL side by side.

For each database one child process migrates a fresh database, writes a CSV of ROWS order lines
(3 lines an order, 20,000 members named by phone) and measures, `--runs` times each (medians):

- product:    `yunying import orders FILE` as the console and CLI run it (jobs.import_upload +
              import_start inline): every row checked (commerce.validation), looked up, staged, then
              written (members created through members.services' bulk path, orders and lines on the
              fast path: INSERT ... RETURNING, executemany on SQLite / COPY on PostgreSQL);
- naive ORM:  commerce.services.order_ingest per order (parse, validate, one transaction each) on a
              SAMPLE of orders, extrapolated to ROWS (said so in the table);
- floor:      the database's own bulk path with nothing checked: the same rows, pre-parsed, with ids
              assigned by us, executemany (SQLite) or COPY (PostgreSQL) of orders and lines.

Between runs the order, line and member tables are emptied. Results: stdout and docs/benchmarks.md.

    python -m bench.import_bench [--modes sqlite,postgres] [--rows 1000000] [--runs 3] [--no-write]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import MODES, REPO, mode_env

LINES_PER_ORDER = 3
MEMBERS = 20_000
SAMPLE_ORDERS = 1_000
HEADER = ["订单号", "会员手机号", "支付时间", "渠道", "商品编码", "品类", "单价(元)", "数量", "实付(元)"]


def _write_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            order = n // LINES_PER_ORDER
            line = n % LINES_PER_ORDER
            phone = f"138{order % MEMBERS:08d}"
            paid_at = f"2026-{1 + order % 11:02d}-{1 + order % 28:02d} {order % 24:02d}:{order % 60:02d}:00"
            price = 100 + (order * 7 + line) % 90_000
            quantity = 1 + line
            writer.writerow(
                [f"SO-{order}", phone, paid_at, "app", f"SKU-{(order + line) % 5000}", "tea",
                 f"{price // 100}.{price % 100:02d}", quantity, f"{price * quantity // 100}.{price * quantity % 100:02d}"]
            )  # fmt: skip


def _empty_tables() -> None:
    from django.db import connection

    from yunying.commerce.models import Order, OrderLine
    from yunying.members.models import Member

    with connection.cursor() as cursor:
        for model in (OrderLine, Order, Member):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def _product(path: Path) -> dict:
    from yunying.commerce.imports import jobs
    from yunying.core.permissions import Actor

    actor = Actor(kind="system", id=None, label="bench")

    def chunks():
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    started = time.perf_counter()
    job = jobs.import_upload(actor=actor, kind="orders", filename=path.name, chunks=chunks(), inline=True)
    checked = time.perf_counter()
    assert job.rows_error == 0, job.error_sample[:3]
    job = jobs.import_start(job_id=job.pk, actor=actor, inline=True)
    done = time.perf_counter()
    assert job.state == "done", job.state
    return {
        "seconds": done - started,
        "check": checked - started,
        "write": done - checked,
        "rows": job.rows_total,
    }


def _parsed_orders(path: Path, limit: int | None = None) -> list[dict]:
    """The file as order payloads (the API's shape): what the naive loop and the floor start from."""
    orders: list[dict] = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for order_id, phone, paid_at, channel, sku, category, price, quantity, paid in reader:
            if not orders or orders[-1]["external_id"] != order_id:
                if limit is not None and len(orders) == limit:
                    break
                orders.append({"external_id": order_id, "member": {"phone": phone}, "channel": channel,
                               "paid_at": paid_at.replace(" ", "T") + "+08:00", "lines": []})  # fmt: skip
            orders[-1]["lines"].append({
                "sku": sku, "category": category, "unit_price_fen": round(float(price) * 100),
                "quantity": int(quantity), "paid_fen": round(float(paid) * 100),
            })  # fmt: skip
    return orders


def _naive(path: Path) -> dict:
    from yunying.commerce.services import order_ingest
    from yunying.commerce.validation import order_parse
    from yunying.core.permissions import Actor

    actor = Actor(kind="system", id=None, label="bench")
    orders = _parsed_orders(path, SAMPLE_ORDERS)
    rows = sum(len(order["lines"]) for order in orders)
    started = time.perf_counter()
    for payload in orders:
        order_ingest(order=order_parse(payload), actor=actor, source="import")
    return {"seconds": time.perf_counter() - started, "rows": rows}


def _floor(path: Path) -> dict:
    """Orders and lines written by the database's own bulk path, nothing checked, ids assigned here
    (the tables are empty): the cost of moving the bytes into the tables."""
    from datetime import datetime

    from django.db import connection, transaction
    from django.utils import timezone

    from yunying.members.models import Member
    from yunying.members.services import MemberRef, members_resolve_bulk

    orders = _parsed_orders(path)
    rows = sum(len(order["lines"]) for order in orders)
    with transaction.atomic():  # members first, not timed: the floor is orders and lines
        phones = sorted({order["member"]["phone"] for order in orders})
        members_resolve_bulk([MemberRef("+86" + phone, None) for phone in phones])
    member_ids = dict(zip(phones, Member.objects.order_by("pk").values_list("pk", flat=True), strict=False))
    now = timezone.now()
    order_rows, line_rows = [], []
    for pk, order in enumerate(orders, start=1):
        paid_at = datetime.fromisoformat(order["paid_at"])
        total = sum(line["paid_fen"] for line in order["lines"])
        order_rows.append((pk, order["external_id"], member_ids[order["member"]["phone"]], order["channel"], paid_at,
                           total, "[]", 0, "paid", "x" * 64, "import", now))  # fmt: skip
        for number, line in enumerate(order["lines"], start=1):
            line_rows.append((pk, number, line["sku"], line["category"], line["unit_price_fen"], line["quantity"],
                              line["paid_fen"], 0, 0))  # fmt: skip
    order_columns = ("id, external_id, member_id, channel, paid_at, total_fen, coupon_refs, refunded_fen, status, "
                     "fingerprint, source, recorded_at")  # fmt: skip
    line_columns = ("order_id, line_no, sku, category, unit_price_fen, quantity, paid_fen, refunded_fen, "
                    "refunded_quantity")  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY commerce_order ({order_columns}) FROM STDIN") as copy:
                for row in order_rows:
                    copy.write_row(row)
            with cursor.cursor.copy(f"COPY commerce_orderline ({line_columns}) FROM STDIN") as copy:
                for row in line_rows:
                    copy.write_row(row)
        else:
            raw = cursor.cursor.connection  # sqlite3's own executemany, no Django wrapper
            adapted = [
                (*row[:4], row[4].isoformat(" "), *row[5:11], now.isoformat(" ")) for row in order_rows
            ]
            raw.executemany(
                f"INSERT INTO commerce_order ({order_columns}) VALUES ({','.join('?' * 12)})", adapted
            )
            raw.executemany(
                f"INSERT INTO commerce_orderline ({line_columns}) VALUES ({','.join('?' * 9)})", line_rows
            )
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child(mode_name: str, rows: int, runs: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    path = Path(os.environ["YUNYING_VAR_DIR"]) / "bench-orders.csv"
    _write_csv(path, rows)
    results: dict[str, list[dict]] = {"product": [], "naive": [], "floor": []}
    for _ in range(runs):
        for name, measure in (("product", _product), ("floor", _floor), ("naive", _naive)):
            _empty_tables()
            results[name].append(measure(path))
            print(f"  {mode_name} {name}: {results[name][-1]}", file=sys.stderr, flush=True)
    print(json.dumps(results))


def _median_rate(samples: list[dict]) -> tuple[float, float]:
    rates = [sample["rows"] / sample["seconds"] for sample in samples]
    return statistics.median(rates), statistics.median(sample["seconds"] for sample in samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="sqlite,postgres")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.runs)
        return
    table = []
    for mode_name in args.modes.split(","):
        with tempfile.TemporaryDirectory() as var_dir:
            env = mode_env(MODES[mode_name], var_dir=var_dir, dbname="yunying_import_bench")
            out = subprocess.run(
                [sys.executable, "-m", "bench.import_bench", "--child", mode_name, "--rows", str(args.rows),
                 "--runs", str(args.runs)],
                env=env, cwd=REPO, check=True, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            results = json.loads(out.stdout.strip().splitlines()[-1])
        floor_rate, _ = _median_rate(results["floor"])
        for name, label in (
            ("product", "product: check + write"),
            ("naive", f"naive ORM loop (order_ingest; {SAMPLE_ORDERS:,} orders, extrapolated)"),
            ("floor", "floor: executemany / COPY, nothing checked"),
        ):
            rate, seconds = _median_rate(results[name])
            if name == "naive":
                seconds = args.rows / rate
            checks = ""
            if name == "product":
                check = statistics.median(s["check"] for s in results[name])
                write = statistics.median(s["write"] for s in results[name])
                checks = f" (check {check:.1f} s, write {write:.1f} s)"
            table.append(
                (mode_name, label, f"{seconds:.1f}{checks}", f"{rate:,.0f}", f"{rate / floor_rate:.2f}")
            )
    header = (
        "database",
        "path",
        f"seconds for {args.rows:,} rows (median of {args.runs})",
        "rows/s",
        "× floor",
    )
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    print("\n".join(lines))
    if not args.no_write:
        _record(lines, args)


def _record(lines: list[str], args) -> None:
    doc = REPO / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    marker = "## Bulk import (orders)"
    machine = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work (noisy), Python "
        f"{platform.python_version()}, SQLite (WAL) and PostgreSQL on the same host; "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}. `python -m bench.import_bench --rows {args.rows} "
        f"--runs {args.runs}`."
    )
    section = "\n".join([marker, "", machine, "", *lines, ""])
    if marker in text:
        head, _, rest = text.partition(marker)
        tail = rest.split("\n## ", 1)
        text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


if __name__ == "__main__":
    main()
