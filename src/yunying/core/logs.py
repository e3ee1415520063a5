"""Structured logs: one JSON object per line when YUNYING_LOG_FORMAT=json (the production default)."""

from __future__ import annotations

from datetime import UTC, datetime
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
