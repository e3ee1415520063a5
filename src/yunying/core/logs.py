"""Structured logs: one JSON object per line when YUNYING_LOG_FORMAT=json (the production default)."""

from __future__ import annotations

import atexit
import logging
import os
import queue
import sys
import threading
from datetime import UTC, datetime
from logging.handlers import QueueListener
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

# Django's `django.request` and `django.server` records carry the HttpRequest as `request`; its repr
# holds the query string, which can hold personal data (?phone=…), so it never reaches a log line.
DROPPED_EXTRAS = ("request",)


class JsonFormatter(_LibraryJsonFormatter):
    """`{"time", "level", "logger", "message", …extras}`, UTC time, Chinese text unescaped."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, *DROPPED_EXTRAS])
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(**kwargs)

    def add_fields(self, log_data: dict[str, Any], record, message_dict: dict[str, Any]) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)


def _stop(listener: QueueListener) -> None:
    if listener._thread is not None:  # not stopped yet (flush() may have)
        listener.stop()


class BackgroundHandler(logging.Handler):
    """Writes records from a thread of its own: the thread that logs (a request's) only enqueues.

    One JSON line per request, formatted and written in the request, cost about a quarter of SQLite's
    sign-up throughput (issue 8 §6). Here the request pays for a queue put; formatting and the write to
    stderr happen in a listener thread, started lazily in each process (granian forks its workers).
    Records are queued as they are — not pre-formatted as logging.handlers.QueueHandler does — and
    flushed at exit."""

    def __init__(self, stream=None) -> None:
        super().__init__()
        self._stream = stream
        self._pid: int | None = None
        self._queue: queue.SimpleQueue | None = None
        self._listener: QueueListener | None = None
        self._start_lock = threading.Lock()

    def _start(self) -> queue.SimpleQueue:
        with self._start_lock:
            if self._pid != os.getpid():
                target = logging.StreamHandler(self._stream or sys.stderr)
                target.setFormatter(self.formatter)
                self._queue = queue.SimpleQueue()
                self._listener = QueueListener(self._queue, target)
                self._listener.start()
                self._pid = os.getpid()
                atexit.register(_stop, self._listener)  # drains what is queued
        return self._queue

    def emit(self, record: logging.LogRecord) -> None:
        queue_ = self._queue if self._pid == os.getpid() else self._start()
        queue_.put_nowait(record)

    def flush(self) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        if self._listener is not None and self._pid == os.getpid():
            _stop(self._listener)
            self._pid = None  # the next record starts a new listener
