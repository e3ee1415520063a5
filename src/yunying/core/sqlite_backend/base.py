"""SQLite with its writers queued on a kernel file lock, and every wait for it bounded.

SQLite allows one writer at a time. A writer that finds the lock taken does not queue: its busy
handler sleeps and retries (1, 2, 5, 10 … ms), so under a rush the lock sits idle between writers
while waiters sleep (measured: half the throughput). Here every write transaction (BEGIN IMMEDIATE)
first takes a per-process thread lock and then an exclusive flock() on "<database>.writer-lock": the
kernel wakes the next writer the moment the previous one commits. Readers are untouched (WAL). The
kernel drops the flock of a process that dies, so a crash cannot wedge the others.

A blocking flock() cannot time out, so a contended one is waited for by a helper thread with its own
descriptor while the writer waits on a condition with a deadline (the connection's `timeout` option):
past it the writer gets the same OperationalError ("database is locked") as SQLite's own busy timeout,
which the API answers with 503 `core.busy` and Retry-After (DESIGN: every wait is bounded).

Checkpoints run off the request path. SQLite copies the WAL back into the database (and fsyncs it)
inside the commit that crosses 1,000 pages, so one request in a hundred or so paid several
milliseconds for everyone's writes (measured: most of the risk check's p99). Here a daemon thread per
process checkpoints (PASSIVE: it never blocks a reader or a writer) once the WAL passes
CHECKPOINT_WAL_BYTES, and connections keep SQLite's own automatic checkpoint only as a backstop at
ten times that, should no thread run.

The hook is `_start_transaction_under_autocommit`, where Django's SQLite backend issues BEGIN: a
private method, so tests/core/test_sqlite_backend.py checks that Django still calls it for every write
transaction and fails loudly on an upgrade that changes that.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base, operations


class _Waiter:
    """A daemon thread that blocks in flock() on behalf of this process's next writer."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._cond = threading.Condition()
        self._wanted = False  # a writer is waiting for the lock
        self._granted = False  # this thread's descriptor holds the lock for that writer
        threading.Thread(target=self._run, name="sqlite-writer-lock", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._wanted)
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # the kernel wakes us when the holder unlocks
            with self._cond:
                if not self._wanted:  # the writer gave up meanwhile
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                    continue
                self._granted = True
                self._cond.notify_all()
                self._cond.wait_for(lambda: not self._granted)  # until the writer releases

    def wait(self, timeout: float) -> bool:
        """Whether the lock was got (on self.fd) within `timeout` seconds."""
        with self._cond:
            self._wanted = True
            self._cond.notify_all()
            got = self._cond.wait_for(lambda: self._granted, max(timeout, 0.0))
            self._wanted = False
            return got

    def released(self) -> None:
        with self._cond:
            self._granted = False
            self._cond.notify_all()


class _WriterLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self._waiter: _Waiter | None = None
        self._held_by_waiter = False

    def acquire(self, timeout: float) -> None:
        """Raises: OperationalError("database is locked") after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            raise OperationalError("database is locked (writers queued in this process)")
        try:
            if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
                self._fd, self._pid, self._waiter = (
                    os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600),
                    os.getpid(),
                    None,
                )
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # uncontended: no thread hand-off
                self._held_by_waiter = False
                return
            except BlockingIOError:
                pass
            if self._waiter is None:
                self._waiter = _Waiter(self.path)
            if not self._waiter.wait(deadline - time.monotonic()):
                raise OperationalError("database is locked (another process holds the writer lock)")
            self._held_by_waiter = True
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        if self._held_by_waiter:
            fcntl.flock(self._waiter.fd, fcntl.LOCK_UN)
            self._waiter.released()
        else:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


logger = logging.getLogger("yunying.db")

CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024  # SQLite's own default: 1,000 pages of 4 KiB
BACKSTOP_PAGES = 10_000  # the request path checkpoints only if the thread has not, for 10× as long
CHECKPOINT_EVERY_SECONDS = 0.1  # a stat() of the WAL file each time; a checkpoint only when it is due


class Checkpointer:
    """Checkpoints one database file from a daemon thread of this process (started on its first
    connection; a forked worker starts its own)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.completed = 0  # checkpoints that ran (tests watch it)
        self.pid = os.getpid()
        threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True).start()

    def due(self) -> bool:
        try:
            return os.stat(f"{self.database}-wal").st_size >= CHECKPOINT_WAL_BYTES
        except FileNotFoundError:
            return False

    def run_once(self) -> None:
        """A PASSIVE checkpoint: copies what no reader still needs; the next writer then restarts the WAL."""
        connection = sqlite3.connect(
            f"file:{self.database}?mode=rw", uri=True, timeout=0.1
        )  # never creates it
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self.completed += 1
        finally:
            connection.close()

    def _run(self) -> None:
        while True:
            time.sleep(CHECKPOINT_EVERY_SECONDS)
            try:
                if self.due():
                    self.run_once()
            except sqlite3.Error as exc:  # busy, or the file went away: the backstop still holds
                logger.warning("background checkpoint of %s failed: %s", self.database, exc)


_checkpointers: dict[str, Checkpointer] = {}


def checkpointer_for(database: str) -> Checkpointer:
    with _locks_guard:
        found = _checkpointers.get(database)
        if found is None or found.pid != os.getpid():
            found = _checkpointers[database] = Checkpointer(database)
        return found


_locks: dict[str, _WriterLock] = {}
_locks_guard = threading.Lock()


def _lock_for(database: str) -> _WriterLock:
    with _locks_guard:
        return _locks.setdefault(database, _WriterLock(f"{database}.writer-lock"))


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        """Flushing the whole database empties the append-only tables too (as TRUNCATE does on
        PostgreSQL): their triggers are dropped for the DELETE and re-created, in the flush's transaction."""
        from yunying.core.audit import APPEND_ONLY_TABLES, append_only_sql

        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        for table in APPEND_ONLY_TABLES:
            if table in tables:
                statements = (
                    append_only_sql("sqlite", drop=True, table=table)
                    + statements
                    + append_only_sql("sqlite", table=table)
                )
        return statements


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._writer_lock: _WriterLock | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            connection.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
            # After a checkpoint the next writer starts the WAL over; this cuts the file back to the
            # threshold then (without it the file kept its largest size, and `due` stayed true for good).
            connection.execute(f"PRAGMA journal_size_limit = {CHECKPOINT_WAL_BYTES}")
            checkpointer_for(str(self.settings_dict["NAME"]))
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        waited = 0.0
        if self._writer_lock is None and not self.is_in_memory_db():
            lock = _lock_for(str(self.settings_dict["NAME"]))
            started = time.monotonic()
            lock.acquire(timeout=timeout)
            waited = time.monotonic() - started
            self._writer_lock = lock
        try:
            if waited > 0.01:
                # One deadline for both waits: BEGIN IMMEDIATE may still meet a writer outside the
                # queue (the sqlite3 shell, a backup) and would wait a whole busy timeout more.
                self._begin_within(max(timeout - waited, 0.001), timeout)
            else:
                super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _begin_within(self, remaining: float, timeout: float) -> None:
        self.connection.execute(f"PRAGMA busy_timeout = {int(remaining * 1000)}")
        try:
            super()._start_transaction_under_autocommit()
        finally:
            self.connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")

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
