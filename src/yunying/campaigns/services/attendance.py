"""Attendance (C10): staff check a confirmed member in at the event with the code of their QR ticket.

The guard is one conditional UPDATE (`attended_at IS NULL` and still confirmed), so two scans of the
same code at once — two doors, a double tap — check the member in once: the loser is told when the
first scan happened. The audit row is written in the same transaction as the mark.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yunying.campaigns.errors import AttendanceError
from yunying.campaigns.models import CHECKIN_ALPHABET, Signup, SignupStatus
from yunying.campaigns.services.events import signup_announce
from yunying.core.activity import ActivityKind
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor, Perm
from yunying.core.ratelimit import ratelimit_check, ratelimit_count, ratelimit_hit

CHECKIN_CODE_LENGTH = 10
CODES_PER_MINUTE = 60  # a busy door scans one every few seconds
MISSES_PER_MINUTE = 10  # unknown or another campaign's codes: what guessing produces
_SEPARATORS = str.maketrans("", "", " -_\t\r\n\u3000")


def checkin_code_normalize(raw: str) -> str | None:
    """The code as stored (upper case, no spaces or dashes), or None when it cannot be one — checked
    before any query, so a wrong length or a stray character costs nothing."""
    code = (raw or "")[:64].translate(_SEPARATORS).upper()
    if len(code) != CHECKIN_CODE_LENGTH or any(ch not in CHECKIN_ALPHABET for ch in code):
        return None
    return code


def _signup_by_code(code: str | None) -> Signup:
    signup = (
        Signup.objects.select_related("member", "campaign").filter(checkin_code=code).first()
        if code
        else None
    )
    if signup is None:
        raise DomainError(AttendanceError.UNKNOWN_CODE)
    return signup


def _refusal(signup: Signup, campaign_id: int) -> DomainError | None:
    if signup.campaign_id != campaign_id:
        return DomainError(AttendanceError.WRONG_CAMPAIGN, campaign_id=signup.campaign_id)
    if signup.attended_at is not None:
        # Before the status: a member checked in and withdrawn later still attended, once.
        return DomainError(
            AttendanceError.ALREADY_CHECKED_IN,
            signup_id=signup.pk,
            attended_at=signup.attended_at.isoformat(),
        )
    if signup.status != SignupStatus.CONFIRMED:
        return DomainError(AttendanceError.NOT_CONFIRMED, signup_id=signup.pk, status=signup.status)
    return None


def _mark(signup: Signup, now) -> bool:
    """The guard: one conditional UPDATE, so of two scans at once exactly one writes."""
    return bool(
        Signup.objects.filter(pk=signup.pk, status=SignupStatus.CONFIRMED, attended_at__isnull=True).update(
            attended_at=now, updated_at=now
        )
    )


def attendance_mark(*, checkin_code: str, campaign_id: int, actor: Actor) -> Signup:
    """Check in the member whose confirmed sign-up of this campaign carries `checkin_code` (typed any
    case, with spaces or dashes). Returns the sign-up, its member loaded, `attended_at` set.

    Codes are short: whoever marks attendance (an operator at the door, an integrator's scanner) is
    limited per minute in codes, and much more tightly in misses, which is what guessing produces.

    Raises: core.permission_denied, core.rate_limited, attendance.unknown_code,
    attendance.wrong_campaign, attendance.not_confirmed, attendance.already_checked_in (with the
    first `attended_at`)."""
    actor.require(Perm.ATTENDANCE_MARK)
    caller = f"{actor.kind}:{actor.id}"
    ratelimit_check(scope="attendance_miss", key=caller, limit=MISSES_PER_MINUTE)
    ratelimit_hit(scope="attendance_code", key=caller, limit=CODES_PER_MINUTE)
    try:
        signup = _signup_by_code(checkin_code_normalize(checkin_code))
        refusal = _refusal(signup, campaign_id)
    except DomainError:  # an unknown code
        ratelimit_count(scope="attendance_miss", key=caller)
        raise
    if refusal is not None:
        if refusal.code == AttendanceError.WRONG_CAMPAIGN:
            ratelimit_count(scope="attendance_miss", key=caller)
        raise refusal
    now = timezone.now()
    with transaction.atomic():
        if not _mark(signup, now):  # another scan (or a withdrawal) won between the read and this write
            signup.refresh_from_db(fields=["status", "attended_at"])
            raise _refusal(signup, campaign_id) or DomainError(AttendanceError.NOT_CONFIRMED)
        audit_record(
            actor=actor, action="signup.attend", object_type="signup", object_id=signup.pk,
            before={"attended_at": None}, after={"attended_at": now, "campaign_id": campaign_id},
        )  # fmt: skip
        signup_announce(signup, ActivityKind.SIGNUP_ATTENDED)
    signup.attended_at = signup.updated_at = now
    return signup
