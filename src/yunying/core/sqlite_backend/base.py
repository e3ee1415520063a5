"""SQLite with its writers queued on a kernel file lock.

SQLite allows one writer at a time. A writer that finds the lock taken does not queue: its busy
handler sleeps and retries (1, 2, 5, 10 … ms), so under a rush the lock sits idle between writers
while waiters sleep. Here every write transaction (BEGIN IMMEDIATE) first takes a per-process thread
lock and then an exclusive flock() on "<database>.writer-lock": the kernel wakes the next writer the
moment the previous one commits. Readers are untouched (WAL). The kernel drops the flock of a process
that dies, so a crash cannot wedge the others.
"""

from __future__ import annotations

import fcntl
import os
import threading

from django.db.backends.sqlite3 import base, operations


class _WriterLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
                self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


_locks: dict[str, _WriterLock] = {}
_locks_guard = threading.Lock()


def _lock_for(database: str) -> _WriterLock:
    with _locks_guard:
        return _locks.setdefault(database, _WriterLock(f"{database}.writer-lock"))


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        """Flushing the whole database empties the append-only audit table too (as TRUNCATE does on
        PostgreSQL): its triggers are dropped for the DELETE and re-created, in the flush's transaction."""
        from yunying.core.audit import AUDIT_TABLE, append_only_sql

        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if AUDIT_TABLE not in tables:
            return statements
        return append_only_sql("sqlite", drop=True) + statements + append_only_sql("sqlite")


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._writer_lock: _WriterLock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        if self._writer_lock is None and not self.is_in_memory_db():
            lock = _lock_for(str(self.settings_dict["NAME"]))
            lock.acquire()
            self._writer_lock = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self) -> None:
        if self._writer_lock is not None:
            lock, self._writer_lock = self._writer_lock, None
            lock.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer()
