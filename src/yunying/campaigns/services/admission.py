"""Sign-up admission (C3, C4, C7): capacity never exceeded, one live sign-up per member, a
waiting list that moves up in order, manual review, withdrawal.

The capacity guard is the seat ledger (campaigns.seats: a conditional UPDATE on the campaign row, or
an atomic Redis script); the one-per-member guard is the database's conditional unique constraint. Both hold under any
concurrency on SQLite and PostgreSQL, and every change writes its event and its notices in the same
transaction, so a rolled-back admission leaves nothing behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from yunying.campaigns import seats
from yunying.campaigns.eligibility import (
    MemberFacts,
    eligibility_evaluate,
    eligibility_explain,
    eligibility_parse,
)
from yunying.campaigns.errors import CampaignError, SignupError
from yunying.campaigns.models import (
    BLOCKING_STATUSES,
    AdmissionMode,
    Campaign,
    CampaignStatus,
    ReviewMode,
    Signup,
    SignupStatus,
    signup_public_id,
)
from yunying.campaigns.questions import answers_validate, form_parse
from yunying.campaigns.seats import SEATED_STATUSES
from yunying.campaigns.selectors import campaign_get, member_facts, signup_get
from yunying.campaigns.services.events import event_record, signup_announce
from yunying.campaigns.services.notices import notice_cancel_reminder, notice_signup
from yunying.core import crypto
from yunying.core.activity import ActivityKind
from yunying.core.audit import audit_record
from yunying.core.errors import CoreError, DomainError
from yunying.core.permissions import Actor, Perm
from yunying.core.rows import row_exists, row_insert
from yunying.core.scrub import scrub_personal
from yunying.members.services import PreparedMember, Profile, member_commit, member_prepare, member_risk_ref
from yunying.risk.rules import Action
from yunying.risk.services import Verdict, case_close_for, risk_assess
from yunying.risk.signals import Entry, RiskInput

St = SignupStatus
_ANSWERS = "signup.answers"


@dataclass(frozen=True)
class MemberIdentity:
    phone: str | None = None
    external_id: str | None = None
    profile: Profile = field(default_factory=Profile)


@dataclass(frozen=True)
class Source:
    """Where a sign-up came from (C8) and the client signals risk control reads (R1)."""

    channel: str
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    client_ip: str | None = None
    device_id: str = ""
    user_agent: str = ""
    form_fill_ms: int | None = None  # how long the member took over the form (the member pages measure it)
    risk_challenge: str = ""  # a passed risk challenge's token, when retrying after one (R2)


def answers_read(signup: Signup) -> dict[str, Any]:
    """The clear answers; callers showing them to a person mask or log (they may hold phone/address)."""
    if not signup.answers_encrypted:
        return {}
    return json.loads(crypto.decrypt(signup.answers_encrypted, context=_ANSWERS, row=signup.public_id))


def _ensure_open(campaign: Campaign, now) -> None:
    if campaign.status != CampaignStatus.PUBLISHED or not (
        campaign.signup_start_at <= now < campaign.signup_end_at
    ):
        raise _open_error(campaign)


def _first_come(campaign: Campaign) -> bool:
    return campaign.admission_mode == AdmissionMode.FIRST_COME and campaign.review_mode == ReviewMode.AUTO


def _entry_status(campaign: Campaign) -> str:
    """The status a new sign-up asks for, judged from the campaign row read before the transaction;
    the guard at the end of the transaction confirms it or sends the sign-up round again (_Retry)."""
    if campaign.admission_mode == AdmissionMode.LOTTERY:
        return St.REGISTERED
    if campaign.review_mode == ReviewMode.MANUAL:
        return St.PENDING_REVIEW
    if campaign.seats_taken < campaign.capacity:
        return St.CONFIRMED
    if campaign.waitlist_enabled:
        return St.WAITLISTED
    # A campaign visibly full refuses at once: under a flash crowd most requests end here, before
    # any write. The read may be a moment old; only a seat freed meanwhile can make it wrong.
    raise DomainError(CampaignError.FULL, capacity=campaign.capacity)


class _Retry(Exception):
    """The seat count moved between the read and the guard: run the admission again as `status`."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def _open_error(campaign: Campaign) -> DomainError:
    return DomainError(
        CampaignError.NOT_OPEN,
        status=campaign.status,
        signup_start_at=campaign.signup_start_at.isoformat(),
        signup_end_at=campaign.signup_end_at.isoformat(),
    )


