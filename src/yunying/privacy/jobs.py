"""The privacy app's periodic jobs, registered at start-up. Kept apart from the services they call:
importing those at start-up would import prometheus_client before `serve` has set its directory."""

from __future__ import annotations

import time

RESUME_SECONDS = 600
_resumed_at: float | None = None


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
