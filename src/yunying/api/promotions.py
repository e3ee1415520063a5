"""Prices and coupons for the storefront (P1, P7): quote a cart, a member's coupons, claim one,
redeem a code; promotions as the console plans them (read only here).

A quote is pure: it writes nothing. Its `quote` token goes into the order (POST /orders `quote`),
which redeems exactly what the quote applied, or is refused when a coupon, a limit or a budget was
taken since (409: ask for a new quote). Money is integer fen; rules in docs/promotions.md."""

from datetime import datetime
from typing import Annotated

from django.conf import settings
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BaseModel, ConfigDict

from yunying.api.incentives import MemberRef
from yunying.api.orders import Fen, StorefrontId
from yunying.api.params import Pages
from yunying.api.signups import ClientIn
from yunying.commerce.validation import (
    CATEGORY_MAX_LENGTH,
    MAX_LINES,
    MAX_QUANTITY,
    SKU_MAX_LENGTH,
)
from yunying.core.errors import DomainError
from yunying.core.idempotency import idempotent
from yunying.core.permissions import Perm
from yunying.core.ratelimit import ratelimit_hit, ratelimit_release
from yunying.members.models import Member
from yunying.promotions import selectors
from yunying.promotions.errors import PromotionError, reason_text
from yunying.promotions.quoting import QuoteLine, QuoteResult, quote_cart
from yunying.promotions.services import code_redeem, coupon_claim
from yunying.risk.signals import ClientSignals

router = Router(tags=["promotions"])
quotes_router = Router(tags=["promotions"])

PromotionId = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]
MAX_CHOSEN_COUPONS = 20


# No control characters: an order refuses them (commerce.validation), so a quote with them could never
# become an order (new-user review), and a NUL reaching PostgreSQL is a 500.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"


class QuoteLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Annotated[str, Field(min_length=1, max_length=SKU_MAX_LENGTH, pattern=ONE_LINE)]
    category: Annotated[str, Field(max_length=CATEGORY_MAX_LENGTH, pattern=ONE_LINE)] = ""
    unit_price_fen: Fen
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]


class QuoteMemberIn(BaseModel):
    """The member by the storefront's own id only: a quote by phone told a key without member.lookup
    whether a phone is a member, unthrottled (attacker review)."""

    model_config = ConfigDict(extra="forbid")
    external_id: StorefrontId


class QuoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member: QuoteMemberIn | None = Field(
        None, description="Absent, or an id no member has: a guest's cart (no level, no coupons)"
    )
    lines: Annotated[list[QuoteLineIn], Field(min_length=1, max_length=MAX_LINES)]
    channel: Annotated[str, Field(pattern=r"^[a-z0-9_-]{0,20}$")] = ""
    coupon_ids: Annotated[list[PromotionId], Field(max_length=MAX_CHOSEN_COUPONS)] = Field(
        [], description="The member's chosen coupons; none: the best ones are suggested"
    )
    shipping_fen: Fen = 0


class LineDiscountOut(Schema):
    key: str
    fen: int


class QuoteLineOut(Schema):
    line_no: int
    sku: str
    list_fen: int
    discount_fen: int
    paid_fen: int
    discounts: list[LineDiscountOut]


class LineShareOut(Schema):
    line_no: int
    fen: int


class GiftOut(Schema):
    sku: str
    quantity: int


class AppliedOut(Schema):
    key: str = Field(description="p<id> a promotion, c<id> a coupon")
    promotion_id: int
    coupon_id: int | None
    name: str
    kind: str
    layer: int = Field(description="1 item price, 2 shop 满减/满折, 3 shop coupon, 4 platform coupon")
    amount_fen: int
    shipping_fen: int
    lines: list[LineShareOut]
    gift: GiftOut | None


class NotAppliedOut(Schema):
    key: str
    promotion_id: int | None
    coupon_id: int | None
    name: str
    reason: str = Field(
        description="not_in_scope, channel, tier_too_low, threshold_not_met, outbid, one_per_layer, excluded, "
        "limit_reached, budget_exhausted, nothing_off, unavailable"
    )
    message: str
    data: dict[str, int | str]