def _guard(campaign: Campaign, status: str, now) -> None:
    """The last statement of the admission transaction: the database's word on capacity and on the
    campaign being open (status and window), so a sign-up never commits past capacity or after a
    close, cancel or draw. Raises: campaign.not_open, campaign.full, _Retry."""
    if status == St.CONFIRMED:
        if seats.seat_take(campaign.pk, now=now):
            return
        held = seats.entry_hold(campaign.pk, now=now)
        if held is None:
            raise _open_error(campaign_get(campaign.pk))
        if campaign.waitlist_enabled:
            raise _Retry(St.WAITLISTED)
        raise DomainError(CampaignError.FULL, capacity=campaign.capacity)
    held = seats.entry_hold(campaign.pk, now=now)
    if held is None:
        raise _open_error(campaign_get(campaign.pk))
    if status == St.WAITLISTED and not held.full:
        raise _Retry(St.CONFIRMED)  # a seat came free since the read: nobody waits while one is empty


def client_signal_hash(value: str | None, *, kind: str) -> str:
    """A client's IP or device id as stored: a keyed hash (personal data never at rest in clear)."""
    return crypto.blind_index(value, context=f"signup.{kind}") if value else ""


FORM_FILL_MS_MAX = 24 * 3600 * 1000


def _form_fill_ms(value: int | None) -> int | None:
    """A client's measure, so anything: kept only when it is a plausible duration (up to a day)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= FORM_FILL_MS_MAX:
        return value
    return None


def _stated_facts(profile: Profile, answers: dict[str, Any]) -> MemberFacts:
    """The member facts a sign-up request itself gave, and nothing stored (eligibility_explain)."""
    return MemberFacts(
        birth_date=profile.birth_date,
        gender=profile.gender or "unknown",
        region_code=profile.region_code or "",
        recent_participations=0,
        answers=answers,
    )


NOTICE_FOR_STATUS = {
    St.CONFIRMED: "signup_confirmed",
    St.WAITLISTED: "signup_waitlisted",
    St.PENDING_REVIEW: "signup_pending_review",
    St.REGISTERED: "signup_registered",
}


def _already_in(campaign_id: int, member_id: int) -> DomainError:
    """The refusal for a member who holds a blocking sign-up: "already signed up" is wrong for one
    whose sign-up was rejected or not drawn, so they get their own code (a rare path: one more read)."""
    held = (
        Signup.objects.filter(campaign_id=campaign_id, member_id=member_id, status__in=BLOCKING_STATUSES)
        .values_list("status", flat=True)
        .first()
    )
    if held in (St.REJECTED, St.NOT_SELECTED):
        return DomainError(SignupError.PREVIOUSLY_REFUSED)
    return DomainError(SignupError.DUPLICATE)


def signup_create(
    *,
    campaign_id: int,
    identity: MemberIdentity,
    answers: dict[str, Any],
    source: Source,
    actor: Actor,
) -> Signup:
    """Sign a member up for a campaign on their behalf.

    Raises: campaign.not_found, campaign.not_open, campaign.channel_not_allowed, core.invalid (every
    failing answer), member.* identity errors, signup.duplicate, signup.ineligible (every reason),
    campaign.full."""
    campaign = campaign_get(campaign_id)
    now = timezone.now()
    _ensure_open(campaign, now)
    if source.channel not in campaign.channels:
        raise DomainError(
            CampaignError.CHANNEL_NOT_ALLOWED, channel=source.channel, channels=campaign.channels
        )
    cleaned = answers_validate(form_parse(campaign.form), answers)
    rules = eligibility_parse(campaign.eligibility)
    # Everything that only reads or computes happens before the write transaction: on SQLite that
    # transaction holds the database's single write lock, on PostgreSQL the campaign row's.
    prepared = member_prepare(
        phone=identity.phone,
        external_id=identity.external_id,
        profile=identity.profile,
        channel=source.channel,
    )
    known = prepared.member.pk is not None
    # A cheap early answer for the common retry; the unique constraint below is the guarantee.
    if known and row_exists(
        Signup, campaign_id=campaign.pk, member_id=prepared.member.pk, status=BLOCKING_STATUSES
    ):
        raise _already_in(campaign.pk, prepared.member.pk)
    limit = rules.participation_limit
    facts = member_facts(
        prepared.member,
        period_days=limit.period_days if limit else None,
        answers=cleaned,
        now=now,
        rules=rules,
        segment_ids=rules.segment_ids(),
    )
    today = timezone.localdate(now)
    reasons = eligibility_evaluate(rules, facts, today=today)
    if reasons:
        judged = [r.code for r in reasons]
        if not actor.can(Perm.SIGNUP_VIEW):
            reasons = eligibility_explain(rules, _stated_facts(identity.profile, cleaned), today=today)
        refusal = DomainError(SignupError.INELIGIBLE, reasons=[r.as_dict() for r in reasons])
        # The operators' record of refusals (services.refusals) counts the real reasons; the caller
        # is told only what its permission allows (above).
        refusal.judged_reasons = judged
        raise refusal
    # After eligibility, so a full campaign still tells a member what stands in their way (api.md §7).
    status = _entry_status(campaign)  # campaign.full here when it visibly is
    # The sign-up's public id is its row token too: the answers are bound to this row before it exists.
    public_id = signup_public_id()
    # Risk control after the cheap refusals, so a flash crowd at a full campaign costs it nothing; in
    # its own transaction, so an attempt it refuses is still counted. It never raises.
    verdict = risk_assess(_risk_input(campaign, prepared, identity, cleaned, source, public_id))
    if verdict.refuses:
        raise verdict.error()
    if verdict.action == Action.REVIEW and status != St.REGISTERED:
        status = St.PENDING_REVIEW  # a person looks first; a lottery entry is looked at before the draw
    answers_encrypted = crypto.encrypt(
        json.dumps(cleaned, ensure_ascii=False), context=_ANSWERS, row=public_id
    )
    # The seat count can move between the read above and the guard; at most twice in a row in
    # practice (confirmed -> waitlisted -> confirmed needs a seat freed in between).
    for _ in range(3):
        try:
            return _admit(
                campaign, prepared, status, (public_id, answers_encrypted), source, actor, now, verdict
            )
        except _Retry as retry:
            status = retry.status
    raise DomainError(CoreError.BUSY)


def _risk_input(
    campaign: Campaign,
    prepared: PreparedMember,
    identity: MemberIdentity,
    answers: dict[str, Any],
    source: Source,
    public_id: str,
) -> RiskInput:
    """What risk control reads of a sign-up: the client signals, the member's phone and any address
    the form asked for (hashed there, never stored in clear)."""
    addresses = [value for value in answers.values() if isinstance(value, dict) and "region_code" in value]
    address = f"{addresses[0]['region_code']}{addresses[0].get('detail', '')}" if addresses else None
    return RiskInput(
        entry=Entry.SIGNUP_CREATE,
        subject_type="signup",
        subject_ref=public_id,
        member_ref=member_risk_ref(prepared.member),
        ip=source.client_ip,
        device_id=source.device_id[:128],
        user_agent=source.user_agent[:300],
        form_fill_ms=_form_fill_ms(source.form_fill_ms),
        channel=source.channel,
        campaign_ref=str(campaign.pk),
        phone=identity.phone,
        address=address,
        challenge=source.risk_challenge[:64],
    )


def _admit(
    campaign: Campaign,
    prepared: PreparedMember,
    status: str,
    sealed_answers: tuple[str, str],
    source: Source,
    actor: Actor,
    now,
    verdict: Verdict,
) -> Signup:
    """One admission transaction: every insert first, the guard last, so the campaign row (the hot
    row) is locked only from the guard to the commit."""
    with transaction.atomic():
        member = member_commit(prepared)
        public_id, answers_encrypted = sealed_answers  # the answers are bound to this public id
        signup = Signup(
            campaign=campaign,  # the loaded row: presenting the sign-up needs no second query
            member=member,
            status=status,
            public_id=public_id,
            answers_encrypted=answers_encrypted,
            channel=source.channel,
            utm_source=source.utm_source[:100],
            utm_medium=source.utm_medium[:100],
            utm_campaign=source.utm_campaign[:100],
            client_ip_hash=client_signal_hash(source.client_ip, kind="client_ip"),
            device_id_hash=client_signal_hash(source.device_id[:128], kind="device_id"),
            user_agent=source.user_agent[:300],
            form_fill_ms=_form_fill_ms(source.form_fill_ms),
            # Operators see why a sign-up of an automatic campaign waits for them.
            status_note="risk review"
            if status == St.PENDING_REVIEW and verdict.action == Action.REVIEW
            else "",
        )
        try:
            row_insert(signup)  # no savepoint: on a conflict the whole transaction is abandoned
        except IntegrityError as exc:
            # The same member raced us: the database constraint is the final word.
            raise DomainError(SignupError.DUPLICATE) from exc
        event_record(signup, from_status="", to_status=status, actor=actor)
        notice_signup(signup, campaign, NOTICE_FOR_STATUS[status])
        _guard(campaign, status, now)
        if status == St.CONFIRMED:  # after the guard: the campaign row is locked before the member's points
            signup_announce(signup, ActivityKind.SIGNUP_CONFIRMED)
    return signup


def _move(
    signup: Signup, *, to: str, allowed_from: set[str], actor: Actor, reason: str = "", note: str = ""
) -> str:
    """Move a sign-up from its current status; a conditional UPDATE, so of two concurrent moves only
    one wins and the loser gets signup.invalid_transition. Returns the status it left.
    `reason` is member-facing; `note` is internal (operators only, never sent)."""
    current = signup.status
    if current not in allowed_from:
        raise DomainError(SignupError.INVALID_TRANSITION, status=current, to=to)
    now = timezone.now()
    moved = Signup.objects.filter(pk=signup.pk, status=current).update(
        status=to, status_reason=reason[:500], status_note=note[:1000], updated_at=now
    )
    if not moved:
        signup.refresh_from_db(fields=["status"])
        raise DomainError(SignupError.INVALID_TRANSITION, status=signup.status, to=to)
    signup.status, signup.status_reason, signup.status_note, signup.updated_at = (
        to,
        reason[:500],
        note[:1000],
        now,
    )
    event_record(signup, from_status=current, to_status=to, actor=actor, reason=reason, note=note)
    if to == St.CONFIRMED:  # approved, or promoted from the waiting list
        signup_announce(signup, ActivityKind.SIGNUP_CONFIRMED)
    return current


def _waitlist_next(campaign_id: int):
    return Signup.objects.filter(campaign_id=campaign_id, status=St.WAITLISTED).order_by(
        "waitlist_rank", "id"
    )


def _seat_released(campaign: Campaign, *, actor: Actor) -> Signup | None:
    """A confirmed sign-up left: hand its seat straight to the head of the waiting list (the seat
    count does not change, so no newcomer can slip in between), or give the seat back.

    The caller holds the campaign row's lock (seats.campaign_lock): a sign-up joining the waiting list
    concurrently either committed before (and is seen here) or waits, then finds the seat free."""
    if campaign.status in SEATED_STATUSES:
        for candidate in _waitlist_next(campaign.pk)[:20]:
            try:
                _move(candidate, to=St.CONFIRMED, allowed_from={St.WAITLISTED}, actor=actor, note="promoted")
            except DomainError:
                continue  # withdrawn meanwhile: try the next
            notice_signup(candidate, campaign, "signup_promoted")
            return candidate
    seats.seat_release(campaign.pk)
    return None


def waitlist_fill(*, campaign: Campaign, actor: Actor) -> int:
    """Promote waiting sign-ups into free seats (after capacity grew). The caller holds the campaign
    row's lock in its transaction."""
    promoted = 0
    for candidate in _waitlist_next(campaign.pk):
        if not seats.seats_take(campaign.pk):
            break
        _move(candidate, to=St.CONFIRMED, allowed_from={St.WAITLISTED}, actor=actor, note="promoted")
        notice_signup(candidate, campaign, "signup_promoted")
        promoted += 1
    return promoted


