"""Personal data at rest: AES-256-GCM with a key ring, and keyed blind indexes for look-up (S1).

Ciphertext format: "v2:<key id>:<base64url(nonce | ciphertext+tag)>". The first key in
settings.PII_KEYS encrypts; every key in the ring decrypts, so keys rotate by prepending a new one
and re-encrypting: the worker's privacy.keys_rotate job (or `yunying pii-keys rotate`) walks every
column declared with core.registry.sealed_column_register, resumably; `yunying pii-keys status` tells
when an old key seals nothing more and can be removed from the ring. The associated data binds the value to
its table and column (`context`, e.g. "member.phone") and to its row (`row`, a stable per-row token
the row has before it is inserted): a ciphertext copied to another column or another member's row
does not decrypt. "v1:" values (bound to the column only) still decrypt, with `row` ignored, until
`yunying reindex-pii` rewrites them as v2.

Blind indexes are HMAC-SHA256 under a key of their own per field, derived (HKDF-SHA256) from
settings.BLIND_INDEX_KEY: equal plaintexts are findable without decrypting, the index reveals nothing
without that key, and two fields' indexes of one value do not match. BLIND_INDEX_KEY (like the PII
keys) comes from the environment only: nothing writes it to the database, so no backup holds it;
after changing it, `yunying reindex-pii` recomputes the indexes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = "v2"
_LEGACY = "v1"
SEALED_VERSIONS = (_VERSION, _LEGACY)  # the formats a stored value may be in: "<version>:<key id>:…"


def _b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def key_ring_material(spec: str) -> list[tuple[str, bytes]]:
    """The key ring as (id, raw key material) pairs, active key first (the deployment checks measure
    the material). Raises ValueError for a malformed ring."""
    ring: list[tuple[str, bytes]] = []
    for item in spec.split(","):
        key_id, _, material = item.strip().partition(":")
        if not key_id or not material:
            raise ValueError("PII key ring entries look like 'id:base64key'")
        if any(key_id == seen for seen, _ in ring):
            raise ValueError(f"PII key id {key_id!r} appears twice in the key ring")
        try:
            ring.append((key_id, _b64decode(material)))
        except (ValueError, binascii.Error) as exc:
            raise ValueError(f"PII key {key_id!r} is not base64url") from exc
    return ring


@lru_cache(maxsize=8)
def _key_ring(spec: str) -> tuple[str, dict[str, bytes]]:
    ring = key_ring_material(spec)
    # Any secret string of enough entropy works: derive exactly 32 bytes from it.
    keys = {key_id: hashlib.sha256(raw).digest() for key_id, raw in ring}
    return ring[0][0], keys


def _associated_data(context: str, row: str) -> bytes:
    if not row:
        raise ValueError("a ciphertext is bound to its row: pass the row's token")
    return f"{context}\x00{row}".encode()


def encrypt(plaintext: str, *, context: str, row: str) -> str:
    """Encrypt text bound to its column (`context`, e.g. "member.phone") and its row (`row`)."""
    active, keys = _key_ring(settings.PII_KEYS)
    nonce = os.urandom(12)
    sealed = AESGCM(keys[active]).encrypt(nonce, plaintext.encode(), _associated_data(context, row))
    token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{_VERSION}:{active}:{token}"


def decrypt(ciphertext: str, *, context: str, row: str, alert: bool = True) -> str:
    """Raises ValueError (malformed, unknown version, key gone) or cryptography's InvalidTag (moved,
    tampered). A stored value that does not open is never shown as a blank: the failure raises, and
    (unless `alert=False`, for values that came from a request rather than the database) raises the
    alert pii.ciphertext_invalid naming the column, the row token and the key id, not the value."""
    try:
        return _decrypt(ciphertext, context=context, row=row)
    except (ValueError, InvalidTag) as exc:
        if alert:
            from yunying.core.alerts import alert_raise  # alerts stores rows: not at import time

            alert_raise(
                "pii.ciphertext_invalid",
                context=context,
                row=row,
                key_id=key_id_of(ciphertext) or "",
                error=type(exc).__name__,
            )
        raise


def _decrypt(ciphertext: str, *, context: str, row: str) -> str:
    version, key_id, token = ciphertext.split(":", 2)
    if version == _VERSION:
        associated = _associated_data(context, row)
    elif version == _LEGACY:
        associated = context.encode()  # written before row binding; reindex-pii rewrites it
    else:
        raise ValueError(f"unknown ciphertext version {version!r}")
    _, keys = _key_ring(settings.PII_KEYS)
    if key_id not in keys:
        raise ValueError(f"PII key {key_id!r} is no longer in the key ring; restore it to read this value")
    raw = _b64decode(token)
    if len(raw) < 12 + 16:
        raise ValueError("ciphertext too short")
    return AESGCM(keys[key_id]).decrypt(raw[:12], raw[12:], associated).decode()


def key_id_of(ciphertext: str) -> str | None:
    """The id of the key that sealed a stored value (None for a value not in the sealed format)."""
    parts = ciphertext.split(":", 2)
    if len(parts) != 3 or parts[0] not in (_VERSION, _LEGACY):
        return None
    return parts[1]


def active_key_id() -> str:
    return _key_ring(settings.PII_KEYS)[0]


def ring_key_ids() -> list[str]:
    """The key ids of the ring, active first."""
    return [key_id for key_id, _ in key_ring_material(settings.PII_KEYS)]


def needs_rotation(ciphertext: str) -> bool:
    """Not under the active key, or not in the current format: `yunying reindex-pii` rewrites it."""
    active, _ = _key_ring(settings.PII_KEYS)
    version, key_id, _ = ciphertext.split(":", 2)
    return key_id != active or version != _VERSION


@lru_cache(maxsize=64)
def _field_key(master: str, context: str) -> bytes:
    """The blind-index key of one field: HKDF-SHA256 of the blind-index key, labelled by the field."""
    return HKDF(algorithm=SHA256(), length=32, salt=b"yunying blind index", info=context.encode()).derive(
        master.encode()
    )


def blind_index(value: str, *, context: str) -> str:
    """Deterministic keyed digest of a normalised value, for equality look-ups in one field."""
    key = _field_key(settings.BLIND_INDEX_KEY, context)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:40]


def keyed_digest(data: bytes, *, context: str) -> str:
    """HMAC-SHA256 (hex, full length) of `data` under a key derived from settings.BLIND_INDEX_KEY for
    `context`: the key lives outside the database and its backups, so whoever holds only those
    cannot recompute the digest (the audit hash chains, core.chain)."""
    key = _field_key(settings.BLIND_INDEX_KEY, context)
    return hmac.new(key, data, hashlib.sha256).hexdigest()
