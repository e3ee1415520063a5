"""The member's rights over their data (PIPL arts. 44-47): export, erasure, and the data-subject
requests that track them with their deadline. The only writer of privacy.DataSubjectRequest.

What a member's data is, each domain app declares (core.registry.PersonalDataHolding); this module
runs the holdings' export() and erase() and never touches another app's tables itself."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from yunying.core.audit import audit_record, pii_access_record
from yunying.core.errors import DomainError, message_for
from yunying.core.permissions import SYSTEM, Actor, Perm
from yunying.core.purposes import Purpose, reveal_authorize
from yunying.core.ratelimit import ratelimit_hit, ratelimit_release
from yunying.core.registry import personal_data_holdings
from yunying.core.scrub import scrub_personal
from yunying.core.text import text_blank
from yunying.loyalty.personal_data import brokerage_erase_blockers
from yunying.members.consent import consent_history, consent_state
from yunying.members.errors import MemberError
from yunying.members.models import Member
from yunying.members.personal_data import member_is_erased
from yunying.privacy.exports import person_of
from yunying.privacy.models import DataSubjectRequest, RequestChannel, RequestKind, RequestStatus
from yunying.privacy.rights_errors import RightsError
from yunying.privacy.workdays import due_at_for

EXPORT_WINDOW_SECONDS = 86400
MAX_TEXT = 1000
EXPORT_FIELDS = ["phone", "name", "email", "birth_date", "answers"]
RESUME_BATCH = 200
# Requests after which the member's data leaves or is gone: recorded by someone identified, carried
# out by someone else who confirmed who asked (_second_person_check).
TWO_PERSON_KINDS = (RequestKind.ERASE, RequestKind.EXPORT, RequestKind.ACCESS)
RESUMED_NOTE = gettext_noop("erased once nothing waited any more")  # stored in English, shown translated
SUPERSEDED_NOTE = gettext_noop("closed: the member's data was erased, nothing is left to send or correct")


def _clean(text: str) -> str:
    """Free text an operator types (what the member asked, what was done): no control characters,
    and no phone or e-mail in clear — strategy and support read it without a reveal or a log."""
    return scrub_personal("".join(ch for ch in (text or "") if ch == "\n" or ch >= " ")).strip()[:MAX_TEXT]


def _member(member_id: int) -> Member:
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise DomainError(MemberError.NOT_FOUND, id=member_id)
    return member


# --- export ------------------------------------------------------------------------------------------


def data_export_build(member_id: int) -> dict[str, Any]:
    """Everything held about the member, in clear: each holding's export() under its key, the
    access log and the consents (JSON-serialisable with DjangoJSONEncoder)."""
    from yunying.privacy.rights_selectors import access_rows  # the same words the centre shows

    member = _member(member_id)
    return {
        "member_id": member.pk,
        "exported_at": timezone.now().isoformat(),
        "holdings": {
            h.key: {"label": str(h.label), "purpose": str(h.purpose), "retention": str(h.retention),
                    "shared_with": [str(s) for s in h.shared_with], "data": h.export(member.pk)}
            for h in personal_data_holdings() if h.export is not None
        },
        "access_log": [
            {"at": row["at"].isoformat(), "by": row["by"], "fields": row["fields"], "purpose": row["purpose"]}
            for row in access_rows(member.pk, limit=None)
        ],
        "consent": {
            "current": consent_state(member),
            "history": [
                {"purpose": e.purpose, "granted": e.granted, "policy_version": e.policy_version,
                 "channel": e.channel, "at": e.at.isoformat()}
                for e in consent_history(member)
            ],
        },
    }  # fmt: skip


def data_export_dumps(data: dict[str, Any]) -> str:
    """The export as the JSON file handed over (Chinese kept readable)."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def data_export_self(*, member: Member, actor: Actor) -> tuple[DataSubjectRequest, dict[str, Any]]:
    """The member downloads their own data (art. 45): rate-limited per member per day, recorded as a
    request carried out at once, and as a read of their data in clear in the access log.

    Raises: core.rate_limited, privacy.member_erased."""
    if member_is_erased(member):
        raise DomainError(RightsError.MEMBER_ERASED)
    limit = {"scope": "privacy_export", "key": str(member.pk), "window_seconds": EXPORT_WINDOW_SECONDS}
    ratelimit_hit(**limit, limit=settings.RATE_LIMITS["privacy_export_member_day"])
    try:
        data = data_export_build(member.pk)
        now = timezone.now()
        with transaction.atomic(durable=True):
            request = DataSubjectRequest.objects.create(
                member=member, kind=RequestKind.EXPORT, channel=RequestChannel.SELF_SERVICE,
                status=RequestStatus.DONE, received_at=now, due_at=due_at_for(now), created_by="member",
                handled_by="member", handled_at=now, notes=gettext_noop("self-service download"),
            )  # fmt: skip
            pii_access_record(
                actor=actor,
                member_ids=[member.pk],
                fields=EXPORT_FIELDS,
                purpose=str(Purpose.DATA_SUBJECT_REQUEST),
            )
    except BaseException:
        # counted before (so parallel taps cannot all pass), given back when no file was handed over:
        # a failed export must not use up the member's right to a copy (faults review)
        ratelimit_release(**limit)
        raise
    return request, data


