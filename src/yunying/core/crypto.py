"""Personal data at rest: AES-256-GCM with a key ring, and keyed blind indexes for look-up (S1).

Ciphertext format: "v1:<key id>:<base64url(nonce | ciphertext+tag)>". The first key in
settings.PII_KEYS encrypts; every key in the ring decrypts, so keys rotate by prepending a new one
and re-encrypting at leisure (`needs_rotation`). Blind indexes are HMAC-SHA256 with a separate key, so
equal plaintexts are findable without decrypting and the index reveals nothing without that key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = "v1"


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


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt text; `context` (e.g. "member.phone") is bound as associated data so a ciphertext
    cannot be moved to another column and still decrypt."""
    active, keys = _key_ring(settings.PII_KEYS)
    nonce = os.urandom(12)
    sealed = AESGCM(keys[active]).encrypt(nonce, plaintext.encode(), context.encode())
    token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{_VERSION}:{active}:{token}"


def decrypt(ciphertext: str, *, context: str) -> str:
    version, key_id, token = ciphertext.split(":", 2)
    if version != _VERSION:
        raise ValueError(f"unknown ciphertext version {version!r}")
    _, keys = _key_ring(settings.PII_KEYS)
    if key_id not in keys:
        raise ValueError(f"PII key {key_id!r} is no longer in the key ring; restore it to read this value")
    raw = _b64decode(token)
    return AESGCM(keys[key_id]).decrypt(raw[:12], raw[12:], context.encode()).decode()


def needs_rotation(ciphertext: str) -> bool:
    active, _ = _key_ring(settings.PII_KEYS)
    return ciphertext.split(":", 2)[1] != active


def blind_index(value: str, *, context: str) -> str:
    """Deterministic keyed digest of a normalised value, for equality look-ups."""
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, f"{context}\x00{value}".encode(), hashlib.sha256).hexdigest()[:40]
