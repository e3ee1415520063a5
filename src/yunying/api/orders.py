"""Order facts from the storefront: record an order, read it, refund it, cancel it.

Each is idempotent by the storefront's own ids (the order id, the refund id): sending the same fact
again answers 200 with what was recorded; the same id with other content is a 409. `Idempotency-Key`
works as on every creating POST. The schema states the shapes; commerce.validation states the rules
(the same for the CSV/XLSX import) and names every failing field."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Path, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from yunying.api.params import Instant
from yunying.commerce import selectors
from yunying.commerce.models import Order
from yunying.commerce.services import order_cancel, order_ingest, order_refund
from yunying.commerce.validation import (
    CATEGORY_MAX_LENGTH,
    MAX_AMOUNT_FEN,
    MAX_COUPON_REFS,
    MAX_LINES,
    MAX_QUANTITY,
    MAX_QUOTE_LENGTH,
    REASON_MAX_LENGTH,
    SKU_MAX_LENGTH,
    cancel_validate,
    order_validate,
    refund_validate,
)
from yunying.core.errors import ValidationFailed
from yunying.core.idempotency import idempotent
from yunying.core.permissions import Perm

router = Router(tags=["orders"])

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
StorefrontId = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
OrderRef = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
# Strict: 12.0 or "12" is refused, never read as 12 fen (money is integer fen end to end).
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_AMOUNT_FEN)]


class OrderMemberIn(BaseModel):
    """The member who bought: by the storefront's member id, the phone (mobile), or both (then
    they must be one member's)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"anyOf": [{"required": ["phone"]}, {"required": ["external_id"]}]}
    )
    external_id: StorefrontId | None = None
    phone: Annotated[str, Field(min_length=3, max_length=32)] | None = None


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Annotated[str, Field(min_length=1, max_length=SKU_MAX_LENGTH)]
    category: Annotated[str, Field(max_length=CATEGORY_MAX_LENGTH)] = ""
    unit_price_fen: Fen
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]
    paid_fen: Fen = Field(
        description="What the member paid for the line after every discount; at most unit price × quantity"
    )


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: StorefrontId = Field(description="The storefront's order id; an order is recorded once")
    member: OrderMemberIn
    channel: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{0,20}$")] = ""
    paid_at: Instant = Field(description="ISO 8601 with an offset; not in the future")
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_LINES)]
    coupon_refs: Annotated[list[StorefrontId], Field(max_length=MAX_COUPON_REFS)] = []
    campaign_id: Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)] | None = None
    quote: Annotated[str, Field(max_length=MAX_QUOTE_LENGTH, pattern=r"^[A-Za-z0-9_:.-]*$")] | None = Field(
        None,
        description="The `quote` token of POST /quotes the order was priced with: the promotions and "
        "coupons it applied are redeemed with the order, or the order is refused (409/422) and nothing is "
        "recorded",
    )


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: StorefrontId = Field(description="The storefront's refund id; a refund is recorded once")
    line_no: Annotated[int, Field(strict=True, ge=1, le=MAX_LINES)] | None = Field(
        None, description="The line (1-based, as sent); absent for a refund of the whole order"
    )
    amount_fen: Fen | None = Field(None, description="Absent: the quantity's share, or all that is left")
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)] | None = Field(
        None, description="Items returned (a line refund only)"
    )
    reason: Annotated[str, Field(max_length=REASON_MAX_LENGTH)] = ""
    occurred_at: Instant


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: StorefrontId | None = Field(
        None, description="The storefront's cancellation id, if it has one"
    )
    reason: Annotated[str, Field(max_length=REASON_MAX_LENGTH)] = ""
    occurred_at: Instant


class OrderLineOut(Schema):
    line_no: int
    sku: str
    category: str
    unit_price_fen: int
    quantity: int
    paid_fen: int
    refunded_fen: int
    refunded_quantity: int


class OrderEventOut(Schema):
    external_id: str
    kind: str
    line_no: int | None
    amount_fen: int
    quantity: int
    reason: str
    occurred_at: datetime
    recorded_at: datetime


class OrderOut(Schema):
    external_id: str
    member_id: int
    channel: str
    paid_at: datetime
    total_fen: int
    refunded_fen: int
    net_fen: int
    status: str
    coupon_refs: list[str]
    campaign_id: int | None
    source: str
    recorded_at: datetime
    lines: list[OrderLineOut]
    events: list[OrderEventOut]


def _present(order: Order) -> dict:
    return {
        "external_id": order.external_id,
        "member_id": order.member_id,
        "channel": order.channel,
        "paid_at": order.paid_at,
        "total_fen": order.total_fen,
        "refunded_fen": order.refunded_fen,
        "net_fen": order.net_fen,
        "status": order.status,
        "coupon_refs": order.coupon_refs,
        "campaign_id": order.campaign_id,
        "source": order.source,
        "recorded_at": order.recorded_at,
        "lines": [vars_of(line, OrderLineOut) for line in order.lines.all()],
        "events": [
            {
                "external_id": event.external_id,
                "kind": event.kind,
                "line_no": event.line.line_no if event.line else None,
                "amount_fen": event.amount_fen,
                "quantity": event.quantity,
                "reason": event.reason,
                "occurred_at": event.occurred_at,
                "recorded_at": event.recorded_at,
            }
            for event in order.events.all()
        ],
    }


def vars_of(row, schema: type[Schema]) -> dict:
    return {name: getattr(row, name) for name in schema.model_fields}


def _answer(external_id: str, *, created: bool) -> Status:
    # Read back with its lines and events in a fixed number of queries: the answer of a replay and
    # of a GET are the same document.
    return Status(201 if created else 200, _present(selectors.order_get(external_id)))


def _parsed(validate, payload: BaseModel):
    value, errors = validate(payload.model_dump())
    if value is None:
        raise ValidationFailed(errors)
    return value


@router.post(
    "",
    response={200: OrderOut, 201: OrderOut},
    summary="Record an order (201; 200 when it was already recorded)",
)
@idempotent
def create_order(request, payload: OrderIn):
    request.auth.require(Perm.ORDER_INGEST)
    ingested = order_ingest(order=_parsed(order_validate, payload), actor=request.auth)
    return _answer(ingested.order.external_id, created=not ingested.replayed)


@router.get("/{external_id}", response=OrderOut, summary="Get an order with its lines and events")
def get_order(request, external_id: OrderRef):
    request.auth.require(Perm.ORDER_VIEW)
    return _present(selectors.order_get(external_id))


@router.post(
    "/{external_id}/refunds",
    response={200: OrderOut, 201: OrderOut},
    summary="Record a refund of a line or the whole order (201; 200 when already recorded)",
)
@idempotent
def refund_order(request, external_id: OrderRef, payload: RefundIn):
    request.auth.require(Perm.ORDER_INGEST)
    recorded = order_refund(
        external_id=external_id, refund=_parsed(refund_validate, payload), actor=request.auth
    )
    return _answer(external_id, created=not recorded.replayed)


@router.post(
    "/{external_id}/cancel",
    response={200: OrderOut, 201: OrderOut},
    summary="Cancel an order nothing was refunded from (201; 200 when already cancelled so)",
)
@idempotent
def cancel_order(request, external_id: OrderRef, payload: CancelIn):
    request.auth.require(Perm.ORDER_INGEST)
    recorded = order_cancel(
        external_id=external_id, cancel=_parsed(cancel_validate, payload), actor=request.auth
    )
    return _answer(external_id, created=not recorded.replayed)
