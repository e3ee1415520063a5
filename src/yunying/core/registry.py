"""What the domain apps plug into core's machinery, each from its AppConfig.ready().

Core imports no domain app (DESIGN "Layout", checked by tests/test_architecture.py): `yunying worker`
runs the periodic jobs registered here, and GET /metrics adds the collectors registered here. Registering twice under one
name replaces the entry (ready() may run again in tests).

Registration happens in ready(), before `serve` sets PROMETHEUS_MULTIPROC_DIR: this module imports
nothing heavy, and collectors are named by dotted path and imported only at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

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


@dataclass(frozen=True)
class PersonalDataHolding:
    """One kind of personal data a domain app holds about a member: a line of the member's collection
    list (收集清单) and sharing list (共享清单), and how to export it and erase it (S3, S4).

    `export(member_id)` returns the member's data of this kind in clear, JSON-serialisable (the
    self-service export). `erase(member_id)` erases it or anonymises it irreversibly, keeping counts,
    amounts and statistics right, and returns counts of what it changed; it runs inside the erasure's
    transaction. Either is None when the kind has nothing to export or erase (a keyed hash only).
    `lock(member_id)` locks, first thing in the erasure's transaction and before the member's row, the
    rows of this kind that the app's own services lock before the member (a sign-up being confirmed
    earns points on the member): the erasure then takes locks in their order, not against it.
    """

    key: str  # "members.profile", "campaigns.signups", …: stable, used in exports and requests
    label: str | Promise  # what it is, as a member reads it
    purpose: str | Promise  # why it is held
    retention: str | Promise  # how long it is kept
    shared_with: tuple[str | Promise, ...] = ()  # the third parties it goes to, if any
    export: Callable[[int], Any] | None = None
    erase: Callable[[int], dict[str, int]] | None = None
    lock: Callable[[int], None] | None = None


_personal_data: dict[str, PersonalDataHolding] = {}


def personal_data_register(holding: PersonalDataHolding) -> None:
    """Declare a kind of personal data (from the holding app's ready())."""
    _personal_data[holding.key] = holding


def personal_data_holdings() -> list[PersonalDataHolding]:
    """Every declared kind, in registration order (the apps' order in INSTALLED_APPS)."""
    return list(_personal_data.values())


@dataclass(frozen=True)
class SealedColumn:
    """One database column holding values sealed with core.crypto (S1): the key-rotation job
    re-encrypts it, `yunying pii-keys status` counts its key ids, the deployment check looks for
    key ids missing from the ring. `row_token(row)` is the token its ciphertexts are bound to (the
    same the owning app passes to crypto.encrypt); `related` is what to select_related for it."""

    model: str  # "app_label.ModelName"
    column: str
    context: str  # crypto's context, e.g. "member.phone"
    row_token: Callable[[Any], str]
    related: tuple[str, ...] = ()
    name: str | Promise = ""  # what it holds, in words (会员手机号): the key rotation page shows it

    @property
    def label(self) -> str:
        return f"{self.model}.{self.column}"


_sealed_columns: dict[str, SealedColumn] = {}


def sealed_column_register(column: SealedColumn) -> None:
    """Declare an encrypted column (the owning app, from ready()): every column crypto.encrypt
    writes must be declared, or key rotation would leave it under a retired key."""
    _sealed_columns[column.label] = column


def sealed_columns() -> list[SealedColumn]:
    return [_sealed_columns[label] for label in sorted(_sealed_columns)]
