"""Forms that create something are submitted once: a double click, a second tab's resubmit or a
browser retry of the same rendered form creates one draft, not two (the new-user review made two).

The form carries a random token (`once_field`); the first submit runs the work and keeps its answer
under that token (core.idempotency, the API's Idempotency-Key store), every later submit of the same
form gets that answer. A submit that fails (a validation error) frees the token for the corrected one."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from django.http import HttpRequest

from yunying.core.idempotency import run_once

FIELD = "once"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def once_token(request: HttpRequest) -> str:
    """The token for the form being rendered: the submitted one when it comes back with errors."""
    posted = request.POST.get(FIELD, "") if request.method == "POST" else ""
    return posted if _TOKEN.match(posted) else secrets.token_urlsafe(16)


def submit_once(request: HttpRequest, work: Callable[[], int]) -> int:
    """Run `work` (it creates something and returns its id) once per form token; returns that id."""
    token = request.POST.get(FIELD, "")
    if not _TOKEN.match(token):  # a form from before tokens, or a hand-made post: no protection to give
        return work()
    _, body, _ = run_once(
        owner=f"operator:{request.user.pk}",
        key=f"console:{token}",
        fingerprint=request.path,
        work=lambda: (201, {"id": work()}),
    )
    return body["id"]
