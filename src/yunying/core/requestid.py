"""The id of the request being served, so an access-log row, an audit row and the request's log line
can be matched (S3, S5). A proxy's X-Request-ID is kept when it looks like an id; otherwise one is
made. Outside a request (the worker, a command) it is ""."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # a uuid, a trace id: nothing that could carry text
_current: ContextVar[str] = ContextVar("yunying_request_id", default="")


def request_id() -> str:
    """The current request's id, or "" outside a request."""
    return _current.get()


def request_id_begin(offered: str | None) -> tuple[str, Token]:
    """Start a request: the proxy's id if sane, else a new one. Returns it and the token to end with."""
    value = offered if offered and _SANE.match(offered) else uuid.uuid4().hex
    return value, _current.set(value)


def request_id_end(token: Token) -> None:
    _current.reset(token)
