"""Members: support's look-up by phone or external id, profile corrections, and the storefront's
read of its member's sign-up status.

Look-ups are POSTs with the phone in the body, not GETs with it in the query string: URLs are written
to proxy and server access logs, browser histories and monitoring tools, where a phone number — personal
data under PIPL — must not end up; request bodies are not logged."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Router, Schema
from pydantic import BaseModel, ConfigDict, model_validator

from yunying.api.params import CampaignId, Day, MemberId
from yunying.campaigns import selectors
from yunying.core.permissions import Perm
from yunying.core.purposes import Purpose, reveal_authorize
from yunying.members import services as members
from yunying.members.models import Gender

router = Router(tags=["members"])
status_router = Router(tags=["sign-ups"])


class IdentityIn(BaseModel):
    """Exactly one of phone and external id: two would let a caller probe whether they belong together.
    The schema says so too (oneOf), so generated clients and fuzzers know it."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"oneOf": [{"required": ["phone"]}, {"required": ["external_id"]}]}
    )
    # Not nullable: absent is the only way to leave one out, as the oneOf above reads it.
    phone: Annotated[str, Field(min_length=3, max_length=32)] = None  # type: ignore[assignment]
    external_id: Annotated[str, Field(min_length=1, max_length=64)] = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one(self):
        if (self.phone is None) == (self.external_id is None):
            raise ValueError("give exactly one of phone and external_id")
        return self


class StatusIn(IdentityIn):
    public_id: Annotated[str, Field(pattern=r"^su_[A-Za-z0-9_-]{22}$")] = Field(
        description="The sign-up's public id, as the sign-up's answer gave it"
    )


class LookupIn(IdentityIn):
    reveal: bool = Field(False, description="Show personal data in clear (needs pii.reveal; logged)")
    purpose: Purpose | None = Field(None, description="Why the data is revealed (required with reveal)")
    purpose_note: Annotated[str, Field(max_length=200)] = ""


class MemberSignupOut(Schema):
    id: int
    campaign_id: int
    campaign_title: str
    status: str
    channel: str
    created_at: datetime


class MemberOut(Schema):
    id: int
    external_id: str | None
    phone: str | None
    name: str
    email: str | None
    gender: str
    birth_date: str | None
    region_code: str
    created_at: datetime
    signups: list[MemberSignupOut]


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    gender: Gender | None = None
    birth_date: Day | None = None
    region_code: Annotated[str, Field(pattern=r"^\d{6}$")] | None = None
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class SignupStatusOut(Schema):
    campaign_id: int
    status: str
    waitlist_position: int | None
    lottery_drawn: bool | None
    lottery_result: str | None


def _present(member, *, reveal: bool, signups: list) -> dict:
    return {
        "id": member.pk,
        "external_id": member.external_id,
        **members.member_profile(member, reveal=reveal),
        "gender": member.gender,
        "region_code": member.region_code,
        "created_at": member.created_at,
        "signups": [
            {
                "id": s.pk,
                "campaign_id": s.campaign_id,
                "campaign_title": s.campaign.title,
                "status": s.status,
                "channel": s.channel,
                "created_at": s.created_at,
            }
            for s in signups
        ],
    }


@router.post("/lookup", response=MemberOut, summary="Find a member and their sign-ups (masked; audited)")
def lookup_member(request, payload: LookupIn):
    request.auth.require(Perm.MEMBER_LOOKUP)
    purpose = (
        reveal_authorize(request.auth, purpose=payload.purpose, note=payload.purpose_note)  # one member
        if payload.reveal
        else ""
    )
    member = members.member_lookup(
        actor=request.auth, phone=payload.phone, external_id=payload.external_id,
        reveal=payload.reveal, purpose=purpose,
    )  # fmt: skip
    return _present(member, reveal=payload.reveal, signups=selectors.member_signups(member.pk))


@router.patch("/{int:member_id}", response=MemberOut, summary="Correct a member's profile (reason required)")
def correct_member(request, member_id: MemberId, payload: CorrectionIn):
    request.auth.require(Perm.MEMBER_EDIT)
    changes = payload.model_dump(exclude_unset=True, exclude={"reason"})
    member = members.member_correct(
        member_id=member_id, actor=request.auth, changes=changes, reason=payload.reason
    )
    return _present(member, reveal=False, signups=selectors.member_signups(member.pk))


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[str, Field(min_length=3, max_length=32)] | None = None
    external_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=500)]


@router.post(
    "/{int:member_id}/link",
    response=MemberOut,
    summary="Bind a phone or external id to a member (member.link; reason required; audited)",
)
def link_member(request, member_id: MemberId, payload: LinkIn):
    request.auth.require(Perm.MEMBER_LINK)
    member = members.member_link(
        member_id=member_id, actor=request.auth, reason=payload.reason,
        phone=payload.phone, external_id=payload.external_id,
    )  # fmt: skip
    return _present(member, reveal=False, signups=selectors.member_signups(member.pk))


@status_router.post(
    "/{int:campaign_id}/signups/status",
    response=SignupStatusOut,
    summary="A member's sign-up status and lottery result (storefront; no personal data)",
)
def signup_status(request, campaign_id: CampaignId, payload: StatusIn):
    # The public id, unguessable, is what makes this no oracle: by phone alone, a key could try the
    # 10,000 numbers a masked phone (138****1234) leaves and see which one is signed up.
    request.auth.require(Perm.SIGNUP_STATUS)
    member = members.member_find(phone=payload.phone, external_id=payload.external_id)
    return selectors.signup_status_for(campaign_id=campaign_id, member=member, public_id=payload.public_id)