class SuggestionOut(Schema):
    coupon_ids: list[int]
    saves_fen: int


class QuoteOut(Schema):
    subtotal_fen: int
    discount_fen: int
    shipping_fen: int
    shipping_discount_fen: int
    payable_fen: int
    lines: list[QuoteLineOut]
    applied: list[AppliedOut]
    not_applied: list[NotAppliedOut]
    suggestion: SuggestionOut
    quote: str = Field(description="Send it with the order (POST /orders `quote`) to redeem what was applied")
    quoted_at: datetime
    expires_at: datetime


def _present_quote(result: QuoteResult, skus: list[str]) -> dict:
    quote = result.quote
    names = {pk: promotion.name for pk, promotion in result.promotions.items()}
    not_applied = [
        {
            "key": each.key,
            "promotion_id": each.promotion_id,
            "coupon_id": each.coupon_id,
            "name": names.get(each.promotion_id, ""),
            "reason": str(each.reason),
            "message": reason_text(each.reason),
            "data": dict(each.data),
        }
        for each in quote.not_applied
    ]
    not_applied += [
        {
            "key": f"c{coupon_id}",
            "promotion_id": None,
            "coupon_id": coupon_id,
            "name": "",
            "reason": "unavailable",
            "message": reason_text("unavailable"),
            "data": {},
        }
        for coupon_id in result.unavailable
    ]
    return {
        "subtotal_fen": quote.subtotal_fen,
        "discount_fen": quote.discount_fen,
        "shipping_fen": quote.shipping_fen,
        "shipping_discount_fen": quote.shipping_discount_fen,
        "payable_fen": quote.payable_fen,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": skus[line.line_no - 1],
                "list_fen": line.list_fen,
                "discount_fen": line.discount_fen,
                "paid_fen": line.paid_fen,
                "discounts": [{"key": key, "fen": fen} for key, fen in line.allocations],
            }
            for line in quote.lines
        ],
        "applied": [
            {
                "key": each.key,
                "promotion_id": each.promotion_id,
                "coupon_id": each.coupon_id,
                "name": names.get(each.promotion_id, ""),
                "kind": str(each.kind),
                "layer": int(each.layer),
                "amount_fen": each.amount_fen,
                "shipping_fen": each.shipping_fen,
                "lines": [{"line_no": n, "fen": fen} for n, fen in each.lines],
                "gift": {"sku": each.gift_sku, "quantity": each.gift_quantity} if each.gift_sku else None,
            }
            for each in quote.applied
        ],
        "not_applied": not_applied,
        "suggestion": {
            "coupon_ids": [int(key[1:]) for key in quote.suggestion],
            "saves_fen": quote.suggestion_saves_fen,
        },
        "quote": result.token,
        "quoted_at": result.quoted_at,
        "expires_at": result.expires_at,
    }


@quotes_router.post("", response=QuoteOut, summary="What a cart costs this member now, and why")
def create_quote(request, payload: QuoteIn):
    request.auth.require(Perm.QUOTE_CREATE)
    member = None
    if payload.member is not None:
        member = Member.objects.filter(external_id=payload.member.external_id).first()
    result = quote_cart(
        member_id=member.pk if member is not None else None,
        lines=[
            QuoteLine(line.sku, line.category, line.unit_price_fen, line.quantity) for line in payload.lines
        ],
        channel=payload.channel,
        coupon_ids=payload.coupon_ids if member is not None else [],
        shipping_fen=payload.shipping_fen,
    )
    return _present_quote(result, [line.sku for line in payload.lines])


# -- coupons ----------------------------------------------------------------------------------------
class CouponOut(Schema):
    id: int
    promotion_id: int
    name: str
    kind: str
    layer: int
    summary: str = Field(description="The terms in words, e.g. 满200减30")
    state: str
    valid_from: datetime
    valid_until: datetime | None
    used_at: datetime | None


