"""Real-name check (sensitive data, PIPL art. 28–29; S4): a member who gave the separate consent to
sensitive data submits their name and 18-digit identity number; the check runs through a provider
(settings.REALNAME_PROVIDER, a dotted path to `check(name, id_number) -> bool`; by default the local
GB 11643-1999 check digit and date of birth). Only the outcome, the time and a keyed hash of the
number (core.crypto.blind_index: the same person found again without the number) are kept on the
member; neither the number nor the name given is stored. Withdrawing the consent erases them."""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from yunying.core import crypto
from yunying.core.errors import DomainError
from yunying.members.errors import RealNameError
from yunying.members.models import Member

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
_HASH_CONTEXT = "member.id_number"


def id_number_normalise(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


def id_number_valid(number: str) -> bool:
    """GB 11643-1999: 17 digits (region, date of birth, sequence) and an ISO 7064 MOD 11-2 check."""
    if not _SHAPE.match(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= timezone.localdate():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17]


def local_check(name: str, id_number: str) -> bool:
    """The default provider: the number's own consistency (no outside service)."""
    return bool(name.strip()) and id_number_valid(id_number)


def realname_check(*, member: Member, name: str, id_number: str) -> bool:
    """Run the check and keep its outcome. Raises: realname.consent_required,
    realname.id_number_invalid (the number cannot be one: nothing is kept)."""
    from yunying.members.consent import consent_state

    if not consent_state(member).get("sensitive"):
        raise DomainError(RealNameError.CONSENT_REQUIRED)
    number = id_number_normalise(id_number)
    if not id_number_valid(number):
        raise DomainError(RealNameError.ID_NUMBER_INVALID)
    provider = import_string(settings.REALNAME_PROVIDER)
    passed = bool(provider(name.strip(), number))
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(
            realname_result="passed" if passed else "failed",
            realname_checked_at=timezone.now(),
            realname_id_hash=crypto.blind_index(number, context=_HASH_CONTEXT),
        )
    member.refresh_from_db()
    return passed


def realname_erase(member: Member) -> None:
    """Forget the check (the sensitive-data consent was withdrawn)."""
    Member.objects.filter(pk=member.pk).update(
        realname_result="", realname_checked_at=None, realname_id_hash=""
    )
