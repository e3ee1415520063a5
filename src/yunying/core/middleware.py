"""Refuse oversized bodies before anything reads them (S7)."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
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
            return JsonResponse(
                {
                    "type": f"https://yunying.dev/problems/{CoreError.BODY_TOO_LARGE}",
                    "title": _("The request body is too large."),
                    "status": 413,
                    "code": CoreError.BODY_TOO_LARGE,
                    "detail": _("The request body is too large."),
                    "limit_bytes": settings.MAX_REQUEST_BODY_BYTES,
                },
                status=413,
                content_type="application/problem+json",
                json_dumps_params={"ensure_ascii": False},
            )
        return self.get_response(request)
