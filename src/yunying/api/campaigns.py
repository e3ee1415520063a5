"""Campaign CRUD, lifecycle actions, stats and lottery draws."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, StrictBool

from yunying.api.params import CampaignId, Day, Instant, Pages, optional_body, optional_body_schema
from yunying.campaigns import selectors
from yunying.campaigns.eligibility import EligibilityRules
from yunying.campaigns.errors import CampaignError
from yunying.campaigns.models import AdmissionMode, CampaignStatus, CampaignType, Channel, ReviewMode
from yunying.campaigns.questions import Question
from yunying.campaigns.services import lifecycle, lottery
from yunying.core.errors import DomainError
from yunying.core.idempotency import idempotent
from yunying.core.permissions import Perm

router = Router(tags=["campaigns"])

NotifyChannel = Annotated[str, Field(pattern="^(sms|email|push)$")]


class CampaignIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    title: Annotated[str, Field(min_length=1, max_length=200)]
    theme: Annotated[str, Field(max_length=200)] = ""
    type: CampaignType
    description: Annotated[str, Field(max_length=20000)] = ""
    rules_text: Annotated[str, Field(max_length=20000)] = ""
    reward_description: Annotated[str, Field(max_length=5000)] = ""
    signup_start_at: Instant
    signup_end_at: Instant
    event_start_at: Instant
    event_end_at: Instant
    capacity: Annotated[int, Field(strict=True, ge=1, le=10_000_000)]
    waitlist_enabled: StrictBool = False
    review_mode: ReviewMode = ReviewMode.AUTO
    admission_mode: AdmissionMode = AdmissionMode.FIRST_COME
    eligibility: EligibilityRules = EligibilityRules()
    form: Annotated[list[Question], Field(max_length=50)] = []
    channels: list[Channel] = []
    notify_channels: list[NotifyChannel] = ["sms"]
    reminder_hours_before: Annotated[int, Field(strict=True, ge=0, le=24 * 30)] = 24


class CampaignPatch(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    theme: Annotated[str, Field(max_length=200)] | None = None
    type: CampaignType | None = None
    description: Annotated[str, Field(max_length=20000)] | None = None
    rules_text: Annotated[str, Field(max_length=20000)] | None = None
    reward_description: Annotated[str, Field(max_length=5000)] | None = None
    signup_start_at: Instant | None = None
    signup_end_at: Instant | None = None
    event_start_at: Instant | None = None
    event_end_at: Instant | None = None
    capacity: Annotated[int, Field(strict=True, ge=1, le=10_000_000)] | None = None
    waitlist_enabled: StrictBool | None = None
    review_mode: ReviewMode | None = None
    admission_mode: AdmissionMode | None = None
    eligibility: EligibilityRules | None = None
    form: Annotated[list[Question], Field(max_length=50)] | None = None
    channels: list[Channel] | None = None
    notify_channels: list[NotifyChannel] | None = None
    reminder_hours_before: Annotated[int, Field(strict=True, ge=0, le=24 * 30)] | None = None


class CampaignOut(Schema):
    id: int
    title: str
    theme: str
    type: str
    description: str
    rules_text: str
    reward_description: str
    signup_start_at: datetime
    signup_end_at: datetime
    event_start_at: datetime
    event_end_at: datetime
    capacity: int
    seats_taken: int
    seats_left: int
    waitlist_enabled: bool
    review_mode: str
    admission_mode: str
    eligibility: dict[str, Any]
    form: list[dict[str, Any]]
    channels: list[str]
    notify_channels: list[str]
    reminder_hours_before: int
    status: str
    status_reason: str
    created_by: str = Field(
        description="The operator who created it; empty for keys that cannot edit campaigns"
    )
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    closed_at: datetime | None
    lottery_seed_sha256: str = Field(
        description="Lottery campaigns: SHA-256 of the draw's seed, fixed when published; the draw reveals the seed"
    )

    @staticmethod
    def resolve_created_by(obj, context) -> str:
        # An operator's user name helps a password guesser: only the team reads it, not the storefront.
        request = (context or {}).get("request")
        return obj.created_by if request is not None and request.auth.can(Perm.CAMPAIGN_EDIT) else ""

    @staticmethod
    def resolve_seats_left(obj) -> int:
        return max(obj.capacity - obj.seats_taken, 0)


class CampaignReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    reason: Annotated[str, Field(max_length=500)] = ""


class DrawIn(Schema):
    """Nothing to choose: a `seed` (or anything else) is refused, the draw uses the committed one."""

    model_config = ConfigDict(extra="forbid")


class DrawOut(Schema):
    campaign_id: int
    algorithm: str
    seed: str = Field(description="Revealed by the draw; its SHA-256 was published before entries opened")
    seed_sha256: str = Field(
        description="The commitment the seed was drawn under (empty: none was published)"
    )
    entrant_count: int = Field(description="Live entrants the draw ranked")
    entrants_digest: str
    winner_count: int
    drawn_at: datetime
    actor_label: str


class DrawVerificationOut(Schema):
    draw: DrawOut
    entrant_ids: list[int]
    winner_ids: list[int]
    digest_matches: bool
    winners_match: bool
    commitment_matches: bool
    algorithm_known: bool
    count_matches: bool
    verified: bool = Field(description="Every check holds: the draw is the one promised and applied")


class CampaignFilters(Schema):
    status: CampaignStatus | None = None
    type: CampaignType | None = None
    title: Annotated[str, Field(max_length=200, description="part of the title")] | None = None
    date_from: Day | None = Field(None, description="running on or after this day")
    date_to: Day | None = Field(None, description="running on or before this day")


class ExtendIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is refused by name
    signup_end_at: Instant
    reason: Annotated[str, Field(max_length=500)] = ""


def _values(payload: Schema, *, partial: bool) -> dict[str, Any]:
    values = payload.model_dump(mode="python", exclude_unset=partial, exclude_none=partial)
    # Rules and form are stored as JSON: dump them in JSON mode (dates as ISO strings), whole, as on
    # create: an unchanged rule set re-sent to a published campaign must compare equal, not locked.
    json_values = payload.model_dump(mode="json", include={"eligibility", "form"})
    return values | {k: v for k, v in json_values.items() if k in values}


@router.post("", response={201: CampaignOut}, summary="Create a draft campaign")
@idempotent
def create_campaign(request, payload: CampaignIn):
    request.auth.require(Perm.CAMPAIGN_EDIT)
    campaign = lifecycle.campaign_create(actor=request.auth, values=_values(payload, partial=False))
    return Status(201, CampaignOut.from_orm(campaign, context={"request": request}))


@router.get("", response=list[CampaignOut], summary="List campaigns")
@paginate(Pages)
def list_campaigns(request, filters: Query[CampaignFilters]):
    request.auth.require(Perm.CAMPAIGN_VIEW)
    return selectors.campaign_list(**filters.model_dump(), drafts=_sees_drafts(request.auth))


def _sees_drafts(actor) -> bool:
    """Drafts are the team's work in progress: an integration key (no sign-up view, no editing)
    reads only what was published."""
    return actor.can(Perm.CAMPAIGN_EDIT) or actor.can(Perm.SIGNUP_VIEW)


@router.get("/{int:campaign_id}", response=CampaignOut, summary="Get a campaign")
def get_campaign(request, campaign_id: CampaignId):
    request.auth.require(Perm.CAMPAIGN_VIEW)
    campaign = selectors.campaign_get(campaign_id)
    if campaign.status == CampaignStatus.DRAFT and not _sees_drafts(request.auth):
        raise DomainError(CampaignError.NOT_FOUND, id=campaign_id)  # as if it did not exist
    return campaign


@router.patch(
    "/{int:campaign_id}", response=CampaignOut, summary="Edit a campaign (rules lock once published)"
)
def update_campaign(request, campaign_id: CampaignId, payload: CampaignPatch):
    request.auth.require(Perm.CAMPAIGN_EDIT)
    changes = _values(payload, partial=True)
    return lifecycle.campaign_update(campaign_id=campaign_id, actor=request.auth, changes=changes)


@router.post("/{int:campaign_id}/publish", response=CampaignOut, summary="Publish a draft")
def publish_campaign(request, campaign_id: CampaignId):
    request.auth.require(Perm.CAMPAIGN_PUBLISH)
    return lifecycle.campaign_publish(campaign_id=campaign_id, actor=request.auth)


@router.post(
    "/{int:campaign_id}/close",
    response=CampaignOut,
    summary="Stop taking sign-ups",
    openapi_extra=optional_body_schema(CampaignReasonIn),
)
def close_campaign(request, campaign_id: CampaignId):
    request.auth.require(Perm.CAMPAIGN_PUBLISH)
    payload = optional_body(request, CampaignReasonIn)
    return lifecycle.campaign_close(campaign_id=campaign_id, actor=request.auth, reason=payload.reason)


@router.post("/{int:campaign_id}/finish", response=CampaignOut, summary="Mark a closed campaign finished")
def finish_campaign(request, campaign_id: CampaignId):
    request.auth.require(Perm.CAMPAIGN_PUBLISH)
    return lifecycle.campaign_finish(campaign_id=campaign_id, actor=request.auth)


@router.post("/{int:campaign_id}/cancel", response=CampaignOut, summary="Cancel (members are told)")
def cancel_campaign(request, campaign_id: CampaignId, payload: CampaignReasonIn):
    request.auth.require(Perm.CAMPAIGN_PUBLISH)
    return lifecycle.campaign_cancel(campaign_id=campaign_id, actor=request.auth, reason=payload.reason)


@router.post("/{int:campaign_id}/copy", response={201: CampaignOut}, summary="Copy into a new draft")
@idempotent
def copy_campaign(request, campaign_id: CampaignId):
    request.auth.require(Perm.CAMPAIGN_EDIT)
    campaign = lifecycle.campaign_copy(campaign_id=campaign_id, actor=request.auth)
    return Status(201, CampaignOut.from_orm(campaign, context={"request": request}))


@router.delete("/{int:campaign_id}", response={204: None}, summary="Delete a draft without sign-ups")
def delete_campaign(request, campaign_id: CampaignId):
    request.auth.require(Perm.CAMPAIGN_EDIT)
    lifecycle.campaign_delete(campaign_id=campaign_id, actor=request.auth)
    return Status(204, None)


@router.post(
    "/{int:campaign_id}/extend",
    response=CampaignOut,
    summary="Reopen a closed campaign with a later deadline",
)
def extend_campaign(request, campaign_id: CampaignId, payload: ExtendIn):
    request.auth.require(Perm.CAMPAIGN_PUBLISH)
    return lifecycle.campaign_extend(
        campaign_id=campaign_id,
        actor=request.auth,
        signup_end_at=payload.signup_end_at,
        reason=payload.reason,
    )


@router.get("/{int:campaign_id}/stats", response=selectors.CampaignStats, summary="Live sign-up statistics")
def campaign_stats(request, campaign_id: CampaignId):
    request.auth.require(Perm.STATS_VIEW)
    return selectors.campaign_stats(selectors.campaign_get(campaign_id))


@router.post(
    "/{int:campaign_id}/draw",
    response={201: DrawOut},
    summary="Run the lottery draw",
    openapi_extra=optional_body_schema(DrawIn),
)
@idempotent
def draw_lottery(request, campaign_id: CampaignId):
    request.auth.require(Perm.CAMPAIGN_PUBLISH)
    optional_body(request, DrawIn)  # none, or {}: anything in it is refused by name
    # No seed from the caller: the draw uses the one committed at publication (services.lottery).
    draw = lottery.lottery_draw(campaign_id=campaign_id, actor=request.auth)
    return Status(201, DrawOut.from_orm(draw))


@router.get("/{int:campaign_id}/draw", response=DrawVerificationOut, summary="Re-run and verify the draw")
def verify_lottery(request, campaign_id: CampaignId):
    request.auth.require(Perm.CAMPAIGN_VIEW)
    campaign = selectors.campaign_get(campaign_id)
    if campaign.status == CampaignStatus.DRAFT and not _sees_drafts(request.auth):
        raise DomainError(CampaignError.NOT_FOUND, id=campaign_id)  # as get_campaign: drafts do not exist
    result = lottery.lottery_verify(campaign_id=campaign_id)
    draw = DrawOut.from_orm(result.draw)
    if not request.auth.can(Perm.CAMPAIGN_EDIT):
        draw.actor_label = ""  # who drew: the team's business, and a user name for a password guesser
    return {
        "draw": draw,
        "entrant_ids": result.entrant_ids,
        "winner_ids": result.winner_ids,
        "digest_matches": result.digest_matches,
        "winners_match": result.winners_match,
        "commitment_matches": result.commitment_matches,
        "algorithm_known": result.algorithm_known,
        "count_matches": result.count_matches,
        "verified": result.verified,
    }
