"""Key rotation (S1): re-encrypt every sealed column under the active PII key, resumably, and count
which keys still seal what, so an operator knows when an old key can leave the ring.

The columns come from core.registry.sealed_columns() (each owning app declares its own). A pass walks
a column in primary-key order, in bounded batches, one transaction each, and records its cursor in a
KeyRotation row; the worker runs a few batches per pass (`keys_rotate_job`), `yunying pii-keys rotate`
runs to the end. A value is rewritten only if it is still what was read (compare-and-set on the
column): a member who changed their phone meanwhile keeps the new phone, which is sealed under the
active key already.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from yunying.core import crypto
from yunying.core.registry import SealedColumn, sealed_columns
from yunying.privacy.models import KeyRotation

BATCH = 200
JOB_BATCHES = 5  # per worker pass, over all columns: the worker has other jobs


def _model(column: SealedColumn):
    return apps.get_model(column.model)


def _sealed_rows(column: SealedColumn):
    return _model(column).objects.exclude(**{column.column: ""})


def _progress(column: SealedColumn) -> KeyRotation:
    """The column's progress row toward the active key; a new active key starts it over."""
    active = crypto.active_key_id()
    progress = KeyRotation.objects.filter(column=column.label).first()
    if progress is None or progress.key_id != active:
        with transaction.atomic():
            progress, _ = KeyRotation.objects.update_or_create(
                column=column.label,
                defaults={
                    "key_id": active, "cursor": 0, "rows_done": 0, "rows_resealed": 0,
                    "rows_total": _sealed_rows(column).count(), "started_at": timezone.now(),
                    "finished_at": None,
                },
            )  # fmt: skip
    return progress


def rotation_batch(column: SealedColumn, *, batch: int = BATCH) -> int | None:
    """Re-encrypt the next `batch` rows of one column; returns how many rows it moved the cursor
    over (0 when another worker took this batch), None when the column is done for the active key.

    The values are read and re-encrypted outside any transaction (no lock is held while computing),
    then written in one short transaction that also advances the cursor, only if the cursor is still
    where it was read (two workers never both count a batch) and each value only if it is still the
    one read (compare-and-set: a concurrent writer's value is kept; it is under the active key)."""
    model = _model(column)
    progress = _progress(column)
    if progress.finished_at is not None:
        return None
    claim = KeyRotation.objects.filter(pk=progress.pk, key_id=progress.key_id, cursor=progress.cursor)
    rows = list(
        _sealed_rows(column)
        .filter(pk__gt=progress.cursor)
        .select_related(*column.related)
        .order_by("pk")[:batch]
    )
    if not rows:
        claim.filter(finished_at=None).update(
            finished_at=timezone.now(), rows_total=max(progress.rows_total, progress.rows_done)
        )
        return None
    fresh: list[tuple[int, str, str]] = []
    for row in rows:
        sealed = getattr(row, column.column)
        if crypto.needs_rotation(sealed):
            token = column.row_token(row)
            clear = crypto.decrypt(sealed, context=column.context, row=token)
            fresh.append((row.pk, sealed, crypto.encrypt(clear, context=column.context, row=token)))
    with transaction.atomic():
        done = progress.rows_done + len(rows)
        if not claim.update(cursor=rows[-1].pk, rows_done=done, rows_total=max(progress.rows_total, done)):
            return 0  # another worker did this batch
        resealed = 0
        for pk, sealed, value in fresh:
            resealed += model.objects.filter(pk=pk, **{column.column: sealed}).update(
                **{column.column: value}
            )
        KeyRotation.objects.filter(pk=progress.pk).update(rows_resealed=F("rows_resealed") + resealed)
    return len(rows)


def rotation_run(*, batch: int = BATCH, max_batches: int | None = None) -> dict[str, int]:
    """Batches over every declared column until all are done or `max_batches` ran; returns
    {column label: rows looked at} for the columns it touched."""
    done: dict[str, int] = {}
    budget = max_batches
    for column in sealed_columns():
        while budget is None or budget > 0:
            seen = rotation_batch(column, batch=batch)
            if seen is None:
                break
            done[column.label] = done.get(column.label, 0) + seen
            if budget is not None:
                budget -= 1
    return done


def keys_rotate_job() -> dict[str, int]:
    """The worker's periodic job: a few bounded batches per pass, nothing once every column is done."""
    done = rotation_run(max_batches=JOB_BATCHES)
    return {"rows": sum(done.values())} if done else {}


@dataclass(frozen=True)
class ColumnKeys:
    column: str
    by_key: dict[str, int]  # key id → how many ciphertexts it seals ("?" for a malformed value)
    progress: KeyRotation | None

    @property
    def total(self) -> int:
        return sum(self.by_key.values())


def key_usage(*, chunk: int = 2000) -> list[ColumnKeys]:
    """Per declared column, how many stored ciphertexts each key id seals (reads the key id from the
    value's prefix; decrypts nothing)."""
    progress = {row.column: row for row in KeyRotation.objects.all()}
    usage = []
    for column in sealed_columns():
        counts: Counter[str] = Counter()
        for sealed in _sealed_rows(column).values_list(column.column, flat=True).iterator(chunk_size=chunk):
            counts[crypto.key_id_of(sealed) or "?"] += 1
        usage.append(ColumnKeys(column.label, dict(counts), progress.get(column.label)))
    return usage


def keys_in_use(usage: list[ColumnKeys]) -> dict[str, int]:
    """All columns together: key id → ciphertexts it seals."""
    total: Counter[str] = Counter()
    for column in usage:
        total.update(column.by_key)
    return dict(total)
