"""The two passes of an import.

1. check: read the file a row at a time, check every row (rows.py), group order lines into orders
   (an order's lines are consecutive rows), find duplicates in the file, and, a batch at a time,
   look the members and order ids up in the database: a known order with the same content is
   "unchanged", with other content order.conflict; identifiers of two members, member.identity_mismatch.
   Errors stream to the report; the new records stream, a batch at a time, to a staging file
   (private, under var/). Memory holds one batch and the set of ids seen.
2. write: read the staging file back and write a batch per transaction: members through
   members.services' bulk path, orders and lines with a few statements per batch (see _orders_insert).

A re-run of the same file writes nothing: every record it holds is then "unchanged". An interrupted
write is finished by running both passes again from the top (the job does exactly that)."""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from yunying.commerce.errors import OrderError
from yunying.commerce.events import OrderFact, OrderFactKind, order_publish
from yunying.commerce.imports.columns import header_map
from yunying.commerce.imports.errors import ImportError_, ImportFailed
from yunying.commerce.imports.reading import Table
from yunying.commerce.imports.rows import (
    MemberRow,
    OrderHead,
    RowError,
    member_row_check,
    order_head_check,
    order_indices,
    order_row_check,
)
from yunying.commerce.models import Order, OrderLine, OrderStatus
from yunying.commerce.validation import MAX_LINES, LineInput, OrderInput, order_fingerprint
from yunying.core.errors import DomainError
from yunying.members.services import (
    MemberRef,
    members_ids,
    members_lock_live,
    members_match,
    members_resolve_bulk,
)

BATCH_ROWS = 5000  # rows per database look-up batch and per write transaction
ERROR_SAMPLE = 200  # errors kept for the console's table (the report has them all)

Progress = Callable[[int], None]


@dataclass
class Checked:
    rows_total: int = 0
    rows_valid: int = 0  # rows of records that are new or unchanged
    rows_error: int = 0  # rows with at least one error, or of an order with one
    records_new: int = 0
    records_unchanged: int = 0
    errors: int = 0
    sample: list[RowError] = field(default_factory=list)


class ErrorSink:
    """Where row errors go: counted, the first ERROR_SAMPLE kept, every one handed to `write`."""

    def __init__(self, checked: Checked, write: Callable[[RowError], None]) -> None:
        self.checked = checked
        self.write = write
        self.bad_rows: set[int] = set()

    def add(self, errors: list[RowError]) -> None:
        for error in errors:
            self.checked.errors += 1
            self.bad_rows.add(error.row)
            if len(self.checked.sample) < ERROR_SAMPLE:
                self.checked.sample.append(error)
            self.write(error)


def _row_cap(number: int, max_rows: int) -> None:
    if number - 1 > max_rows:
        raise ImportFailed(ImportError_.TOO_MANY_ROWS, max_rows=max_rows)


@dataclass
class PendingOrder:
    head: OrderHead
    lines: list[LineInput]
    rows: list[int]
    broken: bool = False


def check_orders(
    table: Table, *, staged: Path, sink: ErrorSink, max_rows: int, progress: Progress | None = None
) -> Checked:
    columns = header_map("orders", table.header)
    indices = order_indices(columns)
    checked = sink.checked
    now = timezone.now()
    seen: set[str] = set()  # order ids of the file so far: a split order or a repeated id
    cache = MemberCache()
    batch: list[PendingOrder] = []
    batch_rows = 0
    current: PendingOrder | None = None
    current_id: str | None = None
    current_raw: tuple = ()
    with open(staged, "wb") as out:

        def flush() -> None:
            nonlocal batch, batch_rows
            _orders_against_database(batch, sink, checked, out, cache)
            batch, batch_rows = [], 0
            if progress:
                progress(checked.rows_total)

        for number, cells in table.rows:
            _row_cap(number, max_rows)
            checked.rows_total += 1
            errors: list[RowError] = []
            order_id, raw_head, line = order_row_check(number, cells, indices, columns, errors=errors)
            if order_id is None or order_id != current_id:
                if current is not None:
                    batch.append(current)
                    batch_rows += len(current.rows)
                    if batch_rows >= BATCH_ROWS:
                        flush()
                current, current_id, current_raw = None, order_id, raw_head
                if order_id is not None:
                    if order_id in seen:
                        errors.append(RowError(number, "order_id", ImportError_.ORDER_SPLIT))
                    seen.add(order_id)
                    head = order_head_check(number, order_id, raw_head, now=now, errors=errors)
                    broken = head is None
                    if head is None:  # a stand-in: the order is reported and never staged
                        head = OrderHead(order_id, MemberRef(None, None), "", now, (), None)
                    current = PendingOrder(head, [], [], broken)
            elif raw_head != current_raw:
                errors.append(RowError(number, "order_id", ImportError_.ORDER_FIELDS_DIFFER))
            if current is not None:
                current.rows.append(number)
                if line is None or errors:
                    current.broken = True
                else:
                    current.lines.append(line)
                if len(current.rows) == MAX_LINES + 1:
                    errors.append(
                        RowError(number, "order_id", "order.too_many_lines", {"maximum": MAX_LINES})
                    )
                    current.broken = True
            if errors:
                sink.add(errors)
        if current is not None:
            batch.append(current)
        flush()
    checked.rows_error = len(sink.bad_rows)
    return checked


