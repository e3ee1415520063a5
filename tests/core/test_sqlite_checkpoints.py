"""Checkpoints off the request path (core/sqlite_backend): a daemon thread copies the WAL back into
the database, so no request pays for everyone's writes; SQLite's own checkpoint stays as a backstop."""

from __future__ import annotations

import sqlite3
import time

import pytest
from django.db import connection

from yunying.core.sqlite_backend import base as backend


def test_request_connections_checkpoint_only_as_a_backstop(db):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite backend's setting")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == backend.BACKSTOP_PAGES
        cursor.execute("PRAGMA journal_size_limit")  # the WAL file is cut back after a checkpoint
        assert cursor.fetchone()[0] == backend.CHECKPOINT_WAL_BYTES


def test_the_background_thread_checkpoints_a_grown_wal(tmp_path, monkeypatch):
    # given a database whose writers never checkpoint, and a WAL past the (lowered) threshold
    monkeypatch.setattr(backend, "CHECKPOINT_WAL_BYTES", 64 * 1024)
    monkeypatch.setattr(backend, "CHECKPOINT_EVERY_SECONDS", 0.05)
    path = tmp_path / "db.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x TEXT)")
    for _ in range(100):
        writer.execute("INSERT INTO t VALUES (?)", ["x" * 2000])
    before = path.stat().st_size
    assert (tmp_path / "db.sqlite3-wal").stat().st_size >= 64 * 1024
    # when this process's checkpointer for it runs
    checkpointer = backend.Checkpointer(str(path))
    deadline = time.monotonic() + 10
    while checkpointer.completed == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    # then the rows are in the database file itself, and the writer's data is intact
    assert checkpointer.completed >= 1
    assert path.stat().st_size > before + 100 * 2000
    assert writer.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 100
    writer.close()


def test_a_missing_database_is_never_created_by_the_checkpointer(tmp_path):
    checkpointer = backend.Checkpointer.__new__(backend.Checkpointer)
    checkpointer.database, checkpointer.completed = str(tmp_path / "gone.sqlite3"), 0
    with pytest.raises(sqlite3.OperationalError):
        checkpointer.run_once()
    assert not (tmp_path / "gone.sqlite3").exists()