def _locked_signup(campaign_id: int, signup_id: int) -> Signup:
    """Lock the campaign row (first, as every change to its sign-ups does), then read the sign-up.

    Raises: signup.not_found."""
    seats.campaign_lock(campaign_id)
    return signup_get(campaign_id=campaign_id, signup_id=signup_id)


def signup_confirm(
    *, campaign_id: int, signup_id: int, actor: Actor, reason: str = "", note: str = ""
) -> Signup:
    """Approve a sign-up waiting for review: it takes a seat, or joins the waiting list when full.
    Review goes on after sign-up closes, but not once the campaign is cancelled or finished.
    `reason` (optional) is told to the member; `note` is kept for operators ("approved" when blank).

    Raises: signup.not_found, signup.invalid_transition, campaign.full."""
    reason, note = scrub_personal(reason), scrub_personal(note)  # operators read them without a reveal
    with transaction.atomic():
        signup = _locked_signup(campaign_id, signup_id)
        campaign = signup.campaign
        if signup.status != St.PENDING_REVIEW:  # an erased member's waiting sign-ups are withdrawn
            raise DomainError(SignupError.INVALID_TRANSITION, status=signup.status, to=St.CONFIRMED)
        if seats.seats_take(campaign.pk):
            to = St.CONFIRMED
        elif campaign.waitlist_enabled and campaign.status in SEATED_STATUSES:
            to = St.WAITLISTED
        elif campaign.status not in SEATED_STATUSES:
            raise DomainError(SignupError.INVALID_TRANSITION, status=signup.status, to=St.CONFIRMED)
        else:
            raise DomainError(CampaignError.FULL, capacity=campaign.capacity)
        note = note.strip()
        _move(
            signup,
            to=to,
            allowed_from={St.PENDING_REVIEW},
            actor=actor,
            reason=reason,
            note=note or "approved",
        )
        notice_signup(signup, campaign, NOTICE_FOR_STATUS[to], reason=reason)
        after = {"status": to, "note": note} if note else {"status": to}
        case_close_for(subject_type="signup", subject_ref=signup.public_id, approve=True, actor=actor)
        audit_record(actor=actor, action="signup.confirm", object_type="signup", object_id=signup.pk, before={"status": St.PENDING_REVIEW}, after=after, reason=reason)  # fmt: skip
    return signup