class ClaimableOut(Schema):
    promotion_id: int
    name: str
    kind: str
    summary: str
    left: int | None = Field(description="Coupons left to hand out; null: no limit")
    ends_at: datetime | None


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    promotion_id: PromotionId
    client: ClientIn = ClientIn()  # the member's phone or browser, for risk control (coupon abuse)
    risk_challenge: Annotated[str, Field(max_length=64)] = ""  # after a 428, the passed challenge


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=ONE_LINE)]


def _member(external_id: str) -> Member:
    member = Member.objects.filter(external_id=external_id).first()
    if member is None:
        raise DomainError(PromotionError.MEMBER_NOT_FOUND)
    return member


@router.get(
    "/members/{external_id}/coupons",
    response=list[CouponOut],
    summary="A member's coupons, the one ending first first",
)
@paginate(Pages)
def list_member_coupons(
    request,
    external_id: MemberRef,
    state: Annotated[str | None, Query(pattern="^(available|used|expired|void)$")] = None,
):
    request.auth.require(Perm.COUPON_CLAIM)
    return selectors.member_coupons(_member(external_id).pk, state=state)


@router.post(
    "/members/{external_id}/coupons",
    response={201: CouponOut},
    summary="Claim a claimable coupon for the member",
)
@idempotent
def claim_coupon(request, external_id: MemberRef, payload: ClaimIn):
    request.auth.require(Perm.COUPON_CLAIM)
    client = payload.client
    issued = coupon_claim(
        promotion_id=payload.promotion_id,
        member_id=_member(external_id).pk,
        actor=request.auth,
        client=ClientSignals(
            ip=str(client.ip) if client.ip else None,
            device_id=client.device_id,
            user_agent=client.user_agent,
            challenge=payload.risk_challenge,
        ),
    )
    return Status(201, selectors.coupon_view(issued.coupon))


@router.post(
    "/members/{external_id}/coupon-codes",
    response={201: CouponOut},
    summary="Redeem a coupon code for the member",
)
@idempotent
def redeem_code(request, external_id: MemberRef, payload: CodeIn):
    request.auth.require(Perm.COUPON_CLAIM)
    member = _member(external_id)
    # The member pages' hourly try limit, on the same counter: a storefront forwarding what members
    # type must not be a way around it (attacker review). A code that works gives its try back.
    limit = settings.RATE_LIMITS["coupon_code_member_hour"]
    ratelimit_hit(scope="h5_coupon_code", key=str(member.pk), limit=limit, window_seconds=3600)
    coupon = code_redeem(code=payload.code, member_id=member.pk, actor=request.auth)
    ratelimit_release(scope="h5_coupon_code", key=str(member.pk), window_seconds=3600)
    return Status(201, selectors.coupon_view(coupon))


@router.get("/claimable", response=list[ClaimableOut], summary="Coupons members can claim now")
def list_claimable(request):
    request.auth.require(Perm.COUPON_CLAIM)
    return selectors.claimable_coupons()


# -- promotions (read) ------------------------------------------------------------------------------
class BudgetOut(Schema):
    id: int
    scope: str
    key: str
    cap_fen: int
    spent_fen: int
    left_fen: int


class PromotionOut(Schema):
    id: int
    name: str
    kind: str
    state: str
    layer: int
    summary: str
    starts_at: datetime
    ends_at: datetime | None
    exclusive: bool
    not_with: list[int]
    use_limit: int | None
    used_count: int
    budget: BudgetOut | None


@router.get("", response=list[PromotionOut], summary="Promotions, newest first")
@paginate(Pages)
def list_promotions(
    request, state: Annotated[str | None, Query(pattern="^(draft|active|paused|ended)$")] = None
):
    request.auth.require(Perm.PROMOTION_VIEW)
    return selectors.promotion_views(state=state)


@router.get("/{promotion_id}", response=PromotionOut, summary="One promotion with its budget")
def get_promotion(request, promotion_id: Annotated[int, Path(ge=1, le=2**63 - 1)]):
    request.auth.require(Perm.PROMOTION_VIEW)
    return selectors.promotion_view(promotion_id)
