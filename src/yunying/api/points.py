"""A member's points and level for the storefront (L1, L2): balance, lots with expiry, history; spending points at
checkout and giving them back on cancel. Members are named by the storefront's own id (external_id).

Spending needs an `Idempotency-Key`: it is also the spend's business key in the ledger
("checkout:<api key id>:<key>"), so a retry never spends twice, even when the first answer was lost.
The spend records the storefront's order id: when that order is later refunded or cancelled through
POST /orders, the points spent on it come back by themselves (docs/loyalty-earning.md)."""

from datetime import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from yunying.api.incentives import MemberRef
from yunying.api.incentives import _member as _member  # one look-up of the storefront's member id
from yunying.api.params import Pages
from yunying.core.errors import CoreError, DomainError
from yunying.core.idempotency import HEADER, idempotent
from yunying.core.permissions import Perm
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.ledger import points_restore, points_spend
from yunying.loyalty.models import PointAccount, PointPosting, PostingKind, PostingSource
from yunying.loyalty.selectors import points_history, points_lots, points_summary
from yunying.loyalty.tiers import tier_progress

router = Router(tags=["loyalty"])

SpendId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_POINTS = 1_000_000_000
Points = Annotated[int, Field(strict=True, ge=1, le=MAX_POINTS)]


class PointsOut(Schema):
    balance: int = Field(description="Spendable now")
    pending: int = Field(description="Earned from orders still in their return window")
    debt: int = Field(description="Taken back by refunds after being spent; paid from later earnings")
    next_expiry_at: datetime | None
    next_expiry_points: int
    expiring_in_30_days: int
    next_pending_at: datetime | None


class LotOut(Schema):
    points: int
    remaining: int
    source: str
    memo: str
    earned_at: datetime
    pending_until: datetime | None
    expires_at: datetime | None


class PostingOut(Schema):
    id: int
    kind: str
    source: str
    points: int
    memo: str
    ref: str
    created_at: datetime


class SpendIn(Schema):
    model_config = ConfigDict(extra="forbid")
    points: Points
    order_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = Field(
        description="The storefront's order id the points pay for"
    )


class SpendCancelIn(Schema):
    model_config = ConfigDict(extra="forbid")
    points: Points | None = Field(default=None, description="Give back part; all that is left by default")


class SpendOut(Schema):
    spend_id: int
    points: int
    order_id: str
    restored: int
    balance: int


def _key(request) -> str:
    key = request.headers.get(HEADER)
    if not key:
        raise DomainError(
            CoreError.INVALID, field=HEADER, message=_("Spending points needs an Idempotency-Key.")
        )
    return key


def _spend_out(spend: PointPosting) -> dict:
    restored = sum(
        p
        for p in PointPosting.objects.filter(related=spend, kind=PostingKind.RESTORE).values_list(
            "points", flat=True
        )
    )
    balance = PointAccount.objects.values_list("balance", flat=True).get(pk=spend.account_id)
    return {
        "spend_id": spend.pk,
        "points": -spend.points,
        "order_id": spend.ref,
        "restored": restored,
        "balance": balance,
    }


@router.get("/members/{external_id}/points", response=PointsOut, summary="A member's points")
def get_points(request, external_id: MemberRef):
    request.auth.require(Perm.LOYALTY_VIEW)
    summary = points_summary(_member(external_id).pk)
    return {
        "balance": summary.balance,
        "pending": summary.pending,
        "debt": summary.debt,
        "next_expiry_at": summary.next_expiry_at,
        "next_expiry_points": summary.next_expiry_points,
        "expiring_in_30_days": summary.expiring_soon,
        "next_pending_at": summary.next_pending_at,
    }


@router.get(
    "/members/{external_id}/points/lots",
    response=list[LotOut],
    summary="A member's points lots with what is left and when each expires (the order they are spent in)",
)
@paginate(Pages)
def get_lots(request, external_id: MemberRef):
    request.auth.require(Perm.LOYALTY_VIEW)
    return [
        {
            "points": lot.points,
            "remaining": lot.remaining,
            "source": lot.posting.source,
            "memo": lot.posting.memo,
            "earned_at": lot.earned_at,
            "pending_until": lot.pending_until,
            "expires_at": lot.expires_at,
        }
        for lot in points_lots(_member(external_id).pk)
    ]


@router.get(
    "/members/{external_id}/points/history", response=list[PostingOut], summary="A member's points history"
)
@paginate(Pages)
def get_history(request, external_id: MemberRef):
    request.auth.require(Perm.LOYALTY_VIEW)
    return points_history(_member(external_id).pk)


@router.post(
    "/members/{external_id}/points/spends",
    response={201: SpendOut},
    summary="Spend a member's points at checkout (Idempotency-Key required)",
)
@idempotent
def create_spend(request, external_id: MemberRef, payload: SpendIn):
    request.auth.require(Perm.LOYALTY_SPEND)
    key = _key(request)
    member = _member(external_id)
    posted = points_spend(
        member_id=member.pk,
        points=payload.points,
        key=f"checkout:{request.auth.id}:{key}",
        source=PostingSource.CHECKOUT,
        actor=request.auth,
        ref=payload.order_id,
        memo=payload.order_id,
    )
    return Status(201, _spend_out(posted.posting))


@router.post(
    "/spends/{spend_id}/cancel",
    response={200: SpendOut},
    summary="Give back points a checkout spent (the order was not placed); Idempotency-Key required",
)
@idempotent
def cancel_spend(request, spend_id: SpendId, payload: SpendCancelIn | None = None):
    request.auth.require(Perm.LOYALTY_SPEND)
    key = _key(request)
    spend = (
        PointPosting.objects.select_related("account")
        .filter(pk=spend_id, kind=PostingKind.SPEND, source=PostingSource.CHECKOUT)
        .first()
    )
    # Only the key that spent may give back: another storefront's spends are not found.
    if spend is None or not spend.business_key.startswith(f"checkout:{request.auth.id}:"):
        raise DomainError(LoyaltyError.POSTING_NOT_FOUND)
    points_restore(
        spend_key=spend.business_key,
        key=f"{spend.business_key}:cancel:{key}",
        points=payload.points if payload else None,
        actor=request.auth,
        memo=spend.ref,
    )
    return Status(200, _spend_out(spend))


class TierLevelOut(Schema):
    rank: int
    name: str
    threshold: int
    discount_permille: int
    points_multiplier_permille: int
    birthday_points: int
    priority_service: bool
    exclusive_campaigns: bool
    benefits_text: str


class TierOut(Schema):
    level: TierLevelOut
    basis: str = Field(description="growth (growth value) or paid (fen paid net of refunds)")
    value: int = Field(description="The member's value over the programme's rolling period")
    next_level: TierLevelOut | None
    missing: int = Field(description="What the member still needs for the next level")


@router.get(
    "/members/{external_id}/tier", response=TierOut, summary="A member's level, benefits and progress"
)
def get_tier(request, external_id: MemberRef):
    request.auth.require(Perm.LOYALTY_VIEW)
    progress = tier_progress(_member(external_id).pk)
    return {
        "level": progress.level,
        "basis": progress.basis,
        "value": progress.value,
        "next_level": progress.next_level,
        "missing": progress.missing,
    }
