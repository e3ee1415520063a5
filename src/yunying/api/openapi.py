"""Every refusal an operation can answer, declared in the OpenAPI document from one rule.

Handlers declare only their success; the problems (application/problem+json, api/errors.py) follow
from what an operation is: every one authenticates, checks a permission, is rate limited, validates
its parameters and may find the database busy; one with path ids, or looking up by its body, can miss
(404); one with a body can get a body over the limit (413) or conflict with the current state (409)."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; branch on `code`. Extra members carry the facts of the refusal.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}

DESCRIPTIONS = {
    400: "Malformed request (body not JSON, Host not allowed)",
    401: "No valid API key",
    403: "The key's role lacks the permission",
    404: "No such object",
    405: "Method not allowed",
    409: "Conflicts with the object's current state",
    413: "Body too large",
    422: "Invalid input; every failing field in `errors`",
    428: "Risk control asks for extra verification: pass the challenge, then retry with its token",
    429: "Rate limited; see Retry-After",
    500: "Internal error (logged)",
    503: "Busy; retry (with the same Idempotency-Key)",
}


def problem_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The refusals of one OpenAPI operation (see the module docstring)."""
    statuses = {400, 401, 403, 422, 429, 500, 503}
    has_body = "requestBody" in operation or method in ("post", "put", "patch")
    if has_body or any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.add(404)  # the object a path names, or the one a body looks up (members/lookup)
    if has_body:
        statuses |= {409, 413, 428}  # 428: an entry point risk control judges (sign-up, claim, …)
    if method == "delete":
        statuses.add(409)  # the object's state forbids it (a published campaign, one with sign-ups)
    return statuses


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(problem_statuses(method, operation)):
                responses[status] = {"description": DESCRIPTIONS[status], "content": problem}
    return schema


class YunyingAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        return declare_problems(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))
