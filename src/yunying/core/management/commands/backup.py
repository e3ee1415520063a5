"""`yunying backup [PATH]`: an online, consistent copy of the SQLite database.

SQLite's online backup API (Python's `sqlite3.Connection.backup`) copies the database through an
ordinary read transaction: in WAL mode readers never block the writer, so the app keeps serving and
the copy is the database as of one committed instant (writes in flight are not in it). Copying the
file with `cp` while the app runs is not safe: the last commits may still sit in the -wal file.

The copy is written next to its destination as `<path>.partial`, switched to a self-contained
rollback-journal file, checked with `PRAGMA integrity_check` and only then renamed into place.

PostgreSQL has its own tool for this, which also streams large databases without a copy on the app
server: the command refuses and prints the pg_dump command for the configured database.
"""

from __future__ import annotations

import shlex
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections


def default_path(suffix: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(settings.VAR_DIR) / "backups" / f"yunying-{stamp}{suffix}"


def pg_dump_command(settings_dict: dict, path: Path | str) -> str:
    """The pg_dump command (custom format) for a PostgreSQL settings dict, never with its password."""
    parts = ["pg_dump", "--format=custom", f"--file={path}"]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            parts.append(f"{flag}={settings_dict[key]}")
    parts.append(f"--dbname={settings_dict['NAME']}")
    env = []
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env.append(f"PGSSLMODE={sslmode}")
    return shlex.join([*env, *parts]) if env else shlex.join(parts)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class Command(BaseCommand):
    help = (
        "Back up the SQLite database online (safe while the app serves), check the copy with "
        "PRAGMA integrity_check and print its path and size. On PostgreSQL, print the pg_dump command."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            help="file to write (default: $YUNYING_VAR_DIR/backups/yunying-YYYYmmdd-HHMMSS.sqlite3, UTC); "
            "refused if it exists",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, path, database, **options):
        conn = connections[database]
        if conn.vendor == "postgresql":
            target = path or default_path(".dump")
            raise CommandError(
                "yunying backup copies SQLite only; back up PostgreSQL with pg_dump (custom format, "
                "restore with pg_restore), for example:\n"
                f"  {pg_dump_command(conn.settings_dict, target)}\n"
                "The password is not shown: pg_dump reads it from ~/.pgpass or PGPASSWORD."
            )
        if conn.vendor != "sqlite":
            raise CommandError(
                f"yunying backup supports SQLite only, not {conn.vendor}; use its own dump tool"
            )

        source = str(conn.settings_dict["NAME"])
        if source == ":memory:" or source.startswith("file:") or not Path(source).is_file():
            raise CommandError(f"no SQLite database file at {source!r}")
        target = Path(path) if path else default_path(".sqlite3")
        target = target.resolve()
        if target == Path(source).resolve():
            raise CommandError("the backup path is the live database itself")
        if target.exists():
            raise CommandError(f"{target} exists; give another path")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)

        try:
            self._copy(source, partial)
        except CommandError:
            partial.unlink(missing_ok=True)
            raise
        problems = self._integrity_problems(partial)
        if problems:
            raise CommandError(
                f"integrity_check failed on the copy, left at {partial}:\n  " + "\n  ".join(problems[:20])
            )
        partial.replace(target)
        size = target.stat().st_size
        self.stdout.write(f"{target} {size} bytes ({_human(size)}), integrity_check ok")

    def _copy(self, source: str, partial: Path) -> None:
        # A connection of its own, not Django's: the copy must never see a transaction this process
        # holds open. One step (pages=-1) copies from one read snapshot; in WAL mode writers go on.
        src = sqlite3.connect(source, timeout=10)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            # The copy carries the source's WAL mode; a backup should be one self-contained file.
            dst.execute("PRAGMA journal_mode=DELETE").fetchone()
        except sqlite3.Error as exc:
            raise CommandError(f"backup of {source} failed: {exc}") from exc
        finally:
            dst.close()
            src.close()

    def _integrity_problems(self, path: Path) -> list[str]:
        check = sqlite3.connect(path)
        try:
            rows = [row[0] for row in check.execute("PRAGMA integrity_check")]
        finally:
            check.close()
        return [] if rows == ["ok"] else rows
