"""Liveness (/healthz) and readiness (/readyz) for load balancers and orchestrators.

/healthz says the process answers and touches nothing else: a database outage must not get every
app process restarted. /readyz checks what a request needs (the database, Redis when configured) so
a balancer stops sending traffic to a process that cannot serve it. Both are public, so a failure
names only the check and the exception type; the details (hosts, users) go to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 1


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def _run(name: str, check: Callable[[], None]) -> str | None:
    """Run one check; return None when it passes, else a short error naming no host or secret."""
    try:
        check()
    except Exception as exc:
        logger.warning("readiness check %s failed", name, exc_info=True)
        return type(exc).__name__
    return None


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, check, enabled in (
        ("database", _database, True),
        ("redis", _redis, bool(settings.REDIS_URL)),
    ):
        if not enabled:
            checks[name] = "disabled"
        elif (error := _run(name, check)) is None:
            checks[name] = "ok"
        else:
            checks[name], errors[name] = "error", error
    if errors:
        return JsonResponse({"status": "unavailable", "checks": checks, "errors": errors}, status=503)
    return JsonResponse({"status": "ready", "checks": checks})
