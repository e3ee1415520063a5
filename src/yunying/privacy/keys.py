"""Key rotation (S1): re-encrypt every sealed column under the active PII key, resumably, and count
which keys still seal what, so an operator knows when an old key can leave the ring.

The columns come from core.registry.sealed_columns() (each owning app declares its own). A pass walks
a column in primary-key order, in bounded batches, one transaction each, and records its cursor in a
KeyRotation row; the worker runs a few batches per pass (`keys_rotate_job`), `yunying pii-keys rotate`
runs to the end. A value is rewritten only if it is still what was read (compare-and-set on the
column): a member who changed their phone meanwhile keeps the new phone, which is sealed under the
active key already.

A pass reads only the values still to re-encrypt (not under the active key, in SQL): a column already
all under the active key costs one query and is finished at once. A finished pass is not the end: during
a rolling restart the processes still on the old ring keep writing under the old key, behind the
cursor. `pii-keys rotate` therefore re-scans finished columns and starts them over when it finds such
values, and the worker does the same at most every RECHECK_SECONDS.

Which key is newer the ring cannot tell (deploy.md's first step appends the new key, then moves it to
the front): time does. A process takes a column's pass over towards its own active key only if the
pass began before this process took that key up; a pass that began later was started by a process
with a newer ring, and this one (not yet restarted) leaves it alone, instead of turning it back towards
its older key and re-encrypting what the newer processes wrote.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise

from yunying.core import crypto
from yunying.core.registry import SealedColumn, sealed_columns
from yunying.privacy.models import KeyRotation, percent_of

BATCH = 200
JOB_BATCHES = 5  # per worker pass, over all columns: the worker has other jobs
RECHECK_SECONDS = 3600  # how often a worker process re-counts finished columns for stray old values
_rechecked_at: float | None = None
_active_since: dict[str, datetime] = {}  # active key id → when this process first worked with it


def _took_up(active: str) -> datetime:
    """When this process took up `active` as its active key: its first rotation call with it (the
    ring comes from the environment, so in a real process that is start-up)."""
    return _active_since.setdefault(active, timezone.now())


def _ring_changed(*, setting: str, **kwargs) -> None:
    """A process's ring changes only by a restart, except in tests (override_settings): a changed ring
    is taken up anew, as a restarted process would."""
    if setting == "PII_KEYS":
        _active_since.clear()


setting_changed.connect(_ring_changed, dispatch_uid="privacy.keys.ring_changed")


def _model(column: SealedColumn):
    return apps.get_model(column.model)


def _sealed_rows(column: SealedColumn):
    return _model(column).objects.exclude(**{column.column: ""})


def _pending(column: SealedColumn, active: str):
    """The column's values still to re-encrypt: not sealed under `active` in the current format (what
    crypto.needs_rotation says, in SQL). Values already under the active key are never read again."""
    return _sealed_rows(column).exclude(**{f"{column.column}__startswith": f"v2:{active}:"})


def _progress(column: SealedColumn) -> KeyRotation | None:
    """The column's progress row toward the active key; a new active key starts it over. None when
    the row aims at another key and its pass began after this process took up its active key: the
    pass was started by a process with a newer ring, and this one (not restarted yet, in a rolling
    restart) must not turn it back towards its own, older, key."""
    active = crypto.active_key_id()
    since = _took_up(active)
    progress = KeyRotation.objects.filter(column=column.label).first()
    if progress is not None and progress.key_id != active and progress.started_at > since:
        return None
    if progress is None or progress.key_id != active:
        total = _pending(column, active).count()
        now = timezone.now()
        with transaction.atomic():
            progress, _ = KeyRotation.objects.update_or_create(
                column=column.label,
                defaults={
                    "key_id": active, "cursor": 0, "rows_done": 0, "rows_resealed": 0,
                    "rows_total": total, "started_at": now, "finished_at": None if total else now,
                },
            )  # fmt: skip
    return progress


def rotation_restart(column: SealedColumn) -> bool:
    """Start a finished column over when values not under the active key are found in it again
    (written by a process still on the old ring after the pass went by). Returns whether it did.
    `started_at` stays when the pass towards this key began (_progress compares it)."""
    progress = _progress(column)
    if progress is None or progress.finished_at is None:
        return False
    pending = _pending(column, progress.key_id).count()
    if not pending:
        return False
    return bool(
        KeyRotation.objects.filter(
            pk=progress.pk, key_id=progress.key_id, finished_at=progress.finished_at
        ).update(
            cursor=0, rows_done=0, rows_resealed=0, rows_total=pending, finished_at=None,
        )
    )  # fmt: skip


def rotation_batch(column: SealedColumn, *, batch: int = BATCH) -> int | None:
    """Re-encrypt the next `batch` rows of one column; returns how many rows it moved the cursor
    over (0 when another worker took this batch), None when the column is done for the active key.

    The values are read and re-encrypted outside any transaction (no lock is held while computing),
    then written in one short transaction that also advances the cursor, only if the cursor is still
    where it was read (two workers never both count a batch) and each value only if it is still the
    one read (compare-and-set: a concurrent writer's value is kept; it is under the active key)."""
    model = _model(column)
    progress = _progress(column)
    if progress is None or progress.finished_at is not None:
        return None
    claim = KeyRotation.objects.filter(pk=progress.pk, key_id=progress.key_id, cursor=progress.cursor)
    rows = list(
        _pending(column, progress.key_id)
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


def rotation_run(
    *, batch: int = BATCH, max_batches: int | None = None, recheck: bool = False
) -> dict[str, int]:
    """Batches over every declared column until all are done or `max_batches` ran; returns
    {column label: rows looked at} for the columns it touched. With `recheck` (`pii-keys rotate`), a
    column found finished, or finished by this run, is counted again and started over once if values
    not under the active key remain in it."""
    done: dict[str, int] = {}
    budget = max_batches
    for column in sealed_columns():
        restarted = False
        while budget is None or budget > 0:
            seen = rotation_batch(column, batch=batch)
            if seen is None:
                if recheck and not restarted and rotation_restart(column):
                    restarted = True
                    continue
                break
            done[column.label] = done.get(column.label, 0) + seen
            if budget is not None:
                budget -= 1
    return done


def keys_rotate_job() -> dict[str, int]:
    """The worker's periodic job: a few bounded batches per pass, nothing once every column is done,
    except, at most every RECHECK_SECONDS in this process, one count per finished column of the values
    not under the active key (started over if there are any)."""
    global _rechecked_at
    now = time.monotonic()
    if _rechecked_at is None or now - _rechecked_at >= RECHECK_SECONDS:
        _rechecked_at = now
        for column in sealed_columns():
            rotation_restart(column)
    done = rotation_run(max_batches=JOB_BATCHES)
    return {"rows": sum(done.values())} if done else {}


@dataclass(frozen=True)
class ColumnKeys:
    column: str
    by_key: dict[str, int]  # key id → how many ciphertexts it seals ("?" for a malformed value)
    progress: KeyRotation | None
    name: str | Promise = ""  # the column in words (SealedColumn.name)

    @property
    def total(self) -> int:
        return sum(self.by_key.values())

    def percent_under(self, key_id: str) -> int:
        """The share of the column's values sealed under `key_id` (100 only when every one is)."""
        return percent_of(self.by_key.get(key_id, 0), self.total)


def key_usage(*, chunk: int = 2000) -> list[ColumnKeys]:
    """Per declared column, how many stored ciphertexts each key id seals (reads the key id from the
    value's prefix; decrypts nothing)."""
    progress = {row.column: row for row in KeyRotation.objects.all()}
    usage = []
    for column in sealed_columns():
        counts: Counter[str] = Counter()
        for sealed in _sealed_rows(column).values_list(column.column, flat=True).iterator(chunk_size=chunk):
            counts[crypto.key_id_of(sealed) or "?"] += 1
        usage.append(ColumnKeys(column.label, dict(counts), progress.get(column.label), column.name))
    return usage


def keys_in_use(usage: list[ColumnKeys]) -> dict[str, int]:
    """All columns together: key id → ciphertexts it seals."""
    total: Counter[str] = Counter()
    for column in usage:
        total.update(column.by_key)
    return dict(total)