class MemberCache:
    """Member ids by ref for one pass: a file names each member on many rows, and a look-up per batch
    of every member in it was most of the check's time. Bounded: cleared when full."""

    MAX = 200_000

    def __init__(self) -> None:
        self.known: dict[MemberRef, int | DomainError | None] = {}

    def ids(self, refs: list[MemberRef]) -> list[int | DomainError | None]:
        missing = list({ref for ref in refs if ref not in self.known})
        if missing:
            if len(self.known) + len(missing) > self.MAX:
                self.known.clear()
            self.known.update(zip(missing, members_ids(missing), strict=True))
        return [self.known[ref] for ref in refs]


def orders_known(external_ids: list[str]) -> dict[str, tuple[str, int]]:
    """external id -> (fingerprint, member id) of the stored orders among these. A hand-written
    SELECT: the ORM compiling IN lists of thousands of values was a third of the check's time."""
    known: dict[str, tuple[str, int]] = {}
    table = connection.ops.quote_name(Order._meta.db_table)
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start : start + 500]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, fingerprint, member_id FROM {table} "  # noqa: S608
                f"WHERE external_id IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            known.update(
                (external_id, (fingerprint, member_id)) for external_id, fingerprint, member_id in cursor
            )
    return known


def _orders_against_database(
    batch: list[PendingOrder], sink: ErrorSink, checked: Checked, out, cache: MemberCache
) -> None:
    """Drop broken orders (their rows count as errors), look the rest up, stage the new ones."""
    clean = [order for order in batch if not order.broken]
    for order in batch:
        if order.broken:
            sink.bad_rows.update(order.rows)
    if not clean:
        return
    members = cache.ids([order.head.member for order in clean])
    known = orders_known([order.head.order_id for order in clean])
    staged: list[tuple[OrderInput, int]] = []
    for order, member_id in zip(clean, members, strict=True):
        head = order.head
        if isinstance(member_id, DomainError):
            sink.add([RowError(order.rows[0], "member_phone", member_id.code)])
            sink.bad_rows.update(order.rows)
            continue
        order_input = OrderInput(
            head.order_id, head.member, head.channel, head.paid_at, tuple(order.lines),
            head.coupon_refs, head.campaign_id,
        )  # fmt: skip
        stored = known.get(head.order_id)
        if stored is not None:
            same = member_id is not None and stored == (
                order_fingerprint(order_input, member_id=member_id),
                member_id,
            )
            if not same:
                sink.add([RowError(order.rows[0], "order_id", OrderError.CONFLICT)])
                sink.bad_rows.update(order.rows)
                continue
            checked.records_unchanged += 1
        else:
            checked.records_new += 1
            staged.append(_order_to_stage(order_input, order.rows[0]))
        checked.rows_valid += len(order.rows)
    if staged:
        marshal.dump(staged, out)


def check_members(
    table: Table, *, staged: Path, sink: ErrorSink, max_rows: int, progress: Progress | None = None
) -> Checked:
    columns = header_map("members", table.header)
    checked = sink.checked
    phones: dict[str, int] = {}  # first row of each phone / external id in the file
    external_ids: dict[str, int] = {}
    batch: list[tuple[int, MemberRow]] = []
    with open(staged, "wb") as out:
        for number, cells in table.rows:
            _row_cap(number, max_rows)
            checked.rows_total += 1
            errors: list[RowError] = []
            row = member_row_check(number, cells, columns, errors=errors)
            if row is not None:
                for key, value, seen in (
                    ("phone", row.ref.e164, phones),
                    ("external_id", row.ref.external_id, external_ids),
                ):
                    if value and value in seen:
                        errors.append(
                            RowError(number, key, ImportError_.DUPLICATE_IN_FILE, {"first_row": seen[value]})
                        )
                    elif value:
                        seen[value] = number
            if errors:
                sink.add(errors)
                continue
            batch.append((number, row))
            if len(batch) >= BATCH_ROWS:
                _members_against_database(batch, sink, checked, out)
                batch = []
                if progress:
                    progress(checked.rows_total)
        _members_against_database(batch, sink, checked, out)
    checked.rows_error = len(sink.bad_rows)
    return checked


