"""Import jobs: the only writer of commerce.ImportJob. Upload a file, check it, start it, run it.

A small file (settings.IMPORT_INLINE_MAX_BYTES) is checked and imported in the request; a larger one
by `yunying worker` (its periodic job `commerce.imports`, and a task on the Redis queue when there is
one). A job is claimed with a conditional UPDATE on its state and heartbeat, so two workers never run
one job; a job whose heartbeat stopped for IMPORT_STALE_SECONDS (a killed worker) is claimed again
and run from the top: the check pass finds what was written as "unchanged", and only the rest is
written (pipeline.py)."""

from __future__ import annotations

import csv
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from yunying.commerce.imports import pipeline
from yunying.commerce.imports.columns import COLUMNS, header_map
from yunying.commerce.imports.errors import ImportError_, ImportFailed
from yunying.commerce.imports.reading import table_open
from yunying.commerce.imports.rows import RowError
from yunying.commerce.models import ImportJob, ImportKind, ImportMode, ImportState
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError, message_for
from yunying.core.permissions import Actor, Perm, Role
from yunying.core.spreadsheet import spreadsheet_text

logger = logging.getLogger("yunying.commerce.imports")

REPORT_NAME = "report.csv"
STAGED_NAME = "staged.pickle"
COLUMNS_NAME = "columns.json"
UPLOAD_NAME = "upload"


def import_dir(job: ImportJob) -> Path:
    return Path(settings.VAR_DIR) / "imports" / job.token


def upload_path(job: ImportJob) -> Path:
    return import_dir(job) / UPLOAD_NAME


