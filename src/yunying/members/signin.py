"""Member sign-in with a phone and an SMS code (M1).

A code is 6 digits, valid 5 minutes, and good for at most 5 tries; only its keyed hash is stored,
bound to the phone's own blind index, so neither the database nor a log holds a code or a phone in
clear. Sends are limited per phone (1 a minute, 5 an hour, 10 a day) and per client address (counters
keyed by digests, core.ratelimit), and by a daily budget over all phones, counted in the database;
the send that reaches the budget raises an alert, and sends past it are refused.

Delivery is the caller's (`deliver(e164, code)`): members knows no notify channel (the layers keep
them apart); the member pages send through notify's SMS channel.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from yunying.core.alerts import alert_raise
from yunying.core.crypto import blind_index
from yunying.core.errors import DomainError
from yunying.core.ratelimit import client_key, ratelimit_check, ratelimit_hit, ratelimit_release
from yunying.members.errors import SigninError
from yunying.members.models import Member, SigninCode
from yunying.members.services import Acquisition, member_resolve, phone_mask, phone_normalize

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_VALID = timedelta(minutes=5)
MAX_ATTEMPTS = 5
# (window in seconds, sends allowed) per phone: the requirement's 1 a minute, 5 an hour, 10 a day.
PHONE_LIMITS = ((60, 1), (3600, 5), (86400, 10))
IP_WINDOW = 3600

_PHONE = "signin.phone"
_CODE = "signin.code"


def _nfkc(text: str) -> str:
    """Full-width digits ("１３８…") typed on a phone keyboard read as the digits they are."""
    return unicodedata.normalize("NFKC", text or "").strip()


def signin_phone(raw: str) -> str:
    """The E.164 mobile number a member typed. Raises: member.phone_invalid, member.phone_not_mobile."""
    return phone_normalize(_nfkc(raw)[:32], mobile=True)


def _phone_key(e164: str) -> str:
    return blind_index(e164, context=_PHONE)


def _code_hash(phone_key: str, code: str) -> str:
    # Keyed (HMAC under the blind-index key) and bound to the phone: a million codes cannot be
    # tried against a stolen table without the key, nor a code's hash moved to another phone.
    return blind_index(f"{phone_key}:{code}", context=_CODE)


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def signin_code_send(*, phone: str, client_ip: str | None, deliver: Callable[[str, str], None]) -> datetime:
    """Issue a new code for `phone` and hand it to `deliver(e164, code)`; returns when it expires.
    A new code replaces any earlier one for the phone (only the latest is checked).

    Raises: member.phone_invalid, member.phone_not_mobile, core.rate_limited (with retry_after),
    signin.budget_exhausted, signin.send_failed."""
    e164 = signin_phone(phone)
    key = _phone_key(e164)
    ip_key = client_key(client_ip) if client_ip else None
    # Check every limit before counting any, so a refused send does not use up another window.
    for window, limit in PHONE_LIMITS:
        ratelimit_check(scope=f"signin_phone_{window}", key=key, limit=limit, window_seconds=window)
    if ip_key:
        limit = settings.SIGNIN_SENDS_PER_IP_HOUR
        ratelimit_check(scope="signin_ip", key=ip_key, limit=limit, window_seconds=IP_WINDOW)
    now = timezone.now()
    budget = settings.SMS_DAILY_BUDGET
    # The database is the budget's guard: a count of today's codes, not a counter that could reset.
    sent_today = SigninCode.objects.filter(created_at__gte=_day_start(now)).count()
    if sent_today >= budget:
        raise DomainError(SigninError.BUDGET_EXHAUSTED)
    # Counted, then compared with the count the store returns: two sends at the same instant both
    # passed the checks above, and only one of them may go (the faults review had 2 codes a minute).
    for window, limit in PHONE_LIMITS:
        ratelimit_hit(scope=f"signin_phone_{window}", key=key, limit=limit, window_seconds=window)
    if ip_key:
        limit = settings.SIGNIN_SENDS_PER_IP_HOUR
        ratelimit_hit(scope="signin_ip", key=ip_key, limit=limit, window_seconds=IP_WINDOW)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row = SigninCode.objects.create(
        phone_index=key, code_hash=_code_hash(key, code), created_at=now, expires_at=now + CODE_VALID
    )
    if sent_today + 1 == budget:
        alert_raise("sms.daily_budget_reached", budget=budget, day=_day_start(now).date().isoformat())
    try:
        deliver(e164, code)
    except Exception as exc:
        logger.exception("sign-in code for %s not delivered", phone_mask(e164))
        SigninCode.objects.filter(pk=row.pk).update(used_at=now)  # never valid: nobody received it
        # Nobody received it: the member may ask again at once (the day's budget still counts it).
        for window, _limit in PHONE_LIMITS:
            ratelimit_release(scope=f"signin_phone_{window}", key=key, window_seconds=window)
        if ip_key:
            ratelimit_release(scope="signin_ip", key=ip_key, window_seconds=IP_WINDOW)
        raise DomainError(SigninError.SEND_FAILED) from exc
    if settings.SIGNIN_CODE_LOG:  # development only (settings): production never logs a code
        logger.info("sign-in code for %s: %s (development: not logged in production)", phone_mask(e164), code)
    return row.expires_at


def signin_code_verify(*, phone: str, code: str) -> str:
    """Check a code for `phone`; returns the E.164 phone it proves. Each check of a well-formed
    code uses one of the code's tries, whatever the outcome; a code is good once.

    Raises: member.phone_invalid, member.phone_not_mobile, signin.no_code, signin.code_expired,
    signin.too_many_attempts, signin.code_wrong (with attempts_left)."""
    e164 = signin_phone(phone)
    key = _phone_key(e164)
    code = _nfkc(code).replace(" ", "")
    row = SigninCode.objects.filter(phone_index=key).order_by("-id").first()
    if row is None or row.used_at is not None:
        raise DomainError(SigninError.NO_CODE)
    now = timezone.now()
    if row.expires_at <= now:
        raise DomainError(SigninError.CODE_EXPIRED)
    if not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code):
        raise DomainError(SigninError.CODE_WRONG, attempts_left=max(MAX_ATTEMPTS - row.attempts, 0))
    # One conditional UPDATE takes a try: two guesses at once cannot both have the fifth.
    tried = SigninCode.objects.filter(pk=row.pk, attempts__lt=MAX_ATTEMPTS, used_at__isnull=True).update(
        attempts=F("attempts") + 1
    )
    if not tried:
        raise DomainError(SigninError.TOO_MANY_ATTEMPTS)
    if not hmac.compare_digest(row.code_hash, _code_hash(key, code)):
        left = MAX_ATTEMPTS - row.attempts - 1
        if left <= 0:
            raise DomainError(SigninError.TOO_MANY_ATTEMPTS)
        raise DomainError(SigninError.CODE_WRONG, attempts_left=left)
    if not SigninCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise DomainError(SigninError.NO_CODE)  # used by a concurrent check a moment ago
    return e164


def member_signin(*, phone: str, code: str, acquisition: Acquisition | None = None) -> Member:
    """The member whose phone the code proves. The first sign-in of a new phone registers the member
    (M1: phone and code only), with channel h5 and `acquisition` (UTM, inviter: M4); a known member's
    acquisition facts stay as first recorded.

    Raises: as signin_code_verify."""
    e164 = signin_code_verify(phone=phone, code=code)
    return member_resolve(phone=e164, external_id=None, channel="h5", acquisition=acquisition)


def member_get(member_id: int) -> Member | None:
    """The signed-in member of a session (None once gone)."""
    if not 0 < member_id < 2**63:
        return None
    return Member.objects.filter(pk=member_id).first()
