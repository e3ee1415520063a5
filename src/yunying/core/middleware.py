"""Request middleware: refuse oversized bodies before anything reads them (S7); log one line per request."""

from __future__ import annotations

import io
import logging
import time

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.utils import translation

from yunying.core.errors import CoreError
from yunying.core.problems import problem
from yunying.core.requestid import HEADER as REQUEST_ID_HEADER
from yunying.core.requestid import request_id_begin, request_id_end


def body_limit(path: str) -> int:
    """The largest body a request to `path` may carry: MAX_REQUEST_BODY_BYTES, except the pages that
    take a file upload (settings.UPLOAD_PATHS: the console's import takes files of 200 MB; a 64 KiB
    cap refused any real one). Files stream to disk (Django's upload handlers), not into memory."""
    for prefix, limit in settings.UPLOAD_PATHS.items():
        if path == prefix:
            return limit
    return settings.MAX_REQUEST_BODY_BYTES


class RequestSizeLimitMiddleware:
    """Bodies over MAX_REQUEST_BODY_BYTES get 413 before any view parses them — by Content-Length,
    or, for a chunked body without one, by reading at most one byte past the limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        too_large = length > limit
        if (
            not too_large
            and not length
            and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            # Django wraps wsgi.input in a stream limited to CONTENT_LENGTH, which a chunked request
            # does not send: through it the body reads as empty (a valid sign-up was "Field
            # required", a 70 KB one slipped past this limit). The server has already de-chunked
            # wsgi.input (granian, gunicorn): read it directly, one byte past the limit at most.
            data = request.META["wsgi.input"].read(limit + 1)
            too_large = len(data) > limit
            if not too_large:
                # Django's cached body and a stream over it: views read it as if it had a length.
                request._body = data
                request._stream = LimitedStream(io.BytesIO(data), len(data))
                request.META["CONTENT_LENGTH"] = str(len(data))
        if too_large:
            # This runs before LocaleMiddleware: choose the caller's language here, as every other
            # problem does (Accept-Language).
            with translation.override(translation.get_language_from_request(request)):
                if not request.path.startswith("/api/"):  # a console or member form: a page
                    return _error_page(
                        request,
                        "413.html",
                        413,
                        limit_kib=limit // 1024,
                        upload=limit > settings.MAX_REQUEST_BODY_BYTES,
                    )
                return problem(CoreError.BODY_TOO_LARGE, 413, limit_bytes=limit)
        return self.get_response(request)


class ProxyClientAddressMiddleware:
    """Behind YUNYING_TRUSTED_PROXIES reverse proxies, the client is the address the outermost trusted
    proxy saw: the Nth entry from the right of X-Forwarded-For. Per-IP rate limits and logs then see
    real clients, and a client cannot forge its address by sending the header itself."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = settings.TRUSTED_PROXIES

    def __call__(self, request):
        if self.trusted:
            hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
            if len(hops) >= self.trusted:
                request.META["REMOTE_ADDR"] = hops[-self.trusted]
        return self.get_response(request)


class ApiMethodNotAllowedMiddleware:
    """A wrong HTTP method under /api/ is a problem+json 405 (the router answers it in HTML); on a page
    it is the HTML error page instead of an empty body.

    HEAD is GET without the body (RFC 9110): the API's routes declare GET only, so HEAD runs as GET
    — authentication, permissions, statuses and headers alike — and the body is dropped."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "HEAD" and request.path.startswith("/api/"):
            request.method = "GET"
            response = self._answer(request)
            request.method = "HEAD"
            if not response.streaming:
                response["Content-Length"] = str(len(response.content))
                response.content = b""
            else:
                response.streaming_content = []
            return response
        return self._answer(request)

    def _answer(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and request.path.startswith("/api/"):
            allow = response.get("Allow", "")
            response = problem(CoreError.METHOD_NOT_ALLOWED, 405, allowed=allow)
            response["Allow"] = allow
        elif response.status_code == 405 and not response.content:
            # A page's form address opened as a link (require_POST answers an empty body): say so.
            allow = response.get("Allow", "")
            with translation.override(translation.get_language_from_request(request)):
                response = _error_page(request, "405.html", 405)
            response["Allow"] = allow
        return response


def _error_page(request, template: str, status: int, **context):
    from django.template.response import SimpleTemplateResponse

    response = SimpleTemplateResponse(template, context, status=status)
    return response.render()


logger = logging.getLogger(__name__)
request_logger = logging.getLogger("yunying.request")

# Probes and scrapes arrive every few seconds: logged at DEBUG so they do not drown the traffic.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestLogMiddleware:
    """Log each request at INFO: method, path, status, duration_ms, and its id (X-Request-ID, kept
    from the proxy when sane, else made; echoed in the response, stored on access and audit rows).

    Never the query string, the body or any header: they carry personal data (?phone=…) and
    credentials (Authorization). A streamed response (export) is timed until its first byte."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id, token = request_id_begin(request.headers.get(REQUEST_ID_HEADER))
        try:
            response = self.get_response(request)
        finally:
            request_id_end(token)
        response[REQUEST_ID_HEADER] = request.request_id
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
                "request_id": request.request_id,
            },
        )
        return response


class DatabaseBusyPageMiddleware:
    """On the pages (the API has its own handler), a database that is busy or away — a lock wait
    that ran out, a connection the server dropped — is a 503 page with Retry-After, not a 500:
    nothing was done, and trying again shortly is right (the faults review saw 500s on the console
    when PostgreSQL connections were killed)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from yunying.core.errors import database_busy

        if request.path.startswith("/api/") or not database_busy(exception):
            return None
        logger.warning("database busy on %s %s: %s", request.method, request.path, exception)
        response = _error_page(request, "503.html", 503)
        response["Retry-After"] = "1"
        return response
