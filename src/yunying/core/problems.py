"""application/problem+json (RFC 9457): the one rendering of every refusal, for the API's exception
handlers and for the middleware that answers before any view runs."""

from __future__ import annotations

import json

from django.http import HttpResponse

from yunying.core.errors import CoreError, message_for


def problem(code: str, status: int, /, *, detail: str | None = None, **data) -> HttpResponse:
    title = message_for(code)
    body = {
        "type": f"https://yunying.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    # The problem members are reserved (RFC 9457): a domain fact with one of their names (the
    # entity's `status` in *.invalid_transition, campaign.not_open, …; hence `code` and `status`
    # are positional-only) goes out as `current_<name>` instead of replacing the member.
    body |= {(f"current_{k}" if k in body else k): v for k, v in data.items()}
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        content_type="application/problem+json",
    )
    if code in (CoreError.RATE_LIMITED, CoreError.BUSY):
        response["Retry-After"] = str(data.get("retry_after", 1))
    return response
