"""Prometheus metrics: sign-up admission outcomes and latency, and the outbox backlog (GET /metrics).

`yunying serve` runs several granian worker processes. It points PROMETHEUS_MULTIPROC_DIR at an
empty directory before they start, so each process writes its samples to files there and a scrape,
whichever process answers it, sums them all (prometheus_client's multiprocess mode). Without that
variable (tests, a single process) the samples live in this process.

The outbox gauges are read from the database at scrape time, so every process reports the same truth.
/metrics holds no personal data; it answers loopback callers, or others with YUNYING_METRICS_TOKEN.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from yunying.core.errors import CoreError, DomainError, message_for

# `*_created` series double the output and mean nothing across worker restarts.
disable_created_metrics()

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
ALERTS = Counter(
    "yunying_alerts",
    "Security alerts raised (core.alerts), by code: a refusal burst from one key, a bulk reveal, ….",
    ["code"],
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


class OutboxCollector:
    """Outbox gauges computed from the database at each scrape (one query, on the status index).

    pending = due now and waiting for the worker; scheduled = pending with a later due time (a
    reminder, a retry after backoff); the oldest pending age is how long the oldest due message has
    waited past its due time — it grows when no worker runs. Lives in core until notify exposes its
    own collector; reaches the model through the app registry, not an import."""

    def collect(self):
        model = apps.get_model("notify", "OutboxMessage")
        now = timezone.now()
        due = Q(status="pending", due_at__lte=now)
        row = model.objects.filter(status__in=["pending", "sending", "failed"]).aggregate(
            pending=Count("pk", filter=due),
            scheduled=Count("pk", filter=Q(status="pending", due_at__gt=now)),
            sending=Count("pk", filter=Q(status="sending")),
            failed=Count("pk", filter=Q(status="failed")),
            oldest_due_at=Min("due_at", filter=due),
        )
        backlog = GaugeMetricFamily(
            "yunying_outbox_backlog",
            "Outbox messages not delivered yet, by status (failed = gave up after the last attempt).",
            labels=["status"],
        )
        for status in ("pending", "scheduled", "sending", "failed"):
            backlog.add_metric([status], row[status])
        yield backlog
        oldest = row["oldest_due_at"]
        yield GaugeMetricFamily(
            "yunying_outbox_oldest_pending_age_seconds",
            "Seconds the oldest due, undelivered outbox message has waited since its due time (0: none).",
            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # sums every worker's files; a fresh registry per scrape
    else:
        registry.register(REGISTRY)
    registry.register(OutboxCollector())
    return registry


# Set by reverse proxies: a request carrying one came from elsewhere, even if REMOTE_ADDR is loopback.
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _from_loopback(request) -> bool:
    if any(header in request.META for header in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _has_token(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


@never_cache
@require_GET
def metrics_view(request):
    if not (_from_loopback(request) or _has_token(request)):
        code = CoreError.PERMISSION_DENIED
        return JsonResponse(
            {
                "type": f"https://yunying.dev/problems/{code}",
                "title": message_for(code),
                "status": 403,
                "detail": "GET /metrics from loopback, or send Authorization: Bearer <YUNYING_METRICS_TOKEN>.",
                "code": code,
            },
            status=403,
            content_type="application/problem+json",
            json_dumps_params={"ensure_ascii": False},
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
