"""Calls released together, for concurrency tests: each runs in its own thread on its own database
connection, all waiting at one Barrier, so they contend for real (row locks, unique constraints,
advisory locks) on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connections

from yunying.core.errors import DomainError


def at_once(calls: Sequence[Callable[[], Any]], *, ok: Any = None, timeout: float = 30) -> list[Any]:
    """Each call's outcome, in order: its return value (or `ok` when given), or the code of the
    DomainError it raised. Anything else it raises fails the test."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            barrier.wait(timeout=timeout)
            result = call()
            return result if ok is None else ok
        except DomainError as exc:
            return exc.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
