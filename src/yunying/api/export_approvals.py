"""Two-person rule for bulk exports in clear (S2): request, approve, reject. The download itself is
the sign-up export (or list) with `reveal=true&approval=<id>`."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict

from yunying.api.params import MAX_ID
from yunying.campaigns.models import Channel, SignupStatus
from yunying.core.idempotency import idempotent
from yunying.core.purposes import Purpose
from yunying.privacy import exports
from yunying.privacy.models import ExportApproval

router = Router(tags=["privacy"])
ApprovalId = Annotated[int, Path(ge=1, le=MAX_ID)]


class ApprovalRequestIn(Schema):
    model_config = ConfigDict(extra="forbid")
    campaign_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
    format: Annotated[str, Field(pattern="^(csv|xlsx|list)$")] = Field(
        "csv", description="csv or xlsx: one export; list: the paginated list in clear until expiry"
    )
    status: Annotated[str, Field(pattern=f"^({'|'.join(SignupStatus.values)})?$")] = Field(
        "", description="the export's status filter"
    )
    channel: Annotated[str, Field(pattern=f"^({'|'.join(Channel.values)})?$")] = Field(
        "", description="the export's channel filter"
    )
    purpose: Purpose
    purpose_note: Annotated[str, Field(max_length=200)] = ""


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, Field(max_length=500)] = ""


class ApprovalOut(Schema):
    id: int
    campaign_id: int
    format: str
    status_filter: str
    channel_filter: str
    purpose: str
    purpose_note: str
    state: str
    requester_kind: str
    requester_id: int | None
    requester_label: str
    approver_kind: str
    approver_id: int | None
    approver_label: str
    requested_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None
    used_at: datetime | None


@router.post(
    "/export-approvals",
    response={201: ApprovalOut},
    summary="Ask a second operator to approve an export in clear (pii.reveal_bulk)",
)
@idempotent
def request_approval(request, payload: ApprovalRequestIn):
    scope = exports.Scope(payload.campaign_id, payload.format, payload.status, payload.channel)
    approval = exports.approval_request(
        actor=request.auth, scope=scope, purpose=payload.purpose, note=payload.purpose_note
    )
    return Status(201, ApprovalOut.from_orm(approval))


@router.get("/export-approvals/{int:approval_id}", response=ApprovalOut, summary="One export approval")
def get_approval(request, approval_id: ApprovalId):
    return exports.approval_visible(actor=request.auth, approval_id=approval_id)


def _decide(request, approval_id: int, payload: DecisionIn, approve: bool) -> ExportApproval:
    return exports.approval_decide(
        actor=request.auth, approval_id=approval_id, approve=approve, note=payload.note
    )


@router.post(
    "/export-approvals/{int:approval_id}/approve",
    response=ApprovalOut,
    summary="Approve another operator's export in clear (pii.export_approve; never one's own)",
)
def approve(request, approval_id: ApprovalId, payload: DecisionIn):
    return _decide(request, approval_id, payload, True)


@router.post(
    "/export-approvals/{int:approval_id}/reject",
    response=ApprovalOut,
    summary="Reject an export request (pii.export_approve)",
)
def reject(request, approval_id: ApprovalId, payload: DecisionIn):
    return _decide(request, approval_id, payload, False)
