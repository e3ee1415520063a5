"""Hash chains over the operator audit trail and the personal-data access log (S3, S5).

Each table is its own chain. A row stores `prev_hash` (its predecessor's `row_hash`, "" for the
first) and `row_hash` = HMAC-SHA256(prev_hash | canonical content), the content being the chained
fields as JSON with sorted keys and instants in ISO UTC. The HMAC key is derived from
settings.BLIND_INDEX_KEY (kept outside the database and its backups, core.crypto) under a context of
its own per chain, so someone holding only the database cannot re-forge the chain after an edit.

What verification detects: an edited row (its hash no longer matches its content), a deleted row
(its successor's prev_hash no longer matches its new predecessor), and, given a head `<count>:<hash>`
recorded earlier elsewhere (the hourly log line, `yunying audit verify`), deleted tail rows.

Appends are serialised so the chain is linear and id order is chain order: SQLite has one writer
(BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped advisory lock per chain before reading the
predecessor, held to commit. Its wait is bounded by the connection's lock_timeout and becomes
503 core.busy (core.errors.database_busy).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from yunying.core.crypto import keyed_digest


@dataclass(frozen=True)
class Chain:
    name: str  # "audit", "access": the name `verify --expect-head` takes
    table: str
    fields: tuple[str, ...]  # the content hashed; a field added later must be added here knowingly
    lock_key: int  # pg_advisory_xact_lock key

    @property
    def context(self) -> str:
        return f"chain.{self.name}"


AUDIT_CHAIN = Chain(
    name="audit",
    table="core_auditentry",
    fields=(
        "at",
        "actor_kind",
        "actor_id",
        "actor_label",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
        "reason",
        "request_id",
    ),
    lock_key=7_262_617_101,
)
ACCESS_CHAIN = Chain(
    name="access",
    table="core_personaldataaccess",
    fields=(
        "member_id",
        "at",
        "actor_kind",
        "actor_id",
        "actor_label",
        "actor_role",
        "fields",
        "purpose",
        "request_id",
    ),
    lock_key=7_262_617_102,
)
CHAINS = {chain.name: chain for chain in (AUDIT_CHAIN, ACCESS_CHAIN)}
HASH_FIELDS = ("id", "prev_hash", "row_hash")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict | list | tuple):
        # JSON columns: hash what the database gives back (dates, decimals as the encoder writes them).
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return value


def canonical(chain: Chain, row: Mapping[str, Any]) -> bytes:
    content = {field: _plain(row[field]) for field in chain.fields}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(chain: Chain, prev_hash: str, row: Mapping[str, Any]) -> str:
    return keyed_digest(prev_hash.encode() + b"\x00" + canonical(chain, row), context=chain.context)


def _values(obj: Any, chain: Chain) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in chain.fields}


def chain_append(chain: Chain, model: type, objs: Sequence[Any]) -> None:
    """Set prev_hash and row_hash on unsaved rows of `model`, in order, linked to the chain's head.
    Must run in the transaction that inserts them, just before the insert: on PostgreSQL it takes
    the chain's advisory lock, held to commit, so no other append interleaves."""
    if not objs:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("chain_append runs inside the transaction that inserts the rows")
    if connection.vendor == "postgresql":
        # Every chain's lock up to this one's, in key order: a transaction that appends to both
        # (a reveal audited and logged, in either order) then never waits against another in the
        # opposite order — a deadlock the chain bench found. Re-taking a held lock is free.
        with connection.cursor() as cursor:
            for key in sorted(c.lock_key for c in CHAINS.values() if c.lock_key <= chain.lock_key):
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    prev = model.objects.order_by("-id").values_list("row_hash", flat=True).first() or ""
    for obj in objs:
        obj.prev_hash = prev
        obj.row_hash = prev = row_hash(chain, prev, _values(obj, chain))


@dataclass
class Verdict:
    chain: str
    count: int = 0
    head: str = ""
    broken_id: int | None = None
    problem: str = ""  # "edited", "deleted before", "tail deleted"

    @property
    def head_text(self) -> str:
        return f"{self.count}:{self.head}"

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.problem


