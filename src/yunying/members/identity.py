"""Real-name check (实名核验), sensitive personal information under PIPL Arts. 28–29 (S4).

A member who gave the separate consent for sensitive information may have their name and resident
identity number checked. The number is never stored: only the result, when it was checked, and a keyed
hash of the number (core.crypto.blind_index: equality only, and nothing without the key, which lives
outside the database). Withdrawing that consent erases all three (members.consent).

The check itself is a provider: a function (name, number) -> bool named by
settings.IDENTITY_CHECK_PROVIDER. The built-in one checks the number's structure as GB 11643-1999
defines it (region, a real birth date, the check character); it cannot know whether the name goes
with the number, so a deployment that needs that plugs in its real-name vendor here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from yunying.core import crypto
from yunying.core.errors import DomainError
from yunying.core.ratelimit import ratelimit_hit
from yunying.members.errors import IdentityCheckError
from yunying.members.models import IdentityCheckResult, Member

_INDEX = "member.identity"
_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # 7, 9, 10, 5, 8, …
_CHECK = "10X98765432"
# The first two digits: a province-level division (GB/T 2260), or 71/81/82/83 (Taiwan, Hong Kong,
# Macao; and the residence permits' 83) and 91 (foreigners' permanent residence).
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54}
    | {61, 62, 63, 64, 65, 71, 81, 82, 83, 91}
)
CHECKS_PER_DAY = 5  # per member: a wrong number is a typo; dozens are someone trying numbers
_DAY = 24 * 3600


# Besides letters of any script, a name on an identity card may hold the middle dot of names such as
# 阿沛·阿旺晋美 (NFKC leaves U+00B7), and a foreign name spaces, hyphens, apostrophes and full stops.
NAME_MARKS = frozenset("·• -'.")


def identity_number_normalise(value: str) -> str:
    """Full-width digits and a lower-case x as typed on a phone, spaces dropped."""
    return unicodedata.normalize("NFKC", value or "").replace(" ", "").upper()


def identity_number_valid(value: str, *, today: date | None = None) -> bool:
    """Is this an 18-character resident identity number by GB 11643-1999: a known province, a real
    birth date not in the future, and the right check character."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    if int(value[:2]) not in _PROVINCES:
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= (today or timezone.localdate()):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _WEIGHTS, strict=True))
    return value[17] == _CHECK[total % 11]


def checksum_provider(name: str, number: str) -> bool:
    """The built-in check: the number is well formed (the name is not verified; see the module)."""
    return identity_number_valid(number)


def _provider() -> Callable[[str, str], bool]:
    return import_string(settings.IDENTITY_CHECK_PROVIDER)


def identity_check(*, member: Member, name: str, number: str, sensitive_granted: bool) -> str:
    """Check the member's real name and identity number; keep the result and the number's keyed hash.

    `sensitive_granted`: the member's current consent for sensitive information (the caller reads
    members.consent). Returns the result ("passed" or "failed").

    Raises: identity.consent_required, identity.number_invalid, identity.name_invalid,
    core.rate_limited (more than CHECKS_PER_DAY a day)."""
    if not sensitive_granted:
        raise DomainError(IdentityCheckError.CONSENT_REQUIRED)
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not 2 <= len(name) <= 40 or not all(ch.isalpha() or ch in NAME_MARKS for ch in name):
        raise DomainError(IdentityCheckError.NAME_INVALID, field="name")
    number = identity_number_normalise(number)
    if not identity_number_valid(number):
        raise DomainError(IdentityCheckError.NUMBER_INVALID, field="number")
    ratelimit_hit(scope="identity_check", key=str(member.pk), limit=CHECKS_PER_DAY, window_seconds=_DAY)
    result = IdentityCheckResult.PASSED if _provider()(name, number) else IdentityCheckResult.FAILED
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(
            identity_index=crypto.blind_index(number, context=_INDEX),
            identity_check=result,
            identity_checked_at=timezone.now(),
        )
    return str(result)


def identity_forget(member_id: int) -> int:
    """Erase a member's real-name check (consent withdrawn, or the member erased). Returns rows changed."""
    return (
        Member.objects.filter(pk=member_id)
        .exclude(identity_check="")
        .update(identity_index="", identity_check="", identity_checked_at=None)
    )
