"""Members' requests about their data (PIPL arts. 44-47) for a help-desk or ticketing system: the
queue by deadline, a request recorded on the member's behalf, its data file, carried out or rejected.
The same services as the console's 隐私请求 (privacy.rights); permission privacy.requests."""

from datetime import datetime
from typing import Annotated, Any

from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, StrictBool

from yunying.api.params import MAX_ID, Pages
from yunying.core.errors import DomainError
from yunying.core.idempotency import idempotent
from yunying.core.permissions import Perm
from yunying.privacy import rights
from yunying.privacy.models import RequestChannel, RequestKind, RequestStatus
from yunying.privacy.rights_errors import RightsError
from yunying.privacy.rights_selectors import request_get, request_queue
from yunying.privacy.workdays import working_days_left

router = Router(tags=["privacy"])
RequestId = Annotated[int, Path(ge=1, le=MAX_ID)]
OPERATOR_CHANNELS = "|".join(c for c in RequestChannel.values if c != RequestChannel.SELF_SERVICE)


class RequestFilters(Schema):
    status: Annotated[str, Field(pattern=f"^({'|'.join(RequestStatus.values)})$")] = RequestStatus.OPEN


class RequestIn(Schema):
    model_config = ConfigDict(extra="forbid")
    member_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
    kind: Annotated[str, Field(pattern=f"^({'|'.join(RequestKind.values)})$")]
    channel: Annotated[str, Field(pattern=f"^({OPERATOR_CHANNELS})$", description="how it was received")]
    details: Annotated[str, Field(max_length=1000, description="what the member asked")] = ""


class NoteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, Field(max_length=1000, description="what was done (carry-out) or why (reject)")] = ""


class RejectIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[
        str, Field(min_length=1, max_length=1000, pattern=r"\S", description="the reason the member is given")
    ]


class CarryOutIn(NoteIn):
    identity_confirmed: StrictBool = Field(
        False,
        description="an erasure an operator recorded: the caller was checked to be the member (say how in "
        "`note`); a second operator carries it out",
    )


class HandOverIn(Schema):
    model_config = ConfigDict(extra="forbid")
    identity_confirmed: StrictBool = Field(
        False, description="the person asking was checked to be the member (say how in `note`)"
    )
    note: Annotated[str, Field(max_length=1000, description="how the member's identity was checked")] = ""


class RequestOut(Schema):
    id: int
    member_id: int
    kind: str
    channel: str
    status: str
    received_at: datetime
    due_at: datetime
    working_days_left: int | None  # negative when overdue; None once closed
    waiting_on: list[str]
    details: str
    created_by: str
    handled_by: str
    handled_at: datetime | None
    notes: str
    result: dict[str, Any]

    @staticmethod
    def resolve_working_days_left(obj) -> int | None:
        return working_days_left(obj.due_at, now=timezone.now()) if obj.status == RequestStatus.OPEN else None


def _found(request_id: int):
    found = request_get(request_id)
    if found is None:
        raise DomainError(RightsError.REQUEST_NOT_FOUND)
    return found


@router.get(
    "/requests", response=list[RequestOut], summary="The queue: open ones by deadline (privacy.requests)"
)
@paginate(Pages)
def list_requests(request, filters: Query[RequestFilters]):
    request.auth.require(Perm.PRIVACY_REQUESTS)
    return request_queue(status=filters.status)


@router.post(
    "/requests", response={201: RequestOut}, summary="Record a request received by phone, e-mail or letter"
)
@idempotent
def create_request(request, payload: RequestIn):
    made = rights.request_create(
        actor=request.auth, member_id=payload.member_id, kind=payload.kind, channel=payload.channel,
        details=payload.details,
    )  # fmt: skip
    return Status(201, RequestOut.from_orm(made))


@router.get("/requests/{int:request_id}", response=RequestOut, summary="One request")
def get_request(request, request_id: RequestId):
    request.auth.require(Perm.PRIVACY_REQUESTS)
    return _found(request_id)


@router.post(
    "/requests/{int:request_id}/export",
    response=dict[str, Any],
    summary="The member's data to send them, for an export or access request (a logged read in clear; "
    "a second operator, who checked who asked)",
)
def export_request(request, request_id: RequestId, payload: HandOverIn):
    return rights.request_export(
        actor=request.auth,
        request_id=request_id,
        identity_confirmed=payload.identity_confirmed,
        notes=payload.note,
    )


@router.post(
    "/requests/{int:request_id}/carry-out", response=RequestOut, summary="Carry out (an erasure runs now)"
)
def carry_out(request, request_id: RequestId, payload: CarryOutIn):
    return rights.request_carry_out(
        actor=request.auth,
        request_id=request_id,
        notes=payload.note,
        identity_confirmed=payload.identity_confirmed,
    )


@router.post("/requests/{int:request_id}/reject", response=RequestOut, summary="Reject, with the reason")
def reject(request, request_id: RequestId, payload: RejectIn):
    return rights.request_reject(actor=request.auth, request_id=request_id, reason=payload.note)
