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

Which key is newer the ring cannot tell (deploy.md's first step appends the new key behind the active
one, so an old ring and a new one hold the same keys), nor can the moment a process started (an old
process restarted, or a `worker --once` run from cron, starts after the rotation began). The database
does: every key a process rotated to is recorded once, in order (KeyTarget). A process whose active
key was recorded before the newest target, or that the ring which first took the newest target up
already held, runs with an old ring: it stands aside, instead of turning the passes back towards its
older key and re-encrypting what the newer processes wrote. A process with a key never seen before
records it as the newest and takes the passes over. An active key never goes back to an older one.

A value that does not decrypt (tampered, moved, malformed) is left as it is and recorded on the
column's progress row (its primary key and the error, never the value): the pass goes on, and
`pii-keys status` shows it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise

from yunying.core import crypto
from yunying.core.registry import SealedColumn, sealed_columns
from yunying.privacy.models import KeyRotation, KeyTarget, percent_of

logger = logging.getLogger("yunying.privacy.keys")

BATCH = 200
JOB_BATCHES = 5  # per worker pass, over all columns: the worker has other jobs
RECHECK_SECONDS = 3600  # how often a worker process re-counts finished columns for stray old values
_rechecked_at: float | None = None
_stale_logged: set[tuple[str, str]] = set()  # (active, newer) pairs this process has logged


def rotation_superseded_by(active: str) -> str | None:
    """The key the rotation moved to that is newer than `active`, or None when `active` is the newest
    key (or one never seen, which is newer than all). Reads only: the status commands ask it too."""
    return _newer_than(active, KeyTarget.objects.order_by("-pk").first())


def _newer_than(active: str, newest: KeyTarget | None) -> str | None:
    """`active` is older than the newest target when it was itself a target before it, or when the
    ring that first took the newest one up already held it (and made another key active)."""
    if newest is None or newest.key_id == active:
        return None
    if active in newest.ring_ids or KeyTarget.objects.filter(key_id=active).exists():
        return newest.key_id
    return None


def _may_rotate(active: str) -> bool:
    """Whether this process may rotate towards its active key (one query when it may); records the key
    as the newest target when it is new. Two processes with two new keys at once: the key recorded
    last wins, the other process stands aside from then on."""
    newest = KeyTarget.objects.order_by("-pk").first()
    if newest is not None and newest.key_id == active:
        if not newest.ring:  # recorded by the migration, which knew no ring: this one tells the older keys
            KeyTarget.objects.filter(pk=newest.pk, ring="").update(ring=",".join(crypto.ring_key_ids()))
        return True
    newer = _newer_than(active, newest)
    if newer is None:
        KeyTarget.objects.get_or_create(
            key_id=active,
            defaults={"ring": ",".join(crypto.ring_key_ids()), "taken_up_at": timezone.now()},
        )
        newer = rotation_superseded_by(active)
    if newer is not None and (active, newer) not in _stale_logged:
        _stale_logged.add((active, newer))
        logger.warning(
            "key rotation: this process's active PII key %s is older than %s, to which the rotation "
            "already moved: it leaves the rotation alone (restart it with the current YUNYING_PII_KEYS)",
            active,
            newer,
        )
    return newer is None


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
    this process runs with an old ring (_may_rotate): it must not turn the pass back towards its own,
    older, key.

    Race-safe: the row is created with get_or_create, and a pass towards another key is taken over by
    a conditional update on the key it was read with, so two workers starting at once never reset the
    counter of the one that got there first."""
    active = crypto.active_key_id()
    if not _may_rotate(active):
        return None
    progress = KeyRotation.objects.filter(column=column.label).first()
    if progress is not None and progress.key_id == active:
        return progress
    total = _pending(column, active).count()
    now = timezone.now()
    fresh = {
        "key_id": active, "cursor": 0, "rows_done": 0, "rows_resealed": 0, "rows_total": total,
        "started_at": now, "finished_at": None if total else now,
        "rows_failed": 0, "failed_pk": None, "failed_error": "",
    }  # fmt: skip
    if progress is None:
        progress, created = KeyRotation.objects.get_or_create(column=column.label, defaults=fresh)
        if created or progress.key_id == active:
            return progress  # ours, or another worker's made a moment ago: its counts stand
    KeyRotation.objects.filter(pk=progress.pk, key_id=progress.key_id).update(**fresh)
    progress = KeyRotation.objects.get(pk=progress.pk)
    return progress if progress.key_id == active else None


def rotation_restart(column: SealedColumn) -> bool:
    """Start a finished column over when values not under the active key are found in it again
    (written by a process still on the old ring after the pass went by, or a value that did not
    decrypt last time: it is tried again). Returns whether it did. `started_at` stays when the pass
    towards this key began."""
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
            rows_failed=0, failed_pk=None, failed_error="",
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
    failed: list[tuple[int, str]] = []
    for row in rows:
        sealed = getattr(row, column.column)
        try:
            if crypto.needs_rotation(sealed):
                token = column.row_token(row)
                clear = crypto.decrypt(sealed, context=column.context, row=token)
                fresh.append((row.pk, sealed, crypto.encrypt(clear, context=column.context, row=token)))
        except (ValueError, InvalidTag) as exc:
            # One bad value must not stop the rotation of every other one: it stays as it is, and
            # the row and the error are recorded (decrypt raised the alert pii.ciphertext_invalid).
            failed.append((row.pk, type(exc).__name__))
    with transaction.atomic():
        done = progress.rows_done + len(rows)
        if not claim.update(cursor=rows[-1].pk, rows_done=done, rows_total=max(progress.rows_total, done)):
            return 0  # another worker did this batch
        resealed = 0
        for pk, sealed, value in fresh:
            resealed += model.objects.filter(pk=pk, **{column.column: sealed}).update(
                **{column.column: value}
            )
        outcome = {"rows_resealed": F("rows_resealed") + resealed}
        if failed:
            outcome |= {
                "rows_failed": F("rows_failed") + len(failed),
                "failed_pk": failed[-1][0],
                "failed_error": failed[-1][1],
            }
        KeyRotation.objects.filter(pk=progress.pk).update(**outcome)
    for pk, error in failed:
        logger.warning(
            "key rotation: %s row %s does not decrypt (%s): left under its old key", column.label, pk, error
        )
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
