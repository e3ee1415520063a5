"""`yunying import members|orders FILE [--clean-only] [--dry-run]`: the console's import from a shell.

Exit codes: 0 imported (or, with --dry-run, clean); 1 the file has errors (nothing imported in the
default all-or-nothing mode) or was refused; 2 imported the clean rows only and reported the rest."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yunying.commerce.imports import jobs
from yunying.commerce.imports.errors import ImportFailed
from yunying.commerce.models import ImportJob, ImportMode, ImportState
from yunying.core.errors import message_for
from yunying.core.permissions import Actor

CHUNK = 1 << 20


class Command(BaseCommand):
    help = "Import members or orders from a CSV or XLSX file (docs/import.md)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["members", "orders"])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--clean-only", action="store_true", help="Import the clean rows, report the rest."
        )
        parser.add_argument("--dry-run", action="store_true", help="Check the file only; write nothing.")

    def handle(self, *args, kind, file, clean_only, dry_run, **options):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        actor = Actor(kind="system", id=None, label="cli")
        mode = ImportMode.CLEAN_ONLY if clean_only else ImportMode.ALL_OR_NOTHING

        def chunks():
            with open(file, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            disable=not self.stdout.isatty(),
        ) as bar:  # fmt: skip
            checking = bar.add_task(_("Checking"), total=None)

            def on_check(job: ImportJob) -> None:
                bar.update(checking, completed=job.rows_done)

            try:
                job = jobs.import_upload(
                    actor=actor, kind=kind, filename=file.name, chunks=chunks(), mode=mode, inline=True,
                    progress=on_check,
                )  # fmt: skip
            except ImportFailed as exc:
                self.stderr.write(f"{exc.code}: {exc.message}")
                raise SystemExit(1) from exc
            bar.update(checking, total=job.rows_total, completed=job.rows_total)
            self._summary(job)
            if job.state == ImportState.REFUSED:
                self.stderr.write(f"{job.failure.get('code')}: {message_for(job.failure.get('code', ''))}")
                raise SystemExit(1)
            if dry_run or (job.state != ImportState.CHECKED and not clean_only):
                if job.rows_error:
                    self.stderr.write(_("Errors: %(path)s") % {"path": jobs.report_path(job)})
                    raise SystemExit(1)
                return
            if job.records_new == 0:
                self.stdout.write(_("Nothing new to import."))
                raise SystemExit(2 if job.rows_error else 0)
            writing = bar.add_task(_("Importing"), total=job.rows_valid)
            try:
                job = jobs.import_start(
                    job_id=job.pk, actor=actor, mode=mode, inline=True,
                    progress=lambda each: bar.update(writing, completed=each.rows_done),
                )  # fmt: skip
            except KeyboardInterrupt:
                # Half written is not half done: the job is resumable, and the worker takes it over
                # once its heartbeat is stale. Say so instead of a traceback (faults review).
                self.stderr.write(
                    _(
                        "Interrupted. Import %(id)d is left half written; `yunying worker` finishes it "
                        "in a few minutes without writing anything twice (see the console's Import page)."
                    )
                    % {"id": job.pk}
                )
                raise SystemExit(130) from None
        self.stdout.write(
            _("Imported %(inserted)d new, %(unchanged)d unchanged, %(members)d members created.")
            % {"inserted": job.inserted, "unchanged": job.records_unchanged, "members": job.members_created}
        )
        if job.state != ImportState.DONE:
            raise SystemExit(1)
        if job.rows_error:
            self.stderr.write(_("Errors: %(path)s") % {"path": jobs.report_path(job)})
            raise SystemExit(2)

    def _summary(self, job: ImportJob) -> None:
        self.stdout.write(
            _(
                "%(rows)d rows: %(valid)d valid, %(errors)d with errors; %(new)d new records, %(unchanged)d unchanged."
            )
            % {
                "rows": job.rows_total,
                "valid": job.rows_valid,
                "errors": job.rows_error,
                "new": job.records_new,
                "unchanged": job.records_unchanged,
            }
        )