# --- erasure -----------------------------------------------------------------------------------------


def erasure_waiting_on(member_id: int) -> list[str]:
    """What must be settled before the member's data can be erased (codes; [] when nothing)."""
    return brokerage_erase_blockers(member_id)


def _erase(member: Member, *, request: DataSubjectRequest) -> dict[str, int]:
    """Run every holding's erase(), the app highest in the layers first: the member's identity (and
    so their risk reference and blind index) goes last, after the apps that key on it; then settle
    the member's other requests. `request` is the erasure being carried out (locked by the caller).
    Needs the caller's transaction."""
    counts: dict[str, int] = {}
    for holding in reversed(personal_data_holdings()):
        if holding.erase is not None:
            for name, n in (holding.erase(member.pk) or {}).items():
                counts[name] = counts.get(name, 0) + n
    closed = _requests_settle_erased(member.pk, erasing=request.pk)
    if closed:
        counts["privacy.requests_closed"] = closed
    return counts


def _requests_settle_erased(member_id: int, *, erasing: int) -> int:
    """The member's own requests once their data is gone: what they wrote is blanked (it may name
    them), and a waiting export, access or correction is closed, since nothing is left to send or
    correct; left open it would only fall overdue. The requests themselves stay, as the record
    that the rights were answered. Returns how many were closed. Needs the caller's transaction."""
    requests = DataSubjectRequest.objects.filter(member_id=member_id)
    # not another open erasure: whoever carries it out holds its row and waits for the member's
    requests.exclude(details="").exclude(
        Q(kind=RequestKind.ERASE, status=RequestStatus.OPEN) & ~Q(pk=erasing)
    ).update(details="")
    return (
        requests.filter(status=RequestStatus.OPEN)
        .exclude(kind=RequestKind.ERASE)
        .update(
            status=RequestStatus.DONE,
            handled_by=SYSTEM.label[:150],
            handled_at=timezone.now(),
            notes=SUPERSEDED_NOTE,
        )
    )


def _holdings_lock(member_id: int) -> None:
    """Before the member's row: each holding's rows its services lock before the member
    (PersonalDataHolding.lock), the app highest in the layers first, as _erase goes. Needs the
    caller's transaction."""
    for holding in reversed(personal_data_holdings()):
        if holding.lock is not None:
            holding.lock(member_id)


def erasure_request_self(*, member: Member, confirmed: bool) -> DataSubjectRequest:
    """The member asks to delete their account and data (art. 47). Carried out at once when nothing
    must wait; otherwise the request waits in the operators' queue with what it waits on.

    Raises: privacy.confirmation_required, privacy.member_erased."""
    if not confirmed:
        raise DomainError(RightsError.CONFIRMATION_REQUIRED)
    now = timezone.now()
    with transaction.atomic(durable=True):
        _holdings_lock(member.pk)
        locked = Member.objects.select_for_update().filter(pk=member.pk).first()
        if locked is None or member_is_erased(locked):
            raise DomainError(RightsError.MEMBER_ERASED)
        open_request = DataSubjectRequest.objects.filter(
            member=locked, kind=RequestKind.ERASE, status=RequestStatus.OPEN
        ).first()
        if open_request is not None:
            return open_request
        waiting = erasure_waiting_on(locked.pk)
        request = DataSubjectRequest.objects.create(
            member=locked, kind=RequestKind.ERASE, channel=RequestChannel.SELF_SERVICE,
            received_at=now, due_at=due_at_for(now), created_by="member", waiting_on=waiting,
        )  # fmt: skip
        if not waiting:
            request.result = _erase(locked, request=request)
            request.status, request.handled_by, request.handled_at = RequestStatus.DONE, "member", now
            request.notes = gettext_noop("self-service erasure")
            request.save(update_fields=["result", "status", "handled_by", "handled_at", "notes"])
    return request


