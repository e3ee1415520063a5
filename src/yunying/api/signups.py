"""Sign-ups: create on behalf of a member, list, review actions, export (CSV / XLSX)."""

from datetime import datetime
from functools import wraps
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BaseModel, ConfigDict, IPvAnyAddress

from yunying.api.params import (
    CampaignId,
    Day,
    Pages,
    SignupId,
    SignupRef,
    optional_body,
    optional_body_schema,
)
from yunying.campaigns import exports, selectors
from yunying.campaigns.errors import EligibilityReason, SignupError
from yunying.campaigns.metrics import admission_timer
from yunying.campaigns.models import Channel, SignupStatus
from yunying.campaigns.presenters import PresentedPage, signup_present, signups_present
from yunying.campaigns.services import admission, attendance, refusals
from yunying.core import crypto
from yunying.core.alerts import alert_raise
from yunying.core.errors import DomainError
from yunying.core.idempotency import idempotent, replay_if_answered
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.core.purposes import Purpose, reveal_authorize
from yunying.core.ratelimit import client_key, ratelimit_check, ratelimit_count, ratelimit_hit
from yunying.members.errors import MemberError
from yunying.members.models import Gender
from yunying.members.services import Profile
from yunying.privacy.exports import Scope, approved_reveal, watermark

router = Router(tags=["sign-ups"])


# The sign-up's own schemas are plain pydantic models: ninja.Schema wraps every input in an ORM
# attribute getter, which these dicts never need and which cost ~5 % of a sign-up's CPU.
class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    phone: Annotated[str, Field(min_length=3, max_length=32)] | None = None
    external_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    gender: Gender | None = None
    birth_date: Day | None = None
    region_code: Annotated[str, Field(pattern=r"^\d{6}$")] | None = None


class UtmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    source: Annotated[str, Field(max_length=100)] = ""
    medium: Annotated[str, Field(max_length=100)] = ""
    campaign: Annotated[str, Field(max_length=100)] = ""


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    ip: IPvAnyAddress | None = None
    device_id: Annotated[str, Field(max_length=128)] = ""
    user_agent: Annotated[str, Field(max_length=300)] = ""
    # How long the member took over the form, as the storefront measured it (risk control, R1).
    form_fill_ms: Annotated[int, Field(strict=True, ge=0, le=86_400_000)] | None = None


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    member: MemberIn
    answers: dict[str, Any] = {}
    channel: Channel
    utm: UtmIn = UtmIn()
    # After a 428 risk.challenge_required: the challenge's token, once the storefront has verified the
    # person and reported it (POST /api/v1/risk/challenges/{token}/pass).
    risk_challenge: Annotated[str, Field(max_length=64)] = ""
    client: ClientIn = ClientIn()


class SignupMemberOut(BaseModel):
    id: int
    phone: str | None
    name: str
    gender: str
    region_code: str


class SignupOut(BaseModel):
    id: int
    public_id: str = Field(description="The sign-up's handle for integrators (random, not guessable)")
    campaign_id: int
    status: str
    status_reason: str = Field(description="Why it is in this status, as the member was told")
    status_note: str | None = Field(
        description="The internal note of the last review action: callers with signup.view only, else null"
    )
    member: SignupMemberOut | None = Field(
        None, description="Callers with signup.view only (masked unless revealed); absent for others"
    )
    answers: dict[str, Any] | None = Field(None, description="As `member`: callers with signup.view only")
    channel: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    waitlist_rank: int
    waitlist_position: int | None = Field(
        description="While waitlisted: the live place in line (1 = promoted next); otherwise null"
    )
    created_at: datetime
    updated_at: datetime


class SignupFilters(Schema):
    status: SignupStatus | None = None
    channel: Channel | None = None
    reveal: bool = Field(
        False,
        description="Show personal data in clear: one sign-up needs pii.reveal; a list or an export "
        "pii.reveal_bulk and a second operator's approval (`approval`, two-person rule: POST "
        "/privacy/export-approvals), and raises an alert. Logged with the purpose.",
    )
    approval: int | None = Field(
        None,
        ge=1,
        le=2**63 - 1,
        description="A list or an export in clear: the approved export approval whose scope this is "
        "(campaign, format — list, csv, xlsx — and filters); its purpose is the one logged. Refused with "
        "403 export.approval_required, export.not_requester, export.not_approved, export.approval_used, "
        "export.approval_expired or export.scope_mismatch; 404 export.approval_not_found.",
    )
    purpose: Purpose | None = Field(None, description="Why the data is revealed (required with reveal)")
    purpose_note: Annotated[str, Field(max_length=200)] = Field("", description="Optional detail, logged")