def _leave(
    campaign_id: int,
    signup_id: int,
    *,
    to: str,
    allowed_from: set[str],
    actor: Actor,
    reason: str,
    note: str,
) -> Signup:
    """End a sign-up. `reason` goes to the member; `note` stays with operators (sign-up and event)."""
    reason, note = scrub_personal(reason), scrub_personal(note)  # operators read them without a reveal
    if not reason.strip():
        raise DomainError(SignupError.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        signup = _locked_signup(campaign_id, signup_id)
        if signup.campaign.status not in SEATED_STATUSES:  # finished or cancelled: history is final
            raise DomainError(SignupError.INVALID_TRANSITION, status=signup.status, to=to)
        left = _move(signup, to=to, allowed_from=allowed_from, actor=actor, reason=reason, note=note)
        if to == St.REJECTED:
            case_close_for(subject_type="signup", subject_ref=signup.public_id, approve=False, actor=actor)
        audit_record(actor=actor, action=f"signup.{'reject' if to == St.REJECTED else 'withdraw'}", object_type="signup", object_id=signup.pk, before={"status": left}, after={"status": to, "note": note}, reason=reason)  # fmt: skip
        notice_cancel_reminder(signup)
        notice_signup(
            signup,
            signup.campaign,
            "signup_rejected" if to == St.REJECTED else "signup_withdrawn",
            reason=reason,  # the member-facing reason only: the note is never sent
        )
        if left == St.CONFIRMED:
            _seat_released(signup.campaign, actor=actor)
            signup_announce(signup, ActivityKind.SIGNUP_LEFT)  # its sign-up points are taken back
    return signup


def signup_reject(*, campaign_id: int, signup_id: int, actor: Actor, reason: str, note: str = "") -> Signup:
    """Refuse a sign-up (also a confirmed one later found false); its seat goes to the waiting list.
    The member is told `reason`; `note` (why, for colleagues) is kept for operators only.

    Raises: signup.reason_required, signup.not_found, signup.invalid_transition."""
    allowed = {St.PENDING_REVIEW, St.CONFIRMED, St.WAITLISTED, St.REGISTERED}
    return _leave(
        campaign_id, signup_id, to=St.REJECTED, allowed_from=allowed, actor=actor, reason=reason, note=note
    )


def signup_withdraw(*, campaign_id: int, signup_id: int, actor: Actor, reason: str, note: str = "") -> Signup:
    """The member (or an operator for them) cancels; a confirmed seat goes to the waiting list.
    The member is told `reason`; `note` is kept for operators only.

    Raises: signup.reason_required, signup.not_found, signup.invalid_transition."""
    allowed = {St.PENDING_REVIEW, St.CONFIRMED, St.WAITLISTED, St.REGISTERED}
    return _leave(
        campaign_id, signup_id, to=St.WITHDRAWN, allowed_from=allowed, actor=actor, reason=reason, note=note
    )


def signup_risk_outcome(decision, approve: bool, actor: Actor) -> str:
    """What a risk case's decision does to its sign-up (registered with risk control): approving
    confirms one waiting for review, rejecting refuses it. A sign-up that moved meanwhile (withdrawn,
    decided on the campaign's page) is left as it is, and the case says so."""
    found = (
        Signup.objects.filter(public_id=decision.subject_ref)
        .values_list("campaign_id", "pk", "status")
        .first()
    )
    if found is None:
        return "no sign-up was made (the attempt was refused)"
    campaign_id, signup_id, status = found
    if approve and status == St.PENDING_REVIEW:
        signup_confirm(campaign_id=campaign_id, signup_id=signup_id, actor=actor, note="risk review approved")
        return "sign-up confirmed"
    if not approve and status in (St.PENDING_REVIEW, St.CONFIRMED, St.WAITLISTED, St.REGISTERED):
        reason = gettext("Your sign-up did not pass the campaign's fairness review.")
        signup_reject(
            campaign_id=campaign_id,
            signup_id=signup_id,
            actor=actor,
            reason=reason,
            note="risk review rejected",
        )
        return "sign-up rejected"
    return f"sign-up left as {status}"