# --- the operators' queue ----------------------------------------------------------------------------


def request_create(
    *, actor: Actor, member_id: int, kind: str, channel: str, details: str = ""
) -> DataSubjectRequest:
    """An operator records a request the member made by phone, e-mail or letter; the deadline runs
    from now. Raises: core.permission_denied, privacy.kind_invalid, privacy.details_too_long, privacy.channel_invalid,
    member.not_found, privacy.member_erased, privacy.recorder_unidentified (an erasure by a key
    that names no holder)."""
    actor.require(Perm.PRIVACY_REQUESTS)
    if kind not in RequestKind.values:
        raise DomainError(RightsError.KIND_INVALID, kind=str(kind)[:20])
    if len(details or "") > MAX_TEXT:  # refused, never cut: the API's schema refuses it alike (422)
        raise DomainError(
            RightsError.DETAILS_TOO_LONG,
            message_for(RightsError.DETAILS_TOO_LONG) % {"limit": f"{MAX_TEXT:,}"},
            limit=MAX_TEXT,
        )
    if channel not in RequestChannel.values or channel == RequestChannel.SELF_SERVICE:
        # self-service is the member's own request, signed in: an erasure filed so runs without an
        # operator confirming who asked (erasures_resume)
        raise DomainError(RightsError.CHANNEL_INVALID, channel=str(channel)[:20])
    member = _member(member_id)
    if member_is_erased(member):
        raise DomainError(RightsError.MEMBER_ERASED)
    recorder = person_of(actor) or ""
    if kind in TWO_PERSON_KINDS and (not recorder or recorder.startswith("api_key:")):
        # a key naming nobody could hand over or carry out its own request once it is given an
        # owner, or from the console by whoever holds it: the two-person rule needs to know who
        # recorded it
        raise DomainError(RightsError.RECORDER_UNIDENTIFIED)
    kind, channel = RequestKind(kind), RequestChannel(channel)
    now = timezone.now()
    try:
        with transaction.atomic():  # an API call's Idempotency-Key record may hold the outer one
            request = DataSubjectRequest.objects.create(
                member=member, kind=kind, channel=channel, received_at=now, due_at=due_at_for(now),
                created_by=actor.label[:150], created_by_person=recorder, details=_clean(details),
                waiting_on=erasure_waiting_on(member.pk) if kind == RequestKind.ERASE else [],
            )  # fmt: skip
            audit_record(
                actor=actor, action="privacy.request_create", object_type="privacy_request", object_id=request.pk,
                after={"member": member.pk, "kind": kind, "channel": channel, "due_at": request.due_at.isoformat()},
            )  # fmt: skip
    except IntegrityError:  # an erasure already waits for this member: that request is this one
        return DataSubjectRequest.objects.get(
            member=member, kind=RequestKind.ERASE, status=RequestStatus.OPEN
        )
    return request


def _close(request_id: int, *, actor: Actor, status: str, notes: str, result: dict | None = None) -> int:
    """Open -> closed, once (the loser of a race gets privacy.request_closed). Needs the caller's
    transaction."""
    changed = DataSubjectRequest.objects.filter(pk=request_id, status=RequestStatus.OPEN).update(
        status=status,
        handled_by=actor.label[:150],
        handled_at=timezone.now(),
        notes=notes,
        result=result or {},
    )
    if not changed:
        raise DomainError(RightsError.REQUEST_CLOSED)
    return changed