class ExportFilters(SignupFilters):
    format: Annotated[str, Field(pattern="^(csv|xlsx)$")] = "csv"


def _reveal(request, filters: SignupFilters, *, bulk: bool, **what) -> str | None:
    """The purpose as logged when the caller asked to reveal and may (PIPL purpose limitation, S4),
    else None. Raises: core.permission_denied, core.invalid."""
    if not filters.reveal:
        return None
    return reveal_authorize(
        request.auth, purpose=filters.purpose, note=filters.purpose_note, bulk=bulk, **what
    )


def _bulk_reveal(request, filters: SignupFilters, *, campaign_id: int, fmt: str):
    """(approval, purpose as logged) for a list or an export in clear, (None, None) masked: the
    two-person rule (privacy.exports). Raises: core.permission_denied, export.*."""
    if not filters.reveal:
        return None, None
    scope = Scope(campaign_id, fmt, str(filters.status or ""), str(filters.channel or ""))
    return approved_reveal(actor=request.auth, approval_id=filters.approval, scope=scope)


# Refusals whose answer depends on a member the platform knows: a key posting candidate phone numbers
# learns from them which ones are members (S3). Counted per key, with a limit far below the request
# limit; reaching it raises an alert. Only what stored data decided counts — the generic
# `eligibility.not_met`, identifiers that do not match — and only for keys that may not view sign-ups:
# a refusal explained by what the request itself stated (an age-restricted campaign's rush of
# under-age members) tells nothing, and must not lock a storefront's one key; nor do duplicates or a
# full or closed campaign.
IDENTITY_REFUSALS = frozenset({MemberError.IDENTITY_CONFLICT, MemberError.IDENTITY_MISMATCH})


def _from_stored_data(actor, refusal: DomainError) -> bool:
    if actor.can(Perm.SIGNUP_VIEW):
        return False
    if refusal.code in IDENTITY_REFUSALS:
        return True
    reasons = refusal.data.get("reasons", []) if refusal.code == SignupError.INELIGIBLE else []
    return any(reason.get("code") == EligibilityReason.NOT_MET for reason in reasons)


def _refusals_limited(func):
    """Outermost on the sign-up handler: it sees the refusal after any transaction has ended, so
    the alert row and the refusal record (the console's monitor) are never rolled back with the
    refused work."""

    @wraps(func)
    def wrapper(request, *args, **kwargs):
        actor = request.auth
        caller, limit = f"{actor.kind}:{actor.id}", settings.RATE_LIMITS["signup_refusals_key"]
        try:
            ratelimit_check(scope="signup_refusals", key=caller, limit=limit)
        except DomainError:
            # A retry of a sign-up already answered learns nothing new: it still gets its answer.
            replayed = replay_if_answered(request)
            if replayed is None:
                raise
            return replayed
        try:
            return func(request, *args, **kwargs)
        except DomainError as refusal:
            payload = kwargs.get("payload")
            refusals.signup_refusal_record(
                campaign_id=kwargs.get("campaign_id"),
                refusal=refusal,
                channel=getattr(payload, "channel", ""),
            )
            if (
                _from_stored_data(actor, refusal)
                and ratelimit_count(scope="signup_refusals", key=caller) == limit
            ):
                alert_raise(
                    "signup.refusal_burst",
                    actor=caller,
                    actor_label=actor.label,
                    role=str(actor.role or ""),
                    limit_per_minute=limit,
                    campaign_id=kwargs.get("campaign_id"),
                )
            raise

    return wrapper


def _member_key(member: MemberIn) -> str:
    """A keyed digest naming the member of a request for the per-member limit; the counter store
    never holds a phone number or anything a dictionary of numbers could reverse."""
    if member.phone:
        digits = "".join(c for c in member.phone if ascii_digits(c))[-11:]
        return crypto.blind_index(digits, context="ratelimit.member_phone")
    return crypto.blind_index(member.external_id or "", context="ratelimit.member_external_id")


