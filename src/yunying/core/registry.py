"""What the domain apps plug into core's machinery, each from its AppConfig.ready().

Core imports no domain app (DESIGN "Layout", checked by tests/test_architecture.py): `yunying worker`
runs the periodic jobs registered here, and GET /metrics adds the collectors registered here. Registering twice under one
name replaces the entry (ready() may run again in tests).

Registration happens in ready(), before `serve` sets PROMETHEUS_MULTIPROC_DIR: this module imports
nothing heavy, and collectors are named by dotted path and imported only at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable

PeriodicJob = Callable[[], dict[str, int]]

_periodic_jobs: dict[str, PeriodicJob] = {}
_metrics_collectors: dict[str, str] = {}


def periodic_job_register(name: str, job: PeriodicJob) -> None:
    """Run `job()` on every worker pass. It returns counts of what it did ({} when idle) for the
    worker's log; it is idempotent and safe to run in several workers at once."""
    _periodic_jobs[name] = job


def periodic_jobs() -> dict[str, PeriodicJob]:
    return dict(_periodic_jobs)


def metrics_collector_register(name: str, dotted_path: str) -> None:
    """Add a prometheus_client collector (a class taking no arguments) to GET /metrics."""
    _metrics_collectors[name] = dotted_path


def metrics_collectors() -> dict[str, str]:
    return dict(_metrics_collectors)


ConsentCheck = Callable[[set[int], str], set[int]]
_consent_check: list[ConsentCheck] = []


def consent_check_register(check: ConsentCheck) -> None:
    """`check(member_ids, purpose)` returns the members who may receive a message of `purpose` now
    (N3). members registers it; the outbox calls it when a message goes out."""
    _consent_check[:] = [check]


def consent_allowed(member_ids: set[int], purpose: str) -> set[int]:
    """Who may receive a message of `purpose` now. Without a registered check, nobody: a marketing
    message is never sent on an assumption of consent. (Service messages never ask.)"""
    if not _consent_check:
        return set()
    return _consent_check[0](set(member_ids), purpose)