def report_path(job: ImportJob) -> Path:
    return import_dir(job) / REPORT_NAME


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def import_upload(
    *,
    actor: Actor,
    kind: str,
    filename: str,
    chunks: Iterable[bytes],
    mode: str = ImportMode.ALL_OR_NOTHING,
    inline: bool | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Keep an uploaded file (private, 0600) as a new job; check it at once when it is small (or
    `inline`: the CLI), else leave it to the worker. `progress` is called as rows are done.

    Raises: core.permission_denied, import.too_large (nothing kept)."""
    actor.require(Perm.IMPORT_RUN)
    if kind not in ImportKind.values or mode not in ImportMode.values:
        raise DomainError("core.invalid", field="kind")
    job = ImportJob(
        token=secrets.token_hex(16),
        kind=kind,
        mode=mode,
        filename=filename[-200:] or "upload",
        created_by=actor.label[:80],
        created_by_id=actor.id,
        created_by_role=str(actor.role or ""),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    folder = import_dir(job)
    _private_dir(folder)
    size = 0
    try:
        fd = os.open(upload_path(job), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > settings.IMPORT_MAX_BYTES:
                    raise ImportFailed(ImportError_.TOO_LARGE, max_bytes=settings.IMPORT_MAX_BYTES)
                out.write(chunk)
    except ImportFailed:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job.size_bytes = size
    with transaction.atomic():
        job.save()
        audit_record(
            actor=actor,
            action="import.upload",
            object_type="import",
            object_id=job.pk,
            after={"kind": kind, "filename": job.filename, "size_bytes": size, "mode": mode},
        )
    if inline if inline is not None else size <= settings.IMPORT_INLINE_MAX_BYTES:
        import_execute(job.pk, progress=progress)
    else:
        _enqueue(job)
    job.refresh_from_db()
    return job


def import_start(
    *,
    job_id: int,
    actor: Actor,
    mode: str | None = None,
    inline: bool | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Ask for a checked job to be written (in the request when small, else by the worker).

    Raises: core.permission_denied, import.not_found, import.state, import.not_clean."""
    actor.require(Perm.IMPORT_RUN)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise DomainError(ImportError_.NOT_FOUND)
        if mode is not None and mode in ImportMode.values:
            job.mode = mode
        if job.state not in (ImportState.CHECKED, ImportState.INVALID):
            raise DomainError(ImportError_.STATE, state=job.state)
        if job.rows_error and job.mode == ImportMode.ALL_OR_NOTHING:
            raise DomainError(ImportError_.NOT_CLEAN, rows_error=job.rows_error)
        if job.records_new == 0 and job.rows_valid == 0:
            raise DomainError(ImportError_.NOT_CLEAN, rows_error=job.rows_error)
        job.state = ImportState.QUEUED
        job.run_requested = True
        job.rows_done = 0
        job.save(update_fields=["state", "mode", "run_requested", "rows_done"])
        audit_record(
            actor=actor,
            action="import.start",
            object_type="import",
            object_id=job.pk,
            before={"state": "checked"},
            after={"state": job.state, "mode": job.mode, "rows_valid": job.rows_valid},
        )
    if inline if inline is not None else job.size_bytes <= settings.IMPORT_INLINE_MAX_BYTES:
        import_execute(job.pk, progress=progress)
    else:
        _enqueue(job)
    job.refresh_from_db()
    return job


def _enqueue(job: ImportJob) -> None:
    """With the Redis queue, a worker starts at once; without it, the worker's next pass claims it."""
    if getattr(settings, "REDIS_URL", ""):
        try:
            transaction.on_commit(lambda: import_run_task.enqueue(job.pk))
        except Exception:
            logger.warning("import %s: could not queue a task; the worker's pass will run it", job.pk)


def _claim(job_id: int) -> ImportJob | None:
    """The job, claimed for this process, or None when another runs it or nothing is to be done.

    Each claim is one UPDATE whose WHERE the claim itself falsifies (the state moves on, or the
    heartbeat becomes fresh): a second worker's UPDATE, waiting on the row, re-reads it and matches
    nothing (PostgreSQL's READ COMMITTED re-check; SQLite runs writers one at a time)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    jobs = ImportJob.objects.filter(pk=job_id, attempts__lt=settings.IMPORT_MAX_ATTEMPTS)
    claim = {"heartbeat_at": now, "attempts": F("attempts") + 1}
    claimed = (
        jobs.filter(state=ImportState.UPLOADED).update(state=ImportState.CHECKING, **claim)
        or jobs.filter(state=ImportState.QUEUED).update(state=ImportState.RUNNING, **claim)
        or jobs.filter(state__in=[ImportState.CHECKING, ImportState.RUNNING], heartbeat_at__lt=stale).update(
            **claim
        )
    )
    return ImportJob.objects.get(pk=job_id) if claimed else None


def _update(job: ImportJob, **fields) -> None:
    fields["heartbeat_at"] = timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    on_progress = getattr(job, "_on_progress", None)
    if on_progress is not None:
        on_progress(job)


def _actor(job: ImportJob) -> Actor:
    """Who started the job, for the audit row of its finish (run by a worker, for them)."""
    kind = "user" if job.created_by_id is not None else "system"
    return Actor(
        kind=kind,
        id=job.created_by_id,
        label=job.created_by,
        role=Role(job.created_by_role) if job.created_by_role else None,
    )


def import_execute(job_id: int, *, progress: Callable[[ImportJob], None] | None = None) -> ImportJob | None:
    """Claim the job and run what it asks: check, and write when started. Never raises for a bad
    file: the job records it (refused / invalid / failed)."""
    job = _claim(job_id)
    if job is None:
        return None
    job._on_progress = progress
    try:
        with translation.override(job.language):
            _run(job)
    except Exception:
        logger.exception("import %s failed", job.pk)
        _update(job, state=ImportState.FAILED, finished_at=timezone.now(), failure={"code": "import.failed"})
    return job


def _run(job: ImportJob) -> None:
    writing = job.run_requested
    _update(
        job,
        state=ImportState.RUNNING if writing else ImportState.CHECKING,
        started_at=job.started_at or timezone.now(),
        rows_done=0,
    )
    if writing and (import_dir(job) / STAGED_NAME).exists():
        # Checked already: write what the check staged. After a kill, the same again from the top:
        # what was written comes back from the database as unchanged (ON CONFLICT, fingerprints).
        _finish(job, _write(job))
        return
    try:
        checked = _check(job)
    except ImportFailed as exc:
        _update(
            job, state=ImportState.REFUSED, failure={"code": exc.code, **exc.data}, finished_at=timezone.now()
        )
        return
    clean = checked.rows_error == 0
    fields = {
        "rows_total": checked.rows_total,
        "rows_valid": checked.rows_valid,
        "rows_error": checked.rows_error,
        "errors_total": checked.errors,
        "records_new": checked.records_new,
        "records_unchanged": checked.records_unchanged,
    }
    if not writing or (not clean and job.mode == ImportMode.ALL_OR_NOTHING):
        state = ImportState.CHECKED if clean or checked.rows_valid else ImportState.INVALID
        if not clean and job.mode == ImportMode.ALL_OR_NOTHING:
            state = ImportState.INVALID
        if writing:  # the file changed meaning since it was checked (the database did): nothing written
            fields["run_requested"] = False
        _update(job, state=state, **fields)
        return
    _update(job, rows_done=0, **fields)
    _finish(job, _write(job))


def _finish(job: ImportJob, written: pipeline.Written) -> None:
    with transaction.atomic():
        _update(
            job,
            state=ImportState.DONE,
            finished_at=timezone.now(),
            inserted=written.inserted + written.members_updated,
            members_created=written.members_created,
            # What a worker that died, or another import of the same file, wrote before this pass is
            # found unchanged now: counted with what the check already found unchanged (the faults
            # review saw "0 unchanged" after a restart while the audit row had 35,081).
            records_unchanged=job.records_unchanged + written.unchanged,
            rows_done=written.rows,
        )
        audit_record(
            actor=_actor(job),
            action="import.finish",
            object_type="import",
            object_id=job.pk,
            after={
                "kind": job.kind,
                "inserted": written.inserted,
                "members_created": written.members_created,
                "members_updated": written.members_updated,
                "unchanged": job.records_unchanged + written.unchanged,
                "rows_error": job.rows_error,
            },
        )


class _ReportWriter:
    """The error report as it is found: a CSV (UTF-8 with BOM, so Excel opens it) of row, column,
    code and message in the operator's language. Cells that Excel would run as a formula are
    neutralised with a leading apostrophe."""

    def __init__(self, path: Path, column_names: dict[str, str]) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.handle = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow([_("Row"), _("Column"), _("Error code"), _("Message")])
        self.column_names = column_names

    def column(self, key: str) -> str:
        return self.column_names.get(key, key)

    def __call__(self, error: RowError) -> None:
        self.writer.writerow(
            [error.row, spreadsheet_text(self.column(error.column)), error.code, message_for(error.code)]
        )

    def close(self) -> None:
        self.handle.close()


def _check(job: ImportJob) -> pipeline.Checked:
    table = table_open(upload_path(job), filename=job.filename)
    try:
        columns = header_map(job.kind, table.header)
        names = {column.key: column.names[0] for column in COLUMNS[job.kind]}
        names.update({key: str(table.header[index]).strip() for key, index in columns.items()})
        _update(job, file_format=table.format, encoding=table.encoding, sheet=table.sheet,
                other_sheets=table.other_sheets)  # fmt: skip
        report = _ReportWriter(report_path(job), names)
        checked = pipeline.Checked()
        sink = pipeline.ErrorSink(checked, report)
        staged = import_dir(job) / STAGED_NAME
        check = pipeline.check_orders if job.kind == ImportKind.ORDERS else pipeline.check_members
        try:
            check(table, staged=staged, sink=sink, max_rows=settings.IMPORT_MAX_ROWS,
                  progress=lambda rows: _update(job, rows_done=rows))  # fmt: skip
        finally:
            report.close()
        _update(
            job,
            error_sample=[
                {
                    "row": e.row,
                    "column": report.column(e.column),
                    "code": e.code,
                    "message": message_for(e.code),
                }
                for e in checked.sample
            ],
        )
        # The write pass appends what it finds (a race) to the same report, under the same names.
        (import_dir(job) / COLUMNS_NAME).write_text(json.dumps(names))
        return checked
    finally:
        table.close()


def _write(job: ImportJob) -> pipeline.Written:
    staged = import_dir(job) / STAGED_NAME
    progress = lambda rows: _update(job, rows_done=rows)  # noqa: E731
    if job.kind == ImportKind.MEMBERS:
        return pipeline.write_members(staged, progress=progress)
    checked = pipeline.Checked()
    with open(report_path(job), "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        names = json.loads((import_dir(job) / COLUMNS_NAME).read_text())

        def write(error: RowError) -> None:
            writer.writerow([error.row, spreadsheet_text(names.get(error.column, error.column)), error.code,
                             message_for(error.code)])  # fmt: skip

        written = pipeline.write_orders(staged, sink=pipeline.ErrorSink(checked, write), progress=progress)
    if checked.errors:
        _update(
            job, rows_error=job.rows_error + checked.errors, errors_total=job.errors_total + checked.errors
        )
    return written


@task()
def import_run_task(job_id: int) -> None:
    """The job's run on the task queue (django-tasks; RQ on Redis). Only names the job: its row says
    what to do, and the worker's periodic pass runs it anyway when no queue is configured or a task
    is lost."""
    import_execute(job_id)


def imports_run_due() -> dict[str, int]:
    """The worker's periodic job: run every job waiting, or abandoned by a worker that died. A job
    abandoned IMPORT_MAX_ATTEMPTS times (it kills every worker that runs it) is marked failed, so the
    operator sees it stopped instead of "importing" for ever."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    gave_up = ImportJob.objects.filter(
        state__in=[ImportState.CHECKING, ImportState.RUNNING, ImportState.UPLOADED, ImportState.QUEUED],
        heartbeat_at__lt=stale,
        attempts__gte=settings.IMPORT_MAX_ATTEMPTS,
    ).update(state=ImportState.FAILED, finished_at=now, failure={"code": "import.failed"})
    due = list(
        ImportJob.objects.filter(
            Q(state__in=[ImportState.UPLOADED, ImportState.QUEUED])
            | Q(state__in=[ImportState.CHECKING, ImportState.RUNNING], heartbeat_at__lt=stale)
        )
        .exclude(attempts__gte=settings.IMPORT_MAX_ATTEMPTS)
        .order_by("pk")
        .values_list("pk", flat=True)[:5]
    )
    ran = sum(1 for pk in due if import_execute(pk) is not None)
    counts = {"imports_run": ran} if ran else {}
    if gave_up:
        counts["imports_given_up"] = gave_up
    return counts


def import_report_rows(job: ImportJob) -> Iterable[list[str]]:
    """The report's rows (header first), for a download as CSV or XLSX."""
    path = report_path(job)
    if not path.exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        yield from csv.reader(handle)
