"""The privacy app's periodic jobs, registered at start-up. Kept apart from the services they call:
importing those at start-up would import prometheus_client before `serve` has set its directory."""

from __future__ import annotations

import time

RESUME_SECONDS = 600
EXPIRE_SECONDS = 60
_resumed_at: float | None = None
_expired_at: float | None = None


def erasures_resume_job() -> dict[str, int]:
    """rights.erasures_resume at most every RESUME_SECONDS in this process (each pass re-checks what
    every waiting erasure waits on)."""
    global _resumed_at
    now = time.monotonic()
    if _resumed_at is not None and now - _resumed_at < RESUME_SECONDS:
        return {}
    _resumed_at = now
    from yunying.privacy.rights import erasures_resume

    return erasures_resume()


def approvals_expire_job() -> dict[str, int]:
    """exports.approvals_expire at most every EXPIRE_SECONDS in this process."""
    global _expired_at
    now = time.monotonic()
    if _expired_at is not None and now - _expired_at < EXPIRE_SECONDS:
        return {}
    _expired_at = now
    from yunying.privacy.exports import approvals_expire

    expired = approvals_expire()
    return {"expired": expired} if expired else {}