def request_carry_out(
    *, actor: Actor, request_id: int, notes: str = "", identity_confirmed: bool = False
) -> DataSubjectRequest:
    """Carry out a waiting request. An erasure runs the erasure now (it re-checks what it waited on);
    an export, access or correction is recorded done with what was sent or changed (`notes`).

    An erasure an operator recorded (by phone, e-mail, letter) cannot be undone and nobody signed in
    asked for it: the operator confirms the caller's identity (`identity_confirmed`, and `notes` say
    how), and is not the one who recorded it (two-person rule, as for exports in clear).

    Raises: core.permission_denied, privacy.request_not_found, privacy.request_closed,
    privacy.erasure_waiting, privacy.identity_unconfirmed, privacy.same_person."""
    actor.require(Perm.PRIVACY_REQUESTS)
    with transaction.atomic(durable=True):
        request = DataSubjectRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise DomainError(RightsError.REQUEST_NOT_FOUND)
        if request.status != RequestStatus.OPEN:
            raise DomainError(RightsError.REQUEST_CLOSED)
        if request.kind == RequestKind.ERASE and request.channel != RequestChannel.SELF_SERVICE:
            _second_person_check(request, actor=actor, notes=notes, identity_confirmed=identity_confirmed)
        result: dict[str, int] = {}
        if request.kind == RequestKind.ERASE:
            _holdings_lock(request.member_id)
            member = Member.objects.select_for_update().get(pk=request.member_id)
            waiting = erasure_waiting_on(member.pk)
            if waiting:
                raise DomainError(RightsError.ERASURE_WAITING, waiting_on=waiting)
            if not member_is_erased(member):
                result = _erase(member, request=request)
        _close(request.pk, actor=actor, status=RequestStatus.DONE, notes=_clean(notes), result=result)
        audit_record(
            actor=actor, action="privacy.request_carry_out", object_type="privacy_request", object_id=request.pk,
            before={"status": "open"}, after={"status": "done", "kind": request.kind, "result": result},
            reason=_clean(notes)[:500],
        )  # fmt: skip
    request.refresh_from_db()
    return request


def _second_person_check(
    request: DataSubjectRequest, *, actor: Actor, notes: str, identity_confirmed: bool
) -> None:
    """A request an operator recorded that hands the member's data over or deletes it: the operator
    acting confirmed who asked (and notes how), and is not the one who recorded it.

    Raises: privacy.identity_unconfirmed, privacy.same_person."""
    if not identity_confirmed or not _clean(notes):
        raise DomainError(RightsError.IDENTITY_UNCONFIRMED)
    person = person_of(actor)
    recorder = request.created_by_person or f"user:{request.created_by}"
    if (
        person is None
        or person.startswith("api_key:")
        or recorder.startswith("api_key:")
        or person == recorder
    ):
        raise DomainError(RightsError.SAME_PERSON)


def request_export(
    *, actor: Actor, request_id: int, identity_confirmed: bool = False, notes: str = ""
) -> dict[str, Any]:
    """The member's data for an operator to send them, answering an export or access request received
    by phone, e-mail or letter (art. 45): the same document the member downloads themselves, read in
    clear under the purpose "the member asked for their data" (access-logged and audited). The
    request stays open until the operator records it sent.

    The whole of a member's data leaves on it, so as for an erasure: the operator confirms who asked
    (`identity_confirmed`, and `notes` say how) and is not the one who recorded the request
    (attacker review: one support key recorded an "access request" for any member and downloaded
    their addresses, answers and orders).

    Raises: core.permission_denied, privacy.request_not_found, privacy.request_closed,
    privacy.request_not_export, privacy.identity_unconfirmed, privacy.same_person,
    privacy.member_erased."""
    actor.require(Perm.PRIVACY_REQUESTS)
    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise DomainError(RightsError.REQUEST_NOT_FOUND)
    if request.status != RequestStatus.OPEN:
        raise DomainError(RightsError.REQUEST_CLOSED)
    if request.kind not in (RequestKind.EXPORT, RequestKind.ACCESS):
        raise DomainError(RightsError.REQUEST_NOT_EXPORT, kind=request.kind)
    _second_person_check(request, actor=actor, notes=notes, identity_confirmed=identity_confirmed)
    purpose = reveal_authorize(actor, purpose=Purpose.DATA_SUBJECT_REQUEST, note=f"#{request.pk}")
    member = _member(request.member_id)
    if member_is_erased(member):
        raise DomainError(RightsError.MEMBER_ERASED)
    data = data_export_build(member.pk)
    with transaction.atomic(durable=True):
        pii_access_record(actor=actor, member_ids=[member.pk], fields=EXPORT_FIELDS, purpose=purpose)
        audit_record(
            actor=actor, action="privacy.request_export", object_type="privacy_request", object_id=request.pk,
            after={"member": member.pk, "kind": request.kind, "identity_checked": _clean(notes)[:500]},
            reason=purpose,
        )  # fmt: skip
    return data