def _rows(model: type, chain: Chain, batch: int) -> Iterator[dict[str, Any]]:
    last = 0
    columns = ("id", "prev_hash", "row_hash", *chain.fields)
    while True:
        rows = list(model.objects.filter(id__gt=last).order_by("id").values(*columns)[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


def chain_verify(chain: Chain, model: type, *, expect_head: str | None = None, batch: int = 2000) -> Verdict:
    """Walk the chain in id order; stop at the first broken row. `expect_head` "<count>:<hash>" (a
    head recorded earlier) must still be on the chain: row number `count` carries that hash."""
    verdict = Verdict(chain=chain.name)
    expected_count, expected_hash = _parse_head(expect_head)
    prev = ""
    for row in _rows(model, chain, batch):
        if row["prev_hash"] != prev:
            verdict.broken_id, verdict.problem = row["id"], "deleted before"
            return verdict
        if row["row_hash"] != row_hash(chain, row["prev_hash"], row):
            verdict.broken_id, verdict.problem = row["id"], "edited"
            return verdict
        verdict.count += 1
        prev = verdict.head = row["row_hash"]
        if verdict.count == expected_count and prev != expected_hash:
            verdict.broken_id, verdict.problem = row["id"], "differs from the expected head"
            return verdict
    if expected_count is not None and verdict.count < expected_count:
        verdict.problem = "tail deleted"
    return verdict


def _parse_head(text: str | None) -> tuple[int | None, str]:
    if not text:
        return None, ""
    count, sep, digest = text.partition(":")
    if not sep or not count.isdigit():
        raise ValueError(f"a head looks like <count>:<hash>, not {text!r}")
    return int(count), digest


def chain_head(chain: Chain, model: type) -> str:
    """The chain's head as "<count>:<hash>", read without walking (the hourly anchor)."""
    count = model.objects.count()
    digest = model.objects.order_by("-id").values_list("row_hash", flat=True).first() or ""
    return f"{count}:{digest}"


def chain_model(chain: Chain) -> type:
    from yunying.core.models import AuditEntry, PersonalDataAccess

    return {AUDIT_CHAIN.name: AuditEntry, ACCESS_CHAIN.name: PersonalDataAccess}[chain.name]


ANCHOR_EVERY_SECONDS = 3600
logger = logging.getLogger("yunying.audit")


def chain_anchor_job() -> dict[str, int]:
    """Log both chains' heads to the structured log, at most hourly: the external anchor that
    `yunying audit verify --expect-head` checks a later chain against (a deleted tail)."""
    from django.core.cache import cache

    # One line an hour across the workers sharing the cache (all of them with Redis).
    if not cache.add("core.chain_anchor", 1, timeout=ANCHOR_EVERY_SECONDS):
        return {}
    heads = {name: chain_head(chain, chain_model(chain)) for name, chain in CHAINS.items()}
    logger.info(
        "audit chain heads: %s",
        " ".join(f"{name}={head}" for name, head in heads.items()),
        extra={"chain_heads": heads},
    )
    return {"chain_heads_logged": 1}


def chain_verify_tail(chain: Chain, model: type, *, rows: int = 500) -> Verdict:
    """Verify only the newest `rows` rows (cheap enough for a page view): each one's hash, and each
    link between them. `count` is the number of the last row verified (the chain's length); the full
    walk is `yunying audit verify`."""
    columns = ("id", "prev_hash", "row_hash", *chain.fields)
    newest = list(model.objects.order_by("-id").values(*columns)[:rows])[::-1]
    verdict = Verdict(chain=chain.name, count=model.objects.count())
    for index, row in enumerate(newest):
        if index and row["prev_hash"] != newest[index - 1]["row_hash"]:
            verdict.broken_id, verdict.problem = row["id"], "deleted before"
        elif row["row_hash"] != row_hash(chain, row["prev_hash"], row):
            verdict.broken_id, verdict.problem = row["id"], "edited"
        if verdict.broken_id is not None:
            return verdict
    verdict.head = newest[-1]["row_hash"] if newest else ""
    return verdict
