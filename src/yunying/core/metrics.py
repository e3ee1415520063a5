"""GET /metrics: the Prometheus scrape. The metrics themselves belong to the apps that measure
(campaigns.metrics: sign-up admissions; notify.metrics: the outbox backlog, registered through
core.registry); core only serves them.

`yunying serve` runs several granian worker processes. It points PROMETHEUS_MULTIPROC_DIR at an
empty directory before they start, so each process writes its samples to files there and a scrape,
whichever process answers it, sums them all (prometheus_client's multiprocess mode). Without that
variable (tests, a single process) the samples live in this process.

Registered collectors are read at scrape time (the outbox gauges from the database), so every process
reports the same truth.
/metrics holds no personal data; it answers loopback callers, or others with YUNYING_METRICS_TOKEN.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from yunying.core.errors import CoreError, message_for
from yunying.core.registry import metrics_collectors

# `*_created` series double the output and mean nothing across worker restarts.
disable_created_metrics()

ALERTS = Counter(
    "yunying_alerts",
    "Security alerts raised (core.alerts), by code: a refusal burst from one key, a bulk reveal, ….",
    ["code"],
)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # sums every worker's files; a fresh registry per scrape
    else:
        registry.register(REGISTRY)
    for dotted_path in metrics_collectors().values():
        registry.register(import_string(dotted_path)())
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
