"""`Idempotency-Key` on creating POSTs: every retry gets the first answer (DESIGN invariant).

The key is reserved before any work starts (Stripe's way): the first request inserts a `running` record
in a transaction of its own, then runs the work and stores its answer in the work's own transaction —
if the work commits, so does the answer; if it fails, the reservation is released and a retry runs the
work again. A retry that arrives while the first request is still working finds the reservation and
waits for its answer (polling, bounded: `core.busy` with Retry-After after WAIT_SECONDS), so concurrent
retries never race into the work and never see its refusals (`signup.duplicate` for their own first
attempt). A reservation whose process died is taken over once its lease runs out.

Bodies are compared as canonical JSON: the same request sent with other key order or spacing is the
same request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from yunying.core.errors import CoreError, DomainError, FieldError
from yunying.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
WAIT_SECONDS = 10.0  # how long a retry waits for the first request's answer
LEASE = timedelta(seconds=30)  # a running reservation older than this died with its process
RUNNING, DONE = IdempotencyRecord.RUNNING, IdempotencyRecord.DONE


def _owner(request) -> str:
    actor = request.auth
    return f"{actor.kind}:{actor.id}"


def canonical_body(body: bytes) -> bytes:
    """JSON bodies in one spelling (sorted keys, no spaces); anything else as sent."""
    try:
        return json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return body


def _request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(canonical_body(request.body))
    return digest.hexdigest()


def _jsonable(payload: Any) -> Any:
    """The body exactly as ninja renders it (its encoder, e.g. millisecond timestamps)."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump()
    return json.loads(json.dumps(payload, cls=NinjaJSONEncoder))


def _replay(status_code: int, body: Any) -> HttpResponse:
    """The stored answer as it was sent; marked so a client can tell a replay from a first answer."""
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status_code, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _find(owner: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(owner=owner, key=key).first()


def _reserve(owner: str, key: str, request_hash: str) -> tuple[IdempotencyRecord | None, bool]:
    """Insert a running record, committed at once so every retry sees it. Returns (record, True) when
    this request holds the key, or (someone else's record, False); (None, False) when the holder
    released it meanwhile (the caller tries again)."""
    try:
        with transaction.atomic(durable=True):
            record = IdempotencyRecord.objects.create(
                owner=owner,
                key=key,
                request_hash=request_hash,
                state=RUNNING,
                lease_token=secrets.token_hex(16),
                locked_until=timezone.now() + LEASE,
            )
        return record, True
    except IntegrityError:
        return _find(owner, key), False


def _take_over(record: IdempotencyRecord) -> bool:
    """Take a reservation whose lease ran out (its process died): one conditional UPDATE, so of two
    retries only one takes it."""
    token = secrets.token_hex(16)
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, state=RUNNING, lease_token=record.lease_token, locked_until__lt=timezone.now()
    ).update(lease_token=token, locked_until=timezone.now() + LEASE)
    if taken:
        record.lease_token = token
    return bool(taken)


def _hold_or_answer(owner: str, key: str, request_hash: str) -> tuple[IdempotencyRecord, bool]:
    """Reserve the key, or wait for the request holding it: (record, True) to run the work,
    (a finished record, False) to replay its answer.

    Raises: core.idempotency_key_reused, core.busy (the first request did not answer in time)."""
    deadline = time.monotonic() + WAIT_SECONDS
    pause = 0.01
    while True:
        record, mine = _reserve(owner, key, request_hash)
        if record is not None:
            if record.request_hash != request_hash:
                raise DomainError(CoreError.IDEMPOTENCY_KEY_REUSED)
            if mine or (record.state == RUNNING and _take_over(record)):
                return record, True
            if record.state == DONE:
                return record, False
        if time.monotonic() + pause > deadline:
            raise DomainError(CoreError.BUSY, retry_after=1)
        time.sleep(pause)  # the first request is still working: poll for its answer
        pause = min(pause * 2, 0.2)


def _release(record: IdempotencyRecord) -> None:
    """The work failed: free the key so a retry runs it again."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=RUNNING, lease_token=record.lease_token).delete()


def replay_if_answered(request) -> HttpResponse | None:
    """The stored answer when this request's Idempotency-Key already has one (same request), else
    None: for a gate in front of `idempotent` (a limit) that must not refuse a retry of work done."""
    key = request.headers.get(HEADER)
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    record = _find(_owner(request), key)
    if record is None or record.state != DONE or record.request_hash != _request_hash(request):
        return None
    return _replay(record.status_code, record.response_body)


def run_once(
    *, owner: str, key: str, fingerprint: str, work: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run `work` once per (owner, key) and keep its answer, (status code, JSON-able body): a retry with
    the same fingerprint gets that answer without running it, and `replayed` True. The answer is
    stored in the work's own transaction; work that raises frees the key for a retry.

    Raises: core.idempotency_key_reused (same key, other fingerprint), core.busy."""
    record, run = _hold_or_answer(owner, key, fingerprint)
    if not run:
        return record.status_code, record.response_body, True
    try:
        with transaction.atomic(durable=True):
            status_code, body = work()
            stored = IdempotencyRecord.objects.filter(
                pk=record.pk, state=RUNNING, lease_token=record.lease_token
            ).update(state=DONE, status_code=status_code, response_body=body)
            if not stored:  # our lease ran out and a retry took over: let it answer
                raise DomainError(CoreError.BUSY, retry_after=1)
        return status_code, body, False
    except BaseException:
        with contextlib.suppress(DatabaseError):  # the database is away: the lease frees the key
            _release(record)
        raise


def idempotent(func):
    """Wrap a ninja handler returning ninja.Status(status, payload)."""

    @wraps(func)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            # No record to write: the service's own transaction is the outermost one, and it stays
            # as short as the service makes it (on SQLite it holds the single write lock).
            return func(request, *args, **kwargs)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            usable = gettext_lazy("Use 1 to 255 printable ASCII characters, e.g. a UUID.")
            raise DomainError(
                CoreError.INVALID, message=usable, field=HEADER,
                errors=[FieldError(HEADER, CoreError.INVALID, usable)],
            )  # fmt: skip
        first = []

        def work():
            result = func(request, *args, **kwargs)
            first.append(result)
            return result.status_code, _jsonable(result.value)

        status_code, body, replayed = run_once(
            owner=_owner(request), key=key, fingerprint=_request_hash(request), work=work
        )
        if replayed:
            return _replay(status_code, body)
        return first[0]  # ninja renders it through the response schema, as without a key

    wrapper.idempotent = True  # tests/api/test_idempotency_coverage.py: every creating POST has it
    return wrapper
