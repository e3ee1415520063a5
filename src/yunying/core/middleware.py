"""Request middleware: refuse oversized bodies before anything reads them (S7); log one line per request."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from yunying.core.errors import CoreError


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BODY_BYTES:
            # This runs before LocaleMiddleware: choose the caller's language here, as every other
            # problem does (Accept-Language).
            with translation.override(translation.get_language_from_request(request)):
                title = _("The request body is too large.")
            return JsonResponse(
                {
                    "type": f"https://yunying.dev/problems/{CoreError.BODY_TOO_LARGE}",
                    "title": title,
                    "status": 413,
                    "code": CoreError.BODY_TOO_LARGE,
                    "detail": title,
                    "limit_bytes": settings.MAX_REQUEST_BODY_BYTES,
                },
                status=413,
                content_type="application/problem+json",
                json_dumps_params={"ensure_ascii": False},
            )
        return self.get_response(request)


request_logger = logging.getLogger("yunying.request")

# Probes and scrapes arrive every few seconds: logged at DEBUG so they do not drown the traffic.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestLogMiddleware:
    """Log each request at INFO: method, path, status, duration_ms.

    Never the query string, the body or any header: they carry personal data (?phone=…) and
    credentials (Authorization). A streamed response (export) is timed until its first byte."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request_logger.log(
            logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response