@router.post(
    "/{int:campaign_id}/signups", response={201: SignupOut}, summary="Sign a member up", exclude_unset=True
)
@_refusals_limited
@idempotent
def create_signup(request, campaign_id: CampaignId, payload: SignupIn):
    request.auth.require(Perm.SIGNUP_CREATE)
    with admission_timer() as admitted:  # yunying_signups_total, yunying_admission_seconds
        client_ip = str(payload.client.ip) if payload.client.ip else None
        if client_ip:  # one member's device hammering a campaign through the storefront (S7, R1)
            ratelimit_hit(
                scope=f"signup_ip:{campaign_id}",
                key=client_key(client_ip),
                limit=settings.RATE_LIMITS["signup_client_ip"],
            )
        m = payload.member
        if m.phone or m.external_id:  # one member (or a script posing as one) hammering any campaign
            ratelimit_hit(
                scope="signup_member", key=_member_key(m), limit=settings.RATE_LIMITS["signup_member"]
            )
        signup = admission.signup_create(
            campaign_id=campaign_id,
            identity=admission.MemberIdentity(
                phone=m.phone,
                external_id=m.external_id,
                profile=Profile(
                    name=m.name,
                    email=m.email,
                    gender=m.gender,
                    birth_date=m.birth_date,
                    region_code=m.region_code,
                ),
            ),
            answers=payload.answers,
            source=admission.Source(
                channel=payload.channel,
                utm_source=payload.utm.source,
                utm_medium=payload.utm.medium,
                utm_campaign=payload.utm.campaign,
                client_ip=client_ip,
                device_id=payload.client.device_id,
                user_agent=payload.client.user_agent,
                form_fill_ms=payload.client.form_fill_ms,
                risk_challenge=payload.risk_challenge,
            ),
            actor=request.auth,
        )
        admitted.code = signup.status
    # Validated once, by the response schema; a key without signup.view gets no personal data back.
    return Status(201, signup_present(signup, reveal=False, personal=_operator(request)))


@router.get("/{int:campaign_id}/signups", response=list[SignupOut], summary="List sign-ups (masked)")
@paginate(Pages)
def list_signups(request, campaign_id: CampaignId, filters: Query[SignupFilters]):
    request.auth.require(Perm.SIGNUP_VIEW)
    selectors.campaign_get(campaign_id)
    purpose = _bulk_reveal(request, filters, campaign_id=campaign_id, fmt="list")[1]
    rows = selectors.signup_list(campaign_id=campaign_id, status=filters.status, channel=filters.channel)
    return PresentedPage(rows, reveal=purpose is not None, actor=request.auth, purpose=purpose or "")


@router.get(
    "/{int:campaign_id}/signups/export", response={200: None}, summary="Export sign-ups (CSV or XLSX)"
)
def export_signups(request, campaign_id: CampaignId, filters: Query[ExportFilters]):
    request.auth.require(Perm.SIGNUP_EXPORT)
    campaign = selectors.campaign_get(campaign_id)
    approval, purpose = _bulk_reveal(request, filters, campaign_id=campaign_id, fmt=filters.format)
    reveal = purpose is not None
    rows = selectors.signup_list(campaign_id=campaign_id, status=filters.status, channel=filters.channel)
    export = exports.signups_export(
        campaign,
        rows,
        fmt=filters.format,
        reveal=reveal,
        actor=request.auth,
        purpose=purpose or "",
        watermark=watermark(approval) if approval is not None else "",
    )
    response_class = StreamingHttpResponse if export.streaming else HttpResponse
    response = response_class(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@router.get("/{int:campaign_id}/signups/{int:signup_id}", response=SignupOut, summary="Get a sign-up")
def get_signup(request, campaign_id: CampaignId, signup_id: SignupId, filters: Query[SignupFilters]):
    request.auth.require(Perm.SIGNUP_VIEW)
    purpose = _reveal(request, filters, bulk=False)  # one member
    signup = selectors.signup_get(campaign_id=campaign_id, signup_id=signup_id)
    return signups_present([signup], reveal=purpose is not None, actor=request.auth, purpose=purpose or "")[0]


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    reason: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="Member-facing: sent to the member in the notice"
    )
    note: Annotated[str, Field(max_length=1000)] = Field(
        "", description="Internal: kept on the sign-up and its history for operators, never sent"
    )