def _members_against_database(batch, sink: ErrorSink, checked: Checked, out) -> None:
    if not batch:
        return
    matched = members_match([row.ref for _, row in batch])
    staged = []
    for (number, row), member in zip(batch, matched, strict=True):
        if isinstance(member, DomainError):
            sink.add([RowError(number, "phone" if row.ref.e164 else "external_id", member.code)])
            continue
        checked.rows_valid += 1
        if member is None:
            checked.records_new += 1
        else:
            checked.records_unchanged += 1  # known: its blanks may fill, nothing is overwritten
        staged.append((row, number))
    pickle.dump(staged, out, protocol=pickle.HIGHEST_PROTOCOL)


def _staged_batches(staged: Path, load=pickle.load) -> Iterator[list]:
    with open(staged, "rb") as handle:
        while True:
            try:
                yield load(handle)  # our own file, private to the service
            except EOFError:
                return


# Orders are staged as plain tuples with marshal: unpickling frozen dataclasses took ~20 µs a row,
# more than inserting it.
def _order_to_stage(order: OrderInput, first_row: int) -> tuple:
    return (
        order.external_id, order.member.e164, order.member.external_id, order.channel, order.paid_at.isoformat(),
        tuple(tuple(vars(line).values()) for line in order.lines), order.coupon_refs, order.campaign_id, first_row,
    )  # fmt: skip


def _order_from_stage(staged: tuple) -> tuple[OrderInput, int]:
    external_id, e164, member_external_id, channel, paid_at, lines, coupons, campaign_id, first_row = staged
    order = OrderInput(
        external_id, MemberRef(e164, member_external_id), channel, datetime.fromisoformat(paid_at),
        tuple(LineInput(*line) for line in lines), coupons, campaign_id,
    )  # fmt: skip
    return order, first_row


@dataclass
class Written:
    inserted: int = 0
    members_created: int = 0
    members_updated: int = 0
    unchanged: int = 0  # found written meanwhile with the same content
    rows: int = 0


def write_members(staged: Path, *, progress: Progress | None = None) -> Written:
    written = Written()
    for batch in _staged_batches(staged):
        with transaction.atomic():
            resolved = members_resolve_bulk(
                [row.ref for row, _ in batch],
                profiles=[row.profile for row, _ in batch],
                channels=[row.channel for row, _ in batch],
            )
        written.members_created += resolved.created
        written.members_updated += resolved.updated
        written.rows += len(batch)
        if progress:
            progress(written.rows)
    return written


def write_orders(staged: Path, *, sink: ErrorSink, progress: Progress | None = None) -> Written:
    written = Written()
    cache: dict[MemberRef, int] = {}
    for staged_batch in _staged_batches(staged, marshal.load):
        batch = [_order_from_stage(each) for each in staged_batch]
        if len(cache) > MemberCache.MAX:
            cache.clear()
        with transaction.atomic():
            _orders_write_batch(batch, written, sink, cache)
        written.rows += sum(len(order.lines) for order, _ in batch)
        if progress:
            progress(written.rows)
    return written


