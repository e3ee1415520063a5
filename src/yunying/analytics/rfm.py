"""RFM scores and lifecycle labels (A4, M5, M6), computed with DuckDB over the order facts.

The order facts leave the database in chunks as Arrow columns (integers only: epoch seconds and fen,
so no Python datetime per row), DuckDB aggregates and ranks them in-process, and the result goes back
as one table of scores per member. No DuckDB extension is used (they download at run time, and this
runs offline). Definitions (docs/segments.md):

- recency: whole days from the last paid, not cancelled order to `now`;
- frequency: orders not cancelled; monetary: their net paid fen (total minus refunds);
- each score is the quintile of the member's rank among members with an order, 1 (lowest) to 5:
  `1 + 5 * (rank - 1) // n`, rank ascending with ties sharing the lower rank (so equal values get
  equal scores); more recent is better, so R ranks by the last order's time. 0 without an order;
- lifecycle: the first label that holds, in this order (thresholds in settings.LIFECYCLE_THRESHOLDS):
  new (registered within new_days, at most one order), high_frequency (ordered within active_days,
  at least high_frequency_orders orders), active (ordered within active_days), dormant (last order,
  or registration when none, more than dormant_days ago), at_risk (at least at_risk_orders orders),
  potential (everyone else: no or one order, not lately, not yet gone).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection

from yunying.commerce.models import Order, OrderStatus
from yunying.members.models import Member

CHUNK_ROWS = 200_000

ORDER_SCHEMA = pa.schema([("member_id", pa.int64()), ("paid_epoch", pa.int64()), ("net_fen", pa.int64())])
MEMBER_SCHEMA = pa.schema([("member_id", pa.int64()), ("created_epoch", pa.int64())])


def _epoch_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"  # %% : the query has parameters


def _read_arrow(sql: str, params: list, schema: pa.Schema) -> pa.Table:
    """Run `sql` and gather its rows as Arrow. On PostgreSQL the rows leave by COPY as CSV and
    Arrow's C++ reader parses them (a Python object per value cost ~10 s per million orders); on
    SQLite CHUNK_ROWS at a time from the cursor."""
    if connection.vendor == "postgresql":
        return _read_arrow_copy(sql, params, schema)
    batches = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        for rows in _chunks(cursor):
            columns = list(zip(*rows, strict=True))
            arrays = [pa.array(col, type=field.type) for col, field in zip(columns, schema, strict=True)]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


COPY_BLOCK_BYTES = 32 << 20


def _read_arrow_copy(sql: str, params: list, schema: pa.Schema) -> pa.Table:
    """COPY (sql) TO STDOUT as CSV, parsed in blocks of about COPY_BLOCK_BYTES (cut at a line end)."""
    options = pa_csv.ConvertOptions(column_types=schema)
    read = pa_csv.ReadOptions(column_names=schema.names)
    tables, pending = [], bytearray()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        statement = cursor.cursor.mogrify(sql, params)
        with cursor.cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                pending += block
                if len(pending) >= COPY_BLOCK_BYTES:
                    cut = pending.rindex(b"\n") + 1
                    tables.append(_parse_csv(bytes(pending[:cut]), read, options))
                    del pending[:cut]
    if pending:
        tables.append(_parse_csv(bytes(pending), read, options))
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables)


def _parse_csv(data: bytes, read, options) -> pa.Table:
    return pa_csv.read_csv(pa.BufferReader(data), read_options=read, convert_options=options)


def _chunks(cursor) -> Iterator[list[tuple]]:
    while rows := cursor.fetchmany(CHUNK_ROWS):
        yield rows


def orders_arrow() -> pa.Table:
    """Every order not cancelled: member, paid time (epoch seconds), net paid fen."""
    table = Order._meta.db_table
    sql = (
        f"SELECT member_id, {_epoch_sql('paid_at')}, total_fen - refunded_fen "  # noqa: S608 (names from model meta)
        f"FROM {table} WHERE status <> %s"
    )
    return _read_arrow(sql, [OrderStatus.CANCELLED.value], ORDER_SCHEMA)


def members_arrow() -> pa.Table:
    table = Member._meta.db_table
    return _read_arrow(f"SELECT id, {_epoch_sql('created_at')} FROM {table}", [], MEMBER_SCHEMA)  # noqa: S608


RFM_SQL = """
WITH per_member AS (
    SELECT member_id, count(*) AS frequency, sum(net_fen) AS monetary_fen, max(paid_epoch) AS last_paid_epoch
    FROM orders GROUP BY member_id
),
scored AS (
    SELECT *,
        1 + (5 * (rank() OVER (ORDER BY last_paid_epoch) - 1)) // count(*) OVER () AS r_score,
        1 + (5 * (rank() OVER (ORDER BY frequency) - 1)) // count(*) OVER () AS f_score,
        1 + (5 * (rank() OVER (ORDER BY monetary_fen) - 1)) // count(*) OVER () AS m_score
    FROM per_member
),
joined AS (
    SELECT m.member_id,
        s.last_paid_epoch,
        ($now - s.last_paid_epoch) // 86400 AS recency_days,
        ($now - m.created_epoch) // 86400 AS registered_days,
        coalesce(s.frequency, 0) AS frequency,
        coalesce(s.monetary_fen, 0) AS monetary_fen,
        coalesce(s.r_score, 0) AS r_score,
        coalesce(s.f_score, 0) AS f_score,
        coalesce(s.m_score, 0) AS m_score
    FROM members m LEFT JOIN scored s ON s.member_id = m.member_id
)
SELECT member_id, last_paid_epoch, CAST(recency_days AS INTEGER) AS recency_days,
    CAST(frequency AS INTEGER) AS frequency, CAST(monetary_fen AS BIGINT) AS monetary_fen,
    CAST(r_score AS SMALLINT) AS r_score, CAST(f_score AS SMALLINT) AS f_score,
    CAST(m_score AS SMALLINT) AS m_score,
    CASE
        WHEN registered_days <= $new_days AND frequency <= 1 THEN 'new'
        WHEN recency_days <= $active_days AND frequency >= $high_frequency_orders THEN 'high_frequency'
        WHEN recency_days <= $active_days THEN 'active'
        WHEN coalesce(recency_days, registered_days) > $dormant_days THEN 'dormant'
        WHEN frequency >= $at_risk_orders THEN 'at_risk'
        ELSE 'potential'
    END AS lifecycle
FROM joined
ORDER BY member_id
"""


def rfm_compute(
    orders: pa.Table, members: pa.Table, *, now: datetime, thresholds: dict[str, int]
) -> pa.Table:
    """Scores and label per member, as Arrow (columns of RFM_SQL). Pure: no database."""
    con = duckdb.connect()
    try:
        con.register("orders", orders)
        con.register("members", members)
        params = {"now": int(now.timestamp()), **{k: int(v) for k, v in thresholds.items()}}
        return con.sql(RFM_SQL, params=params).to_arrow_table()
    finally:
        con.close()
