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
)
from yunying.campaigns.questions import answers_validate, form_parse
from yunying.campaigns.seats import Admit
from yunying.campaigns.selectors import campaign_get, member_facts, signup_get
from yunying.campaigns.services.events import event_record
from yunying.campaigns.services.notices import notice_cancel_reminder, notice_signup
from yunying.core import crypto
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor, Perm
from yunying.core.rows import row_exists, row_insert
from yunying.members.services import Profile, member_commit, member_prepare

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


def answers_read(signup: Signup) -> dict[str, Any]:
    """The clear answers; callers showing them to a person mask or log (they may hold phone/address)."""
    if not signup.answers_encrypted:
        return {}
    return json.loads(crypto.decrypt(signup.answers_encrypted, context=_ANSWERS))


def _ensure_open(campaign: Campaign, now) -> None:
    if campaign.status != CampaignStatus.PUBLISHED or not (
        campaign.signup_start_at <= now < campaign.signup_end_at
    ):
        raise DomainError(
            CampaignError.NOT_OPEN,
            status=campaign.status,
            signup_start_at=campaign.signup_start_at.isoformat(),
            signup_end_at=campaign.signup_end_at.isoformat(),
        )


def _visibly_full(campaign: Campaign) -> bool:
    first_come = (
        campaign.admission_mode == AdmissionMode.FIRST_COME and campaign.review_mode == ReviewMode.AUTO
    )
    if not first_come or campaign.waitlist_enabled:
        return False
    return seats.ledger().looks_full(campaign)


def _admit(campaign: Campaign, member_id: int) -> tuple[Admit, str]:
    """Take a seat (or a place in the queue) on the active ledger; return it with the entry status.

    Raises: campaign.full, signup.duplicate (the Redis ledger knows holders)."""
    if campaign.admission_mode == AdmissionMode.LOTTERY:
        want, entry = Admit.ENTRY, St.REGISTERED
    elif campaign.review_mode == ReviewMode.MANUAL:
        want, entry = Admit.ENTRY, St.PENDING_REVIEW
    else:
        want, entry = Admit.SEAT, ""
    admitted = seats.ledger().admit(campaign, member_id, want=want)
    if admitted == Admit.FULL:
        raise DomainError(CampaignError.FULL, capacity=campaign.capacity)
    if admitted == Admit.DUPLICATE:
        raise DomainError(SignupError.DUPLICATE)
    status = {Admit.SEAT: St.CONFIRMED, Admit.WAIT: St.WAITLISTED}.get(admitted, entry)
    return admitted, status


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
        raise DomainError(SignupError.DUPLICATE)
    # A campaign visibly full refuses at once: under a flash crowd most requests end here, before
    # any write. The read may be a moment old, but only a seat freed meanwhile can make it wrong.
    if _visibly_full(campaign):
        raise DomainError(CampaignError.FULL, capacity=campaign.capacity)
    limit = rules.participation_limit
    facts = member_facts(
        prepared.member, period_days=limit.period_days if limit else None, answers=cleaned, now=now
    )
    today = timezone.localdate(now)
    reasons = eligibility_evaluate(rules, facts, today=today)
    if reasons:
        if not actor.can(Perm.SIGNUP_VIEW):
            reasons = eligibility_explain(rules, _stated_facts(identity.profile, cleaned), today=today)
        raise DomainError(SignupError.INELIGIBLE, reasons=[r.as_dict() for r in reasons])
    answers_encrypted = crypto.encrypt(json.dumps(cleaned, ensure_ascii=False), context=_ANSWERS)
    with transaction.atomic():
        member = member_commit(prepared)
        admitted, status = _admit(campaign, member.pk)
        try:
            signup = Signup(
                campaign=campaign,  # the loaded row: presenting the sign-up needs no second query
                member=member,
                status=status,
                answers_encrypted=answers_encrypted,
                channel=source.channel,
                utm_source=source.utm_source[:100],
                utm_medium=source.utm_medium[:100],
                utm_campaign=source.utm_campaign[:100],
                client_ip=source.client_ip,
                device_id=source.device_id[:128],
                user_agent=source.user_agent[:300],
            )
            try:
                row_insert(signup)  # no savepoint: on a conflict the whole transaction is abandoned
            except IntegrityError as exc:
                # The same member raced us: the database constraint is the final word.
                raise DomainError(SignupError.DUPLICATE) from exc
            event_record(signup, from_status="", to_status=status, actor=actor)
            notice_signup(signup, campaign, NOTICE_FOR_STATUS[status])
        except BaseException:
            # The seat must not outlive a write that did not happen (a no-op after the rollback
            # on the database ledger; an immediate give-back on Redis).
            seats.ledger().undo_admit(campaign.pk, member.pk, admitted)
            raise
    return signup


