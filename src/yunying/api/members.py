"""Members: support's look-up by phone or external id, profile corrections, and the storefront's
read of its member's sign-up status.

Look-ups are POSTs with the phone in the body, not GETs with it in the query string: URLs are written
to proxy and server access logs, browser histories and monitoring tools, where a phone number — personal
data under PIPL — must not end up; request bodies are not logged."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import BaseModel, ConfigDict, StrictBool, model_validator

from yunying.analytics.selectors import member_segments
from yunying.api.params import CampaignId, Day, MemberId, Pages
from yunying.campaigns import selectors
from yunying.commerce.selectors import member_purchase_summary
from yunying.core.permissions import Perm
from yunying.core.purposes import Purpose, reveal_authorize
from yunying.members import services as members
from yunying.members import tags as member_tags
from yunying.members.models import Gender, TagKind

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
    reveal: StrictBool = Field(False, description="Show personal data in clear (needs pii.reveal; logged)")
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


# --- the member read, list and tags (M7) -------------------------------------------------------------

TagName = Annotated[str, Path(min_length=1, max_length=member_tags.MAX_NAME, pattern=r"^[^/]+$")]


class TagOut(Schema):
    name: str
    kind: TagKind
    added_at: datetime
    added_by: str


class PurchasesOut(Schema):
    orders: int = Field(description="orders not cancelled")
    paid_fen: int = Field(description="paid less refunds, integer fen")
    first_paid_at: datetime | None
    last_paid_at: datetime | None


class MemberDetailOut(MemberOut):
    source_channel: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    invited_by: int | None
    tags: list[TagOut]
    segments: list[str]
    purchases: PurchasesOut


class MemberRowOut(Schema):
    id: int
    external_id: str | None
    phone: str | None = Field(description="masked")
    name: str = Field(description="masked")
    gender: str
    region_code: str
    source_channel: str
    created_at: datetime

    @staticmethod
    def resolve_phone(member) -> str | None:
        return members.member_contact(member, reveal=False)["phone"]

    @staticmethod
    def resolve_name(member) -> str:
        return members.member_contact(member, reveal=False)["name"]


class RevealQuery(Schema):
    reveal: bool = Field(False, description="Show personal data in clear (needs pii.reveal; logged)")
    purpose: Purpose | None = Field(None, description="Why the data is revealed (required with reveal)")
    purpose_note: Annotated[str, Field(max_length=200)] = ""


class MemberFilters(Schema):
    tag: Annotated[str, Field(min_length=1, max_length=member_tags.MAX_NAME)] | None = None
    source_channel: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    registered_from: Day | None = Field(None, description="registered on or after this day (Asia/Shanghai)")
    registered_to: Day | None = Field(None, description="registered on or before this day (Asia/Shanghai)")


def _tags_out(member_id: int) -> list[dict]:
    return [
        {"name": link.tag.name, "kind": link.tag.kind, "added_at": link.added_at, "added_by": link.added_by}
        for link in member_tags.member_tags(member_id)
    ]


def _detail(member, *, reveal: bool) -> dict:
    summary = member_purchase_summary(member.pk)
    return _present(member, reveal=reveal, signups=selectors.member_signups(member.pk)) | {
        "source_channel": member.source_channel,
        "utm_source": member.utm_source,
        "utm_medium": member.utm_medium,
        "utm_campaign": member.utm_campaign,
        "invited_by": member.invited_by_id,
        "tags": _tags_out(member.pk),
        "segments": [s.name for s in member_segments(member.pk)],
        "purchases": {
            "orders": summary.orders,
            "paid_fen": summary.paid_fen,
            "first_paid_at": summary.first_paid_at,
            "last_paid_at": summary.last_paid_at,
        },
    }


@router.get("", response=list[MemberRowOut], summary="List members (masked), filtered and paged")
@paginate(Pages)
def list_members(request, filters: Query[MemberFilters]):
    request.auth.require(Perm.MEMBER_VIEW)
    return members.member_list(**filters.model_dump())


@router.get(
    "/{int:member_id}",
    response=MemberDetailOut,
    summary="A member's profile (masked unless revealed with a purpose; logged), tags, segments, purchases",
)
def get_member(request, member_id: MemberId, query: Query[RevealQuery]):
    request.auth.require(Perm.MEMBER_VIEW)
    if query.reveal:
        purpose = reveal_authorize(request.auth, purpose=query.purpose, note=query.purpose_note)  # one member
        member = members.member_reveal(actor=request.auth, member_id=member_id, purpose=purpose)
    else:
        member = members.member_get(member_id)
    return _detail(member, reveal=query.reveal)


@router.post(
    "/{int:member_id}/tags/{tag_name}",
    response=list[TagOut],
    summary="Put a manual tag on a member (member.tag; audited); answers the member's tags",
)
def add_member_tag(request, member_id: MemberId, tag_name: TagName):
    request.auth.require(Perm.MEMBER_TAG)
    member_tags.member_tag_add(member_id=member_id, tag_name=tag_name, actor=request.auth)
    return _tags_out(member_id)


@router.delete(
    "/{int:member_id}/tags/{tag_name}",
    response=list[TagOut],
    summary="Take a manual tag off a member (member.tag; audited); answers the member's tags",
)
def remove_member_tag(request, member_id: MemberId, tag_name: TagName):
    request.auth.require(Perm.MEMBER_TAG)
    member_tags.member_tag_remove(member_id=member_id, tag_name=tag_name, actor=request.auth)
    return _tags_out(member_id)


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