class ConfirmIn(Schema):
    """Optional, as the console's approval: a welcome for the member and a note for colleagues."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=500)] = Field("", description="Member-facing: sent in the notice")
    note: Annotated[str, Field(max_length=1000)] = Field(
        "", description="Internal: for operators, never sent"
    )


class AttendanceIn(Schema):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="The check-in code of the member's ticket (any case; spaces and dashes ignored)"
    )


class AttendanceOut(Schema):
    signup_id: int
    campaign_id: int
    attended_at: datetime


def _operator(request) -> bool:
    """Internal notes are for callers who may view sign-ups, not for the storefront."""
    return request.auth.can(Perm.SIGNUP_VIEW)


@router.post(
    "/{int:campaign_id}/signups/{int:signup_id}/confirm",
    response=SignupOut,
    summary="Approve (review)",
    openapi_extra=optional_body_schema(ConfirmIn),
)
def confirm_signup(request, campaign_id: CampaignId, signup_id: SignupId):
    request.auth.require(Perm.SIGNUP_REVIEW)
    payload = optional_body(request, ConfirmIn)
    signup = admission.signup_confirm(
        campaign_id=campaign_id,
        signup_id=signup_id,
        actor=request.auth,
        reason=payload.reason,
        note=payload.note,
    )
    return signup_present(signup, reveal=False, internal=_operator(request))


@router.post(
    "/{int:campaign_id}/signups/{int:signup_id}/reject", response=SignupOut, summary="Reject with a reason"
)
def reject_signup(request, campaign_id: CampaignId, signup_id: SignupId, payload: ReasonIn):
    request.auth.require(Perm.SIGNUP_REVIEW)
    signup = admission.signup_reject(
        campaign_id=campaign_id,
        signup_id=signup_id,
        actor=request.auth,
        reason=payload.reason,
        note=payload.note,
    )
    return signup_present(signup, reveal=False, internal=_operator(request))


@router.post(
    "/{int:campaign_id}/attendance",
    response=AttendanceOut,
    summary="Check a member in by their ticket's code (C10)",
)
def mark_attendance(request, campaign_id: CampaignId, payload: AttendanceIn):
    """The same check-in as the console's door page: once per sign-up, confirmed sign-ups of this
    campaign only, limited per caller (codes and, more tightly, misses)."""
    signup = attendance.attendance_mark(
        checkin_code=payload.code, campaign_id=campaign_id, actor=request.auth
    )
    return {"signup_id": signup.pk, "campaign_id": signup.campaign_id, "attended_at": signup.attended_at}


class MemberRefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[str, Field(min_length=3, max_length=32)] | None = None
    external_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class WithdrawIn(ReasonIn):
    member: MemberRefIn | None = Field(
        None, description="The member withdrawing: required for callers without signup.view, and must match"
    )


@router.post(
    "/{int:campaign_id}/signups/{signup_id}/withdraw",
    response=SignupOut,
    summary="Withdraw: operators by id or public id; the storefront by public id and the member",
    exclude_unset=True,
)
def withdraw_signup(request, campaign_id: CampaignId, signup_id: SignupRef, payload: WithdrawIn):
    """`signup_id`: the sequential id (operators) or the public id `su_…` (anyone withdrawing)."""
    signup_ref = signup_id
    request.auth.require(Perm.SIGNUP_WITHDRAW)
    operator = _operator(request)
    m = payload.member or MemberRefIn()
    if ascii_digits(signup_ref):
        # Sequential ids are the operators' handle: a storefront counting through them must not reach
        # anyone's sign-up.
        if not operator:
            raise DomainError(SignupError.NOT_FOUND)
        signup_id = int(signup_ref)
    elif operator and not (m.phone or m.external_id):
        signup_id = selectors.signup_by_public_id(campaign_id=campaign_id, public_id=signup_ref).pk
    else:  # the storefront acts for one member: the sign-up must be theirs, else a 404 like any other
        signup_id = selectors.signup_of_member(
            campaign_id=campaign_id, public_id=signup_ref, phone=m.phone, external_id=m.external_id
        ).pk
    signup = admission.signup_withdraw(
        campaign_id=campaign_id,
        signup_id=signup_id,
        actor=request.auth,
        reason=payload.reason,
        note=payload.note,
    )
    return signup_present(signup, reveal=False, internal=operator, personal=operator)