def erasures_resume() -> dict[str, int]:
    """Carry out the members' own erasures that waited (commission owed, …) once nothing waits any
    more, and keep what still waits current. Only self-service ones: an erasure an operator recorded
    waits for that operator, who confirms the member's identity first. Safe in several workers at
    once (each request is locked and re-read)."""
    done = still = 0
    # An operator's erasure is carried out by an operator; what it waits on is kept current for them.
    for request in (
        DataSubjectRequest.objects.filter(kind=RequestKind.ERASE, status=RequestStatus.OPEN)
        .exclude(waiting_on=[])
        .exclude(channel=RequestChannel.SELF_SERVICE)[:RESUME_BATCH]
    ):
        blockers = erasure_waiting_on(request.member_id)
        if blockers != request.waiting_on:
            DataSubjectRequest.objects.filter(pk=request.pk, status=RequestStatus.OPEN).update(
                waiting_on=blockers
            )
    waiting = DataSubjectRequest.objects.filter(
        kind=RequestKind.ERASE,
        status=RequestStatus.OPEN,
        channel=RequestChannel.SELF_SERVICE,
        created_by="member",
    ).values_list("pk", flat=True)
    for request_id in list(waiting[:RESUME_BATCH]):
        with transaction.atomic(durable=True):
            request = (
                DataSubjectRequest.objects.select_for_update()
                .filter(pk=request_id, status=RequestStatus.OPEN)
                .first()
            )
            if request is None:
                continue
            _holdings_lock(request.member_id)
            member = Member.objects.select_for_update().get(pk=request.member_id)
            blockers = erasure_waiting_on(member.pk)
            if blockers:
                still += 1
                if blockers != request.waiting_on:
                    DataSubjectRequest.objects.filter(pk=request.pk).update(waiting_on=blockers)
                continue
            result = {} if member_is_erased(member) else _erase(member, request=request)
            _close(request.pk, actor=SYSTEM, status=RequestStatus.DONE, notes=RESUMED_NOTE, result=result)
            DataSubjectRequest.objects.filter(pk=request.pk).update(waiting_on=[])
            audit_record(
                actor=SYSTEM, action="privacy.request_carry_out", object_type="privacy_request",
                object_id=request.pk, before={"status": "open", "waiting_on": request.waiting_on},
                after={"status": "done", "kind": request.kind, "result": result}, reason=RESUMED_NOTE,
            )  # fmt: skip
            done += 1
    return {"erased": done, "waiting": still} if done else {}


def request_reject(*, actor: Actor, request_id: int, reason: str) -> DataSubjectRequest:
    """Reject a request, with the reason the member is given (e.g. identity not confirmed).

    Raises: core.permission_denied, privacy.reason_required, privacy.request_not_found,
    privacy.request_closed."""
    actor.require(Perm.PRIVACY_REQUESTS)
    reason = _clean(reason)
    if text_blank(reason):  # a zero-width space alone is no reason the member can read
        raise DomainError(RightsError.REASON_REQUIRED)
    with transaction.atomic(durable=True):
        if not DataSubjectRequest.objects.filter(pk=request_id).exists():
            raise DomainError(RightsError.REQUEST_NOT_FOUND)
        _close(request_id, actor=actor, status=RequestStatus.REJECTED, notes=reason)
        audit_record(
            actor=actor, action="privacy.request_reject", object_type="privacy_request", object_id=request_id,
            before={"status": "open"}, after={"status": "rejected"}, reason=reason[:500],
        )  # fmt: skip
    return DataSubjectRequest.objects.get(pk=request_id)
