"""The one error type of the domain: a stable dotted code, a translated message, and data.

Services raise DomainError; the API maps codes to HTTP statuses in one table (api/errors.py). Codes
are never renamed: integrators branch on them. Each app lists its codes in its own errors.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class CoreError(StrEnum):
    INTERNAL = "core.internal"
    BUSY = "core.busy"
    NOT_FOUND = "core.not_found"
    PERMISSION_DENIED = "core.permission_denied"
    UNAUTHENTICATED = "core.unauthenticated"
    RATE_LIMITED = "core.rate_limited"
    INVALID = "core.invalid"
    MALFORMED_JSON = "core.malformed_json"
    BAD_REQUEST = "core.bad_request"
    HOST_NOT_ALLOWED = "core.host_not_allowed"
    BODY_TOO_LARGE = "core.body_too_large"
    METHOD_NOT_ALLOWED = "core.method_not_allowed"
    IDEMPOTENCY_KEY_REUSED = "core.idempotency_key_reused"


# code -> message; apps add theirs with register_messages() at import time.
_MESSAGES: dict[str, Promise] = {
    CoreError.INTERNAL: _("An internal error occurred; it has been logged."),
    CoreError.BUSY: _("The system is busy; please try again."),
    CoreError.NOT_FOUND: _("Not found."),
    CoreError.PERMISSION_DENIED: _("You do not have permission to do this."),
    CoreError.UNAUTHENTICATED: _("Authentication required: send a valid API key."),
    CoreError.RATE_LIMITED: _("Too many requests; please slow down."),
    CoreError.INVALID: _("The request is not valid."),
    CoreError.MALFORMED_JSON: _("The request body is not valid JSON."),
    CoreError.BAD_REQUEST: _("The request is not valid HTTP for this server."),
    CoreError.HOST_NOT_ALLOWED: _("This server does not answer to that host name."),
    CoreError.BODY_TOO_LARGE: _("The request body is too large."),
    CoreError.METHOD_NOT_ALLOWED: _("This address does not take that method."),
    CoreError.IDEMPOTENCY_KEY_REUSED: _("This Idempotency-Key was already used for a different request."),
}


def register_messages(messages: dict[str, Promise]) -> None:
    _MESSAGES.update(messages)


def message_for(code: str) -> str:
    return str(_MESSAGES.get(code, code))


class DomainError(Exception):
    """A refusal the caller can act on. `data` travels to the client as extra problem fields."""

    def __init__(self, code: str, message: str | Promise | None = None, **data: Any) -> None:
        self.code = str(code)
        self._message = message
        self.data = data
        super().__init__(self.code)

    @property
    def message(self) -> str:
        return str(self._message) if self._message is not None else message_for(self.code)

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.data!r})"


class FieldError(dict):
    """One failing field: {"field": "answers.q1", "code": "form.required", "message": "..."}."""

    def __init__(self, field: str, code: str, message: str | Promise | None = None, **data: Any) -> None:
        super().__init__(field=field, code=str(code), message=str(message or message_for(code)), **data)


class ValidationFailed(DomainError):
    """Input that fails validation; carries every failing field, not only the first."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(CoreError.INVALID, errors=list(errors))
        self.errors = list(errors)


# SQLSTATEs of a wait that ran out or lost: lock_not_available (lock_timeout), deadlock_detected,
# serialization_failure. The request did nothing and may be retried.
_BUSY_SQLSTATES = frozenset({"55P03", "40P01", "40001"})


# SQLSTATE classes of a lost or refused connection: connection exception, operator intervention
# (the server restarting or shutting down). Nothing can be known to be done; retrying is right.
_GONE_CLASSES = ("08", "57P")


def _psycopg_operational(cause: BaseException | None) -> bool:
    try:
        import psycopg
    except ImportError:  # SQLite-only installs
        return False
    return isinstance(cause, psycopg.OperationalError)


def database_busy(exc: BaseException) -> bool:
    """Whether a database error means "busy or away, try again" (core.busy, 503) rather than a fault."""
    from django.db import DatabaseError, InterfaceError

    if not isinstance(exc, DatabaseError):
        return False
    if isinstance(exc, InterfaceError):  # "connection already closed"
        return True
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in _BUSY_SQLSTATES or (sqlstate or "").startswith(_GONE_CLASSES):
        return True
    if (
        sqlstate is None
        and type(cause).__module__.startswith("psycopg")
        and "OperationalError" in type(cause).__name__
    ):
        return True  # psycopg: the connection was lost mid-request (no SQLSTATE comes back)
    return "database is locked" in str(exc)  # SQLite's busy timeout, and our writer queue's
