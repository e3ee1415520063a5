"""Sign-up admission metrics: outcomes and latency (served by GET /metrics, see core.metrics).

Imported by the API handler, after `yunying serve` has set PROMETHEUS_MULTIPROC_DIR, so in
production each worker process writes its samples where a scrape sums them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

from yunying.core.errors import DomainError

SIGNUPS = Counter(
    "yunying_signups",
    "Sign-up attempts through the API by outcome (accepted, refused, error) and code: the sign-up's "
    "status when accepted (confirmed, waitlisted, pending), the error code when refused (campaign.full).",
    ["outcome", "code"],
)
ADMISSION_SECONDS = Histogram(
    "yunying_admission_seconds",
    "Time to admit or refuse one sign-up (rate limit, checks, seat, rows), by outcome.",
    ["outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
)


def admission_observe(*, outcome: str, code: str, seconds: float) -> None:
    """Count one sign-up attempt and record how long it took."""
    SIGNUPS.labels(outcome=outcome, code=code).inc()
    ADMISSION_SECONDS.labels(outcome=outcome).observe(seconds)


class AdmissionTimer:
    """Set `code` to the new sign-up's status before the block ends."""

    __slots__ = ("code",)

    def __init__(self) -> None:
        self.code = "unknown"


@contextmanager
def admission_timer() -> Iterator[AdmissionTimer]:
    """Time the block: accepted with `timer.code`, refused with a DomainError's code (re-raised),
    error for anything else (re-raised)."""
    timer = AdmissionTimer()
    started = time.perf_counter()
    try:
        yield timer
    except DomainError as refusal:
        admission_observe(outcome="refused", code=refusal.code, seconds=time.perf_counter() - started)
        raise
    except Exception:
        admission_observe(outcome="error", code="internal", seconds=time.perf_counter() - started)
        raise
    admission_observe(outcome="accepted", code=timer.code, seconds=time.perf_counter() - started)
