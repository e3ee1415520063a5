"""`Idempotency-Key` on creating POSTs: a retry returns the first answer (DESIGN invariant).

The decorated handler runs inside the outermost, durable transaction together with the record of its
answer: if the work commits, so does the answer; if it does not, there is nothing to replay and a
retry runs the work again. Two requests racing with one key: the loser either finds the record when
its own transaction starts (SQLite serialises writers) or fails on the work's own unique constraint or
on the record's, then finds the winner's committed record and replays it.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from yunying.core.errors import CoreError, DomainError
from yunying.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _owner(request) -> str:
    actor = request.auth
    return f"{actor.kind}:{actor.id}"


def _request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _jsonable(payload: Any) -> Any:
    """The body exactly as ninja renders it (its encoder, e.g. millisecond timestamps)."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump()
    return json.loads(json.dumps(payload, cls=NinjaJSONEncoder))


def _replay(record: IdempotencyRecord, request_hash: str) -> HttpResponse:
    """The stored answer as it was sent; marked so a client can tell a replay from a first answer."""
    if record.request_hash != request_hash:
        raise DomainError(CoreError.IDEMPOTENCY_KEY_REUSED)
    response = HttpResponse(
        json.dumps(record.response_body, ensure_ascii=False),
        status=record.status_code,
        content_type="application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _find(owner: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(owner=owner, key=key).first()


def idempotent(func):
    """Wrap a ninja handler returning ninja.Status(status, payload)."""

    @wraps(func)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            # No record to write: the service's own transaction is the outermost one, and it stays
            # as short as the service makes it (on SQLite it holds the single write lock).
            return func(request, *args, **kwargs)
        if not key or len(key) > MAX_KEY_LENGTH:
            raise DomainError(CoreError.INVALID, field=HEADER)
        owner, request_hash = _owner(request), _request_hash(request)
        try:
            with transaction.atomic(durable=True):
                existing = _find(owner, key)
                if existing is not None:
                    return _replay(existing, request_hash)
                result = func(request, *args, **kwargs)
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        owner=owner,
                        key=key,
                        request_hash=request_hash,
                        status_code=result.status_code,
                        response_body=_jsonable(result.value),
                    )
                return result  # ninja renders it through the response schema, as without a key
        except (DomainError, IntegrityError):
            winner = _find(owner, key)
            if winner is None:
                raise
            return _replay(winner, request_hash)

    return wrapper
