"""API keys: create, authenticate, revoke. Format: yy_<prefix>_<secret>."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from yunying.core.audit import audit_record
from yunying.core.models import ApiKey
from yunying.core.permissions import SYSTEM, Actor, Role


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def apikey_create(*, name: str, role: Role, actor: Actor = SYSTEM, owner: str = "") -> tuple[ApiKey, str]:
    """Create a key (audited); return it with the only copy of its plaintext token.

    `owner`: the console user who holds the key. A key a console operator creates is theirs unless
    another owner is named: the two-person rule (privacy.exports) tells people apart by it, and an
    unowned key made in the console let one operator request an export with it and approve it."""
    role = Role(role)
    owner = owner.strip() or (actor.label if actor.kind == "user" else "")
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name, role=role, prefix=prefix, secret_hash=_hash(secret), owner=owner.strip()
        )
        audit_record(
            actor=actor, action="apikey.create", object_type="apikey", object_id=key.pk,
            after={"name": name, "role": str(role), "prefix": prefix, "owner": owner.strip()},
        )  # fmt: skip
    return key, f"yy_{prefix}_{secret}"


# token digest -> (actor, monotonic expiry). Saves a query on every request of a busy key; the price
# is that a key revoked in another process keeps working there for up to CACHE_SECONDS.
CACHE_SECONDS = 10.0
_cache: dict[str, tuple[Actor, float]] = {}


def apikey_authenticate(token: str) -> Actor | None:
    """The actor for a token, or None for anything unknown, malformed or revoked."""
    digest = _hash(token)
    cached = _cache.get(digest)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    actor = _authenticate(token)
    if actor is not None:
        if len(_cache) > 1000:
            _cache.clear()
        _cache[digest] = (actor, time.monotonic() + CACHE_SECONDS)
    return actor


def _authenticate(token: str) -> Actor | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "yy":
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        return None
    if key.owner and not _owner_active(key.owner):
        # a key speaks for its holder: an operator disabled (or removed) in the console is disabled
        # here too, or their keys went on revealing and approving (second attacker review)
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute: no write on every request of a hot key.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return Actor(kind="api_key", id=key.pk, label=key.name, role=Role(key.role), owner=key.owner)


def _owner_active(username: str) -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username, is_active=True).exists()


def apikey_revoke(*, key: ApiKey, actor: Actor = SYSTEM) -> bool:
    """Revoke a key (audited); False when it was already revoked."""
    _cache.clear()  # this process forgets at once; others within CACHE_SECONDS
    now = timezone.now()
    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
        if revoked:
            audit_record(
                actor=actor, action="apikey.revoke", object_type="apikey", object_id=key.pk,
                before={"revoked_at": None}, after={"revoked_at": now},
            )  # fmt: skip
    return bool(revoked)


def apikey_owner_set(*, key: ApiKey, owner: str, actor: Actor = SYSTEM) -> None:
    """Name the console user who holds a key (audited): a key made before keys had owners cannot
    request an export in clear until it names one."""
    owner = owner.strip()
    with transaction.atomic():
        before = ApiKey.objects.select_for_update().values_list("owner", flat=True).get(pk=key.pk)
        ApiKey.objects.filter(pk=key.pk).update(owner=owner)
        audit_record(
            actor=actor, action="apikey.owner", object_type="apikey", object_id=key.pk,
            before={"owner": before}, after={"owner": owner},
        )  # fmt: skip
    key.owner = owner


def apikey_list():
    """Every key, newest first (no secrets: only their SHA-256 is stored)."""
    return ApiKey.objects.order_by("-id")


def apikey_get(key_id: int) -> ApiKey:
    """Raises: core.not_found."""
    from yunying.core.errors import CoreError, DomainError

    key = ApiKey.objects.filter(pk=key_id).first()
    if key is None:
        raise DomainError(CoreError.NOT_FOUND, id=key_id)
    return key
