"""Every operation that reads a JSON body answers a body nested past the parser's depth as bad input,
never a 500: json.loads raises RecursionError, not ValueError, for '[' × 30,000 (it fits in the 64 KiB
body limit), and a handler that caught only ValueError failed with it."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

DEEP = "[" * 30_000 + "]" * 30_000


def _write_operations(api) -> list[tuple[str, str]]:
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    found = []
    for path, operations in paths.items():
        for method in ("post", "put", "patch"):
            if method in operations:
                found.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return found


def test_no_operation_answers_a_deeply_nested_body_with_500(api):
    operations = _write_operations(api)
    assert len(operations) > 20  # the whole API, not a few
    failed = []
    for method, path in operations:
        response = getattr(api, method)(
            path, DEEP, content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"deep-{path}"
        )
        if response.status_code >= 500:
            failed.append((method, path, response.status_code))
    assert failed == []
