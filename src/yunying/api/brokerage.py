"""分销 brokerage for the storefront, under /api/v1/loyalty: who a promoter's code is (to show
"recommended by"), binding a member to the promoter whose link or code brought them, and a
promoter's summary (for the promoter's own page in an app). No personal data: a member promoter's
name is masked."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Path, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from yunying.api.params import MAX_ID
from yunying.core.idempotency import idempotent
from yunying.core.permissions import Perm
from yunying.loyalty import brokerage
from yunying.loyalty.models import Promoter
from yunying.members.services import member_contact

router = Router(tags=["brokerage"])

PromoterCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{4,16}$", max_length=16)]


class PromoterOut(Schema):
    code: str
    display_name: str = Field(description="A partner's name, or a member promoter's masked name")
    active: bool


class BindIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
    source: Annotated[str, Field(pattern=r"^(link|code)$")] = "code"


class BindingOut(Schema):
    member_id: int
    promoter_code: str
    bound_at: datetime
    ends_at: datetime | None


class SummaryOut(Schema):
    code: str
    state: str
    held_fen: int = Field(description="Commission waiting for the return window to close")
    available_fen: int = Field(description="Released, not yet in a statement (negative after a late refund)")
    statements_open_fen: int
    paid_fen: int
    balance_fen: int = Field(description="Still owed: the sum of the promoter's ledger")
    bound_members: int
    orders: int


def display_name(promoter: Promoter) -> str:
    if promoter.member_id is None:
        return promoter.partner_name
    return member_contact(promoter.member, reveal=False)["name"] or ""


@router.get("/promoters/{code}", response=PromoterOut, summary="A promoter by code (to show who recommended)")
def get_promoter(request, code: PromoterCode):
    request.auth.require(Perm.LOYALTY_VIEW)
    promoter = brokerage.promoter_get(code)
    return {
        "code": promoter.code,
        "display_name": display_name(promoter),
        "active": promoter.state == "active",
    }


@router.post(
    "/promoters/{code}/bindings",
    response={200: BindingOut, 201: BindingOut},
    summary="Bind a member to the promoter whose link or code brought them (201; 200 when already bound to it)",
)
@idempotent
def bind_member(request, code: PromoterCode, payload: BindIn):
    request.auth.require(Perm.BROKERAGE_BIND)
    bound = brokerage.member_bind(
        member_id=payload.member_id, code=code, source=payload.source, actor=request.auth
    )
    binding = bound.binding
    body = {
        "member_id": binding.member_id,
        "promoter_code": binding.promoter.code,
        "bound_at": binding.bound_at,
        "ends_at": binding.ends_at,
    }
    return Status(201 if bound.created else 200, body)


@router.get("/promoters/{code}/summary", response=SummaryOut, summary="A promoter's commission and members")
def promoter_summary(request, code: PromoterCode):
    request.auth.require(Perm.BROKERAGE_VIEW)
    promoter = brokerage.promoter_get(code)
    summary = brokerage.promoter_summary(promoter)
    return {"code": promoter.code, "state": promoter.state, **vars(summary)}
