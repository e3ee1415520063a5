"""Complaints from customer service tools (issue 13, R4): counted by risk control's early warning for
complaint spikes. The storefront's key (order.ingest) reports them; the note stays in risk's table and
never reaches an alert."""

from typing import Annotated, Literal

from ninja import Field, Router, Status
from pydantic import BaseModel, ConfigDict

from yunying.api.params import Instant
from yunying.core.idempotency import idempotent
from yunying.core.permissions import Perm
from yunying.risk.models import ComplaintCategory
from yunying.risk.warnings import complaint_record

router = Router(tags=["risk"])

Ref = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{0,64}$", max_length=64)]
Category = Literal[tuple(ComplaintCategory.values)]  # type: ignore[valid-type]


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Category = Field(description="One of: " + ", ".join(ComplaintCategory.values))  # type: ignore[valid-type]
    subject_ref: Ref = Field("", description="What it is about: an order's or a sign-up's external id")
    member_ref: Ref = Field("", description="The member's external id, when known")
    channel: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{0,20}$")] = ""
    at: Instant | None = Field(
        None, description="When the complaint was made (ISO 8601 with an offset); now if absent"
    )
    note: Annotated[str, Field(max_length=500)] = ""


class ComplaintOut(BaseModel):
    id: int
    category: str
    at: str


@router.post("/complaints", response={201: ComplaintOut}, summary="Report a customer complaint (201)")
@idempotent
def create_complaint(request, payload: ComplaintIn):
    request.auth.require(Perm.ORDER_INGEST)
    complaint = complaint_record(
        category=payload.category,
        subject_ref=payload.subject_ref,
        member_ref=payload.member_ref,
        channel=payload.channel,
        note=payload.note.replace("\x00", ""),
        at=payload.at,
        actor=request.auth,
    )
    return Status(
        201, ComplaintOut(id=complaint.pk, category=complaint.category, at=complaint.at.isoformat())
    )
