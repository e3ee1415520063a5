"""Deployment checks (S6): production refuses settings that would leave personal data unprotected.

Registered as Django deployment checks, so `yunying check --deploy` lists them with Django's own, and
`yunying serve` in production runs them all and stops on any error. Each is an Error, not a Warning:
a weak key cannot be fixed after data was encrypted or indexed under it without re-keying everything.
"""

from __future__ import annotations

import operator
from functools import reduce
from itertools import pairwise

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db.models import Q

from yunying.core import crypto

MIN_SECRET_KEY_LENGTH = 50  # Django's own threshold (security.W009)
MIN_SECRET_KEY_UNIQUE = 16  # 'abcde' * 10 is 50 characters and five guessable ones
MIN_KEY_BYTES = 32  # AES-256 and HMAC-SHA256 want 256 bits of key material
MIN_BLIND_INDEX_UNIQUE = 10  # "aaaa…" or "0123012301…" is long and still guessable
# Of random text or bytes, few neighbours step by -1, 0 or +1 (about 5 % of base64url, 1 % of bytes)
# and no short pattern repeats; in "abcdef…", "0123…" or bytes 0..31 nearly all of them do.
PREDICTABLE_SHARE = 0.5
MAX_PERIOD = 12


def predictable(value: str | bytes) -> bool:
    """A run (abcdef…, 0123…, bytes 0..31), a repeated character or a short repeated pattern
    ("0123456789" over and over): long, many distinct characters, and guessable all the same
    (attacker review: all three keys passed the length and distinct-character checks)."""
    symbols = list(value.encode() if isinstance(value, str) else value)
    pairs = len(symbols) - 1
    if pairs < 1:
        return True
    steps = sum(1 for a, b in pairwise(symbols) if abs(a - b) <= 1)
    if steps >= PREDICTABLE_SHARE * pairs:
        return True
    for period in range(1, min(MAX_PERIOD, len(symbols) // 2) + 1):
        same = sum(1 for a, b in zip(symbols, symbols[period:], strict=False) if a == b)
        if same >= 0.9 * (len(symbols) - period):
            return True
    return False


@register(Tags.security, deploy=True)
def check_debug(app_configs=None, **kwargs):
    if settings.DEBUG:
        return [
            Error(
                "DEBUG is on: error pages would show settings, queries and personal data.",
                hint="Unset YUNYING_DEBUG in production.",
                id="yunying.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_secret_key(app_configs=None, **kwargs):
    key = str(settings.SECRET_KEY)
    if (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_UNIQUE
        or key.startswith("django-insecure")
        or predictable(key)
    ):
        return [
            Error(
                f"YUNYING_SECRET_KEY is weak: it needs at least {MIN_SECRET_KEY_LENGTH} random characters "
                f"with at least {MIN_SECRET_KEY_UNIQUE} different ones, not a run or a pattern.",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(50))'",
                id="yunying.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_pii_keys(app_configs=None, **kwargs):
    try:
        material = crypto.key_ring_material(settings.PII_KEYS)
    except ValueError as exc:
        return [Error(f"YUNYING_PII_KEYS is malformed: {exc}", id="yunying.E003")]
    # Short, or with few distinct bytes (32 zero bytes are 32 bytes), or another key used again.
    short = [
        key_id for key_id, raw in material
        if len(raw) < MIN_KEY_BYTES or len(set(raw)) < MIN_KEY_BYTES // 2 or predictable(raw)
    ]  # fmt: skip
    elsewhere = {str(settings.SECRET_KEY), settings.BLIND_INDEX_KEY}
    texts = dict(item.strip().partition(":")[::2] for item in settings.PII_KEYS.split(","))
    reused = [
        key_id for key_id, raw in material
        if raw in {text.encode() for text in elsewhere} or texts.get(key_id) in elsewhere
    ]  # fmt: skip
    if len({raw for _, raw in material}) < len(material):
        reused.append("(the same key under two ids)")
    if reused:
        return [
            Error(
                f"YUNYING_PII_KEYS: key(s) {', '.join(reused)} repeat another key; each key must be its own.",
                hint="python -c 'import secrets; print(\"k1:\" + secrets.token_urlsafe(32))'",
                id="yunying.E003",
            )
        ]
    if short:
        return [
            Error(
                f"YUNYING_PII_KEYS: key(s) {', '.join(short)} hold less than {MIN_KEY_BYTES} random bytes "
                "of key material (the part after 'id:', base64url-decoded).",
                hint="python -c 'import secrets; print(\"k1:\" + secrets.token_urlsafe(32))'",
                id="yunying.E003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_blind_index_key(app_configs=None, **kwargs):
    key = settings.BLIND_INDEX_KEY
    others = {str(settings.SECRET_KEY)} | {item.strip() for item in settings.PII_KEYS.split(",")}
    others |= {item.strip().partition(":")[2] for item in settings.PII_KEYS.split(",")}
    weak = len(key.encode()) < MIN_KEY_BYTES or len(set(key)) < MIN_BLIND_INDEX_UNIQUE or predictable(key)
    if weak or key in others:
        return [
            Error(
                f"YUNYING_BLIND_INDEX_KEY is weak: it needs at least {MIN_KEY_BYTES} random bytes with at "
                f"least {MIN_BLIND_INDEX_UNIQUE} different characters, not a run or a pattern, and must "
                "differ from every other key.",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(32))'",
                id="yunying.E004",
            )
        ]
    return []


@register(Tags.security, Tags.database, deploy=True)
def check_sealed_keys(app_configs=None, databases=None, **kwargs):
    """Every stored ciphertext's key id is in the ring (else its values cannot be read: restore the
    key); a key of the ring that seals nothing any more is noted, so an operator can retire it.
    Runs when Django checks the database (`check --deploy --database default`); `yunying serve` and
    `yunying worker` run it at start-up through sealed_keys_require, in every environment."""
    from django.apps import apps
    from django.core.checks import Info
    from django.db import DatabaseError

    from yunying.core.registry import sealed_columns

    if not databases:
        return []
    try:
        ring = crypto.ring_key_ids()
    except ValueError:
        return []  # check_pii_keys reports it
    used: dict[str, set[str]] = {}
    try:
        for column in sealed_columns():
            # In SQL, since serve and worker run this at every start: which ring keys seal something
            # (a prefix test that stops at the first match), and only the values no ring key sealed
            # are read here, to name their keys.
            sealed = apps.get_model(column.model).objects.exclude(**{column.column: ""})
            prefixes = {key: Q() for key in ring}
            for key in ring:
                for version in crypto.SEALED_VERSIONS:
                    prefixes[key] |= Q(**{f"{column.column}__startswith": f"{version}:{key}:"})
                if sealed.filter(prefixes[key]).exists():
                    used.setdefault(key, set()).add(column.label)
            strays = sealed.exclude(reduce(operator.or_, prefixes.values(), Q()))
            for value in strays.values_list(column.column, flat=True).iterator(chunk_size=2000):
                used.setdefault(crypto.key_id_of(value) or "?", set()).add(column.label)
    except DatabaseError:
        return []  # not migrated yet: nothing is sealed
    messages = []
    missing = sorted(set(used) - set(ring))
    if missing:
        where = "; ".join(f"{key}: {', '.join(sorted(used[key]))}" for key in missing)
        messages.append(
            Error(
                f"Stored personal data names PII key id(s) missing from YUNYING_PII_KEYS ({where}): "
                "those values cannot be read.",
                hint="Put the key(s) back in the ring, then run `yunying pii-keys rotate`.",
                id="yunying.E005",
            )
        )
    retired = [key for key in ring[1:] if key not in used]
    if retired:
        messages.append(
            Info(
                f"PII key(s) {', '.join(retired)} seal no stored value any more: they can leave YUNYING_PII_KEYS.",
                id="yunying.I001",
            )
        )
    return messages


def sealed_keys_require() -> None:
    """Refuse to start a process whose key ring lacks a key that stored values name: it would come up
    healthy and fail on every such value (pii.ciphertext_invalid). Django runs database checks only
    when asked for a database, which serve's own check does not, so serve and worker call this.

    Raises:
        CommandError: naming the missing key ids and the columns that use them.
    """
    from django.core.management.base import CommandError

    errors = [m for m in check_sealed_keys(databases=["default"]) if m.is_serious()]
    if errors:
        raise CommandError(" ".join(f"{m.id}: {m.msg} {m.hint}" for m in errors) + " Refusing to start.")


FILE_CHANNEL = "yunying.notify.channels.FileChannel"
FILE_EMAIL = "django.core.mail.backends.filebased.EmailBackend"


@register(Tags.security, deploy=True)
def check_delivery_channels(app_configs=None, **kwargs):
    """A warning, not an error: the development channels write messages to files under the var
    directory instead of sending them, so members get no sign-in code, and the files keep their phone
    numbers and e-mail addresses with no retention (attacker review)."""
    from django.core.checks import Warning

    to_files = [name for name, path in settings.NOTIFY_CHANNELS.items() if path == FILE_CHANNEL]
    if settings.EMAIL_BACKEND == FILE_EMAIL and settings.NOTIFY_CHANNELS.get("email", "").endswith(
        "EmailChannel"
    ):
        to_files.append("email")
    if not to_files:
        return []
    return [
        Warning(
            f"Messages on {', '.join(sorted(to_files))} are written to files under YUNYING_VAR_DIR, not "
            "sent: members receive nothing (no sign-in code), and the files keep their addresses.",
            hint="Set YUNYING_NOTIFY_SMS / YUNYING_NOTIFY_PUSH to your provider's channel and "
            "YUNYING_EMAIL_BACKEND to SMTP (docs/deploy.md).",
            id="yunying.W001",
        )
    ]
