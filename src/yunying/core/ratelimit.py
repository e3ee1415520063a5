"""Fixed-window rate limits (S7), shared by every process of the deployment.

With REDIS_URL the counts live on Redis. Without it (the embedded default) they live in a small SQLite
file of their own under var/ (RATELIMIT_PATH): every `yunying serve` worker process on the machine
counts in the same table, so "30 a minute" stays 30 whatever the number of processes. A separate file,
not the main database: counting must not queue behind the main database's single write lock (a sign-up
holds it), and a lost count costs nothing, so the file skips fsync. A window is one minute.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import random
import sqlite3
import threading
import time
from pathlib import Path

import redis
from django.conf import settings

from yunying.core.crypto import blind_index
from yunying.core.errors import CoreError, DomainError
from yunying.core.redis import redis_client

logger = logging.getLogger(__name__)

# --- Redis ------------------------------------------------------------------------------------------


# Redis away (restarting, failing over, hung past the client's timeout): the limits fall back to the
# counter file on this machine. Counting per machine for a while is weaker than counting for the whole
# deployment, but still a limit (failing open switched off the sign-in throttle and the SMS limits);
# and the API stays up (every call is counted). Logged at most once per FAIL_OVER_LOG_SECONDS per process.
FAIL_OVER_LOG_SECONDS = 10.0
_fail_over_logged_at = 0.0


def _fail_over(exc: Exception) -> None:
    global _fail_over_logged_at
    now = time.monotonic()
    if now - _fail_over_logged_at > FAIL_OVER_LOG_SECONDS:
        _fail_over_logged_at = now
        logger.warning(
            "rate limits counted on this machine only: Redis is not answering (%s)", type(exc).__name__
        )


def _redis_count(key: str, expires: int, amount: int = 1) -> int:
    # Create-if-missing and increment in one round trip (every API call pays it): a pipeline
    # without MULTI, since SET NX followed by INCR is right in any interleaving.
    try:
        pipe = redis_client(settings.REDIS_URL).pipeline(transaction=False)
        pipe.set(key, 0, nx=True, ex=expires)
        pipe.incr(key, amount)
        return pipe.execute()[1]
    except redis.RedisError as exc:
        _fail_over(exc)
        return _file_count(key, expires, amount)


def _redis_peek(key: str) -> int:
    try:
        return int(redis_client(settings.REDIS_URL).get(key) or 0)
    except redis.RedisError as exc:
        _fail_over(exc)
        return _file_peek(key)


# --- the shared SQLite file -------------------------------------------------------------------------

_local = threading.local()
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
)
# One statement: the row is created or incremented and its new count read under the same write lock,
# so two processes can never both read 29 and both write 30.
_COUNT = (
    "INSERT INTO counter (key, count, expires) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET count = count + excluded.count RETURNING count"
)
PURGE_EVERY = 1000  # about one hit in this many also deletes the expired windows


def _file_connection() -> sqlite3.Connection:
    """This thread's connection to the counter file (created private, 0600, on first use)."""
    path = str(settings.RATELIMIT_PATH)
    connection = getattr(_local, "connections", {}).get(path)
    if connection is None:
        Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        # Autocommit: each statement is its own short transaction. A bounded wait for the lock.
        connection = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        _file_prepare(connection)
        _local.connections = {**getattr(_local, "connections", {}), path: connection}
    return connection