def _orders_write_batch(
    batch: list[tuple[OrderInput, int]], written: Written, sink: ErrorSink, cache: dict[MemberRef, int]
) -> None:
    """One transaction: the batch's new members, then its orders and lines. The member cache holds
    ids committed by earlier batches only (a rolled-back batch adds nothing to it)."""
    new = [(order.member, order.channel) for order, _ in batch if order.member not in cache]
    found: dict[MemberRef, int | DomainError] = {}
    if new:
        unique = list(dict(new).items())
        resolved = members_resolve_bulk(
            [ref for ref, _ in unique], channels=[channel for _, channel in unique]
        )
        written.members_created += resolved.created
        found = {
            ref: (m if isinstance(m, DomainError) else m.pk)
            for (ref, _), m in zip(unique, resolved.members, strict=True)
        }
    # The members found in earlier batches, or just now, locked: one erased meanwhile takes no order.
    live = members_lock_live(
        {m for m in (cache.get(o.member) or found.get(o.member) for o, _ in batch) if isinstance(m, int)}
    )
    rows = []
    for order, first_row in batch:
        member_id = cache.get(order.member) or found.get(order.member)
        if isinstance(member_id, int) and member_id not in live:
            cache.pop(order.member, None)
            sink.add([RowError(first_row, "member_phone", "member.not_found")])
            continue
        if (
            isinstance(member_id, DomainError) or member_id is None
        ):  # a sign-up took an identifier since the check
            sink.add(
                [RowError(first_row, "member_phone", getattr(member_id, "code", "member.identity_mismatch"))]
            )
            continue
        rows.append((order, first_row, member_id, order_fingerprint(order, member_id=member_id)))
    inserted = _orders_insert(rows)
    for order, first_row, _member_id, fingerprint in rows:
        if order.external_id in inserted:
            continue
        # Written by someone else since the check (a storefront's API call, another import).
        stored = (
            Order.objects.filter(external_id=order.external_id).values_list("fingerprint", flat=True).first()
        )
        if stored == fingerprint:
            written.unchanged += 1
        else:
            sink.add([RowError(first_row, "order_id", OrderError.CONFLICT)])
    lines = [
        (inserted[order.external_id], number, line)
        for order, _, _, _ in rows
        if order.external_id in inserted
        for number, line in enumerate(order.lines, start=1)
    ]
    _lines_insert(lines)
    written.inserted += len(inserted)
    transaction.on_commit(lambda: cache.update((ref, pk) for ref, pk in found.items() if isinstance(pk, int)))
    for order, _, member_id, _ in rows:
        order_pk = inserted.get(order.external_id)
        if order_pk is not None:
            order_publish(
                OrderFact(
                    OrderFactKind.RECORDED,
                    order_pk,
                    member_id,
                    order.total_fen,
                    order.paid_at,
                    source="import",
                )
            )


# The fast path's statements. The ORM's bulk_create spent ~20 µs a row in per-field Python (measured:
# bench/import_bench.py); these write the same rows (tests/commerce/test_import_pipeline.py compares
# them with order_ingest's, the oracle) with values prepared by the model's own fields where they
# need preparing (datetimes, JSON), bound parameters only.
_ORDER_COLUMNS = (
    "external_id", "member_id", "channel", "paid_at", "total_fen", "coupon_refs", "campaign_id",
    "refunded_fen", "status", "fingerprint", "source", "recorded_at",
)  # fmt: skip
_LINE_COLUMNS = (
    "order_id", "line_no", "sku", "category", "unit_price_fen", "quantity", "paid_fen",
    "refunded_fen", "refunded_quantity",
)  # fmt: skip


def _orders_insert(rows: list[tuple[OrderInput, int, int, str]]) -> dict[str, int]:
    """INSERT the orders, skipping ids written meanwhile; external id -> new pk."""
    if not rows:
        return {}
    ops = connection.ops
    meta = Order._meta
    coupon_field = meta.get_field("coupon_refs")
    # DateTimeField.get_db_prep_save of an aware datetime is this backend adapter (after a check for
    # naive values that OrderInput's UTC instants never are); a fifth of the insert's time otherwise.
    adapt = ops.adapt_datetimefield_value
    recorded_at = adapt(timezone.now())
    no_coupons = coupon_field.get_db_prep_save([], connection)
    values = [
        (
            order.external_id,
            member_id,
            order.channel,
            adapt(order.paid_at.astimezone(UTC)),
            order.total_fen,
            coupon_field.get_db_prep_save(list(order.coupon_refs), connection)
            if order.coupon_refs
            else no_coupons,
            order.campaign_id,
            0,
            OrderStatus.PAID.value,
            fingerprint,
            "import",
            recorded_at,
        )
        for order, _, member_id, fingerprint in rows
    ]
    per_statement = max(1, min(500, (connection.features.max_query_params or 999) // len(_ORDER_COLUMNS)))
    table = ops.quote_name(meta.db_table)
    names = ", ".join(ops.quote_name(name) for name in _ORDER_COLUMNS)
    one = "(" + ", ".join(["%s"] * len(_ORDER_COLUMNS)) + ")"
    inserted: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            sql = (
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608
                f"ON CONFLICT DO NOTHING RETURNING {ops.quote_name('id')}, {ops.quote_name('external_id')}"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
            inserted.update((external_id, pk) for pk, external_id in cursor.fetchall())
    return inserted


def _lines_insert(lines: list[tuple[int, int, LineInput]]) -> None:
    if not lines:
        return
    values = [
        (order_pk, number, line.sku, line.category, line.unit_price_fen, line.quantity, line.paid_fen, 0, 0)
        for order_pk, number, line in lines
    ]
    ops = connection.ops
    table = ops.quote_name(OrderLine._meta.db_table)
    names = ", ".join(ops.quote_name(name) for name in _LINE_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: the database's own bulk path, ~3x an executemany of INSERTs here.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(_LINE_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", values)  # noqa: S608