def _move(signup: Signup, *, to: str, allowed_from: set[str], actor: Actor, reason: str = "") -> str:
    """Move a sign-up from its current status; a conditional UPDATE, so of two concurrent moves only
    one wins and the loser gets signup.invalid_transition. Returns the status it left."""
    current = signup.status
    if current not in allowed_from:
        raise DomainError(SignupError.INVALID_TRANSITION, status=current, to=to)
    now = timezone.now()
    moved = Signup.objects.filter(pk=signup.pk, status=current).update(
        status=to, status_reason=reason[:500], updated_at=now
    )
    if not moved:
        signup.refresh_from_db(fields=["status"])
        raise DomainError(SignupError.INVALID_TRANSITION, status=signup.status, to=to)
    signup.status, signup.status_reason, signup.updated_at = to, reason[:500], now
    event_record(signup, from_status=current, to_status=to, actor=actor, reason=reason)
    return current


def _waitlist_next(campaign_id: int):
    return Signup.objects.filter(campaign_id=campaign_id, status=St.WAITLISTED).order_by(
        "waitlist_rank", "id"
    )


def _seat_released(campaign: Campaign, leaver: Signup, *, actor: Actor) -> Signup | None:
    """A confirmed sign-up left: hand its seat straight to the head of the waiting list (the seat
    count does not change, so no newcomer can slip in between), or give the seat back."""
    for candidate in _waitlist_next(campaign.pk)[:20]:
        try:
            _move(candidate, to=St.CONFIRMED, allowed_from={St.WAITLISTED}, actor=actor, reason="promoted")
        except DomainError:
            continue  # withdrawn meanwhile: try the next
        notice_signup(candidate, campaign, "signup_promoted")
        seats.ledger().leave(campaign.pk, leaver.member_id, release_seat=False)
        return candidate
    seats.ledger().leave(campaign.pk, leaver.member_id, release_seat=True)
    return None


def waitlist_fill(*, campaign: Campaign, actor: Actor) -> int:
    """Promote waiting sign-ups into free seats (after capacity grew). Caller holds a transaction."""
    promoted = 0
    ledger = seats.ledger()
    for candidate in _waitlist_next(campaign.pk):
        if not ledger.take(campaign.pk):
            break
        try:
            _move(candidate, to=St.CONFIRMED, allowed_from={St.WAITLISTED}, actor=actor, reason="promoted")
        except DomainError:
            ledger.undo_take(campaign.pk)
            continue
        notice_signup(candidate, campaign, "signup_promoted")
        promoted += 1
    return promoted


def signup_confirm(*, campaign_id: int, signup_id: int, actor: Actor) -> Signup:
    """Approve a sign-up waiting for review: it takes a seat, or joins the waiting list when full.

    Raises: signup.not_found, signup.invalid_transition, campaign.full."""
    with transaction.atomic():
        signup = signup_get(campaign_id=campaign_id, signup_id=signup_id)
        campaign = signup.campaign
        if signup.status != St.PENDING_REVIEW:
            raise DomainError(SignupError.INVALID_TRANSITION, status=signup.status, to=St.CONFIRMED)
        ledger = seats.ledger()
        took = ledger.take(campaign.pk)
        if took:
            to = St.CONFIRMED
        elif campaign.waitlist_enabled:
            to = St.WAITLISTED
        else:
            raise DomainError(CampaignError.FULL, capacity=campaign.capacity)
        try:
            _move(signup, to=to, allowed_from={St.PENDING_REVIEW}, actor=actor, reason="approved")
            notice_signup(signup, campaign, NOTICE_FOR_STATUS[to])
        except BaseException:
            if took:
                ledger.undo_take(campaign.pk)
            raise
    return signup


def _leave(
    campaign_id: int, signup_id: int, *, to: str, allowed_from: set[str], actor: Actor, reason: str
) -> Signup:
    if not reason.strip():
        raise DomainError(SignupError.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        signup = signup_get(campaign_id=campaign_id, signup_id=signup_id)
        left = _move(signup, to=to, allowed_from=allowed_from, actor=actor, reason=reason)
        notice_cancel_reminder(signup)
        notice_signup(
            signup,
            signup.campaign,
            "signup_rejected" if to == St.REJECTED else "signup_withdrawn",
            reason=reason,
        )
        if left == St.CONFIRMED:
            _seat_released(signup.campaign, signup, actor=actor)
        else:
            seats.ledger().leave(campaign_id, signup.member_id, release_seat=False)
    return signup


def signup_reject(*, campaign_id: int, signup_id: int, actor: Actor, reason: str) -> Signup:
    """Refuse a sign-up (also a confirmed one later found false); its seat goes to the waiting list.

    Raises: signup.reason_required, signup.not_found, signup.invalid_transition."""
    allowed = {St.PENDING_REVIEW, St.CONFIRMED, St.WAITLISTED, St.REGISTERED}
    return _leave(campaign_id, signup_id, to=St.REJECTED, allowed_from=allowed, actor=actor, reason=reason)


def signup_withdraw(*, campaign_id: int, signup_id: int, actor: Actor, reason: str) -> Signup:
    """The member (or an operator for them) cancels; a confirmed seat goes to the waiting list.

    Raises: signup.reason_required, signup.not_found, signup.invalid_transition."""
    allowed = {St.PENDING_REVIEW, St.CONFIRMED, St.WAITLISTED, St.REGISTERED}
    return _leave(campaign_id, signup_id, to=St.WITHDRAWN, allowed_from=allowed, actor=actor, reason=reason)