def _file_prepare(connection: sqlite3.Connection, *, within: float = 5.0) -> None:
    """WAL and the table. Two processes doing this at once on a new file race for it — switching to
    WAL can answer "database is locked" without waiting — so it is retried, within a bound.

    Raises: core.busy."""
    deadline = time.monotonic() + within
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # counts need not survive a power cut
            connection.execute(_SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            if time.monotonic() > deadline:
                connection.close()
                raise DomainError(CoreError.BUSY, retry_after=1) from exc
            time.sleep(0.005)  # the other process is creating the same file: moments


def _file_count(key: str, expires: int, amount: int = 1) -> int:
    connection = _file_connection()
    now = time.time()
    try:
        (count,) = connection.execute(_COUNT, (key, amount, now + expires)).fetchone()
        if random.randrange(PURGE_EVERY) == 0:  # noqa: S311 - a purge schedule, not a secret
            connection.execute("DELETE FROM counter WHERE expires < ?", (now,))
    except sqlite3.OperationalError as exc:  # the lock wait ran out: busy, never a hang or a 500
        raise DomainError(CoreError.BUSY, retry_after=1) from exc
    return count


def _file_peek(key: str) -> int:
    try:
        row = _file_connection().execute("SELECT count FROM counter WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError as exc:
        raise DomainError(CoreError.BUSY, retry_after=1) from exc
    return row[0] if row else 0


def ratelimit_reset() -> None:
    """Forget every count (tests; an operator lifting a block with `yunying shell`)."""
    if settings.REDIS_URL:
        client = redis_client(settings.REDIS_URL)
        for key in client.scan_iter("yunying:rl:*"):
            client.delete(key)
        return
    _file_connection().execute("DELETE FROM counter")


# --- the limits -------------------------------------------------------------------------------------


def _window_key(scope: str, key: str, window_seconds: int) -> str:
    return f"yunying:rl:{scope}:{key}:{int(time.time() // window_seconds)}"


def _refuse(window_seconds: int) -> DomainError:
    retry_after = window_seconds - int(time.time() % window_seconds)
    return DomainError(CoreError.RATE_LIMITED, retry_after=max(retry_after, 1))


def client_key(address: str) -> str:
    """A client address as a rate-limit key: a keyed digest, so the counter store (Redis, the
    counter file) never holds an IP address — personal data under PIPL — in clear. An IPv6 client
    counts by its /64: one subscriber gets a whole /64 and could rotate through it freely."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None  # not an address (a user name keyed the same way)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return blind_index(address, context="ratelimit.client_ip")


def ratelimit_count(*, scope: str, key: str, window_seconds: int = 60, amount: int = 1) -> int:
    """Count `amount` hits (one by default) in the current window; return the window's count so far."""
    counter_key = _window_key(scope, key, window_seconds)
    count = _redis_count if settings.REDIS_URL else _file_count
    return count(counter_key, window_seconds + 5, amount)


def ratelimit_hit(*, scope: str, key: str, limit: int, window_seconds: int = 60) -> None:
    """Count one hit; raises core.rate_limited (with retry_after) once the window is over `limit`."""
    if ratelimit_count(scope=scope, key=key, window_seconds=window_seconds) > limit:
        raise _refuse(window_seconds)


def ratelimit_check(*, scope: str, key: str, limit: int, window_seconds: int = 60) -> None:
    """Count nothing; raises core.rate_limited when the window already holds `limit` hits (for limits
    on outcomes, counted with ratelimit_count once the outcome is known)."""
    counter_key = _window_key(scope, key, window_seconds)
    peek = _redis_peek if settings.REDIS_URL else _file_peek
    if peek(counter_key) >= limit:
        raise _refuse(window_seconds)


def ratelimit_release(*, scope: str, key: str, window_seconds: int = 60) -> None:
    """Take back one hit counted in the current window (an attempt counted before its outcome was
    known turned out not to count: a right password). Never below zero."""
    counter_key = _window_key(scope, key, window_seconds)
    if settings.REDIS_URL:
        try:
            client = redis_client(settings.REDIS_URL)
            if int(client.get(counter_key) or 0) > 0:  # a DECR on a missing key would make one, forever
                client.decr(counter_key)
            return
        except redis.RedisError as exc:
            _fail_over(exc)
    try:
        _file_connection().execute(
            "UPDATE counter SET count = count - 1 WHERE key = ? AND count > 0", (counter_key,)
        )
    except sqlite3.OperationalError as exc:
        raise DomainError(CoreError.BUSY, retry_after=1) from exc
