"""The operator audit trail (S5), read by auditors and strategy: who did what, when, to which object."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from yunying.api.params import Bound, Day, Pages
from yunying.core.audit import audit_list
from yunying.core.permissions import Perm

router = Router(tags=["audit"])


class AuditFilters(Schema):
    actor: Annotated[str, Field(max_length=150, description='"<kind>:<id>" (api_key:3) or a label')] = ""
    action: Annotated[str, Field(max_length=40, description='"campaign.cancel", or "campaign" for all')] = ""
    object_type: Annotated[str, Field(max_length=30)] = ""
    object_id: Annotated[str, Field(max_length=40)] = ""
    since: Day | Bound | None = Field(None, description="from this instant (a date: its start)")
    until: Day | Bound | None = Field(None, description="before this instant (a date: to its end)")


class AuditOut(Schema):
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_label: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    request_id: str  # the X-Request-ID of the request that made the change ("" for the worker)


@router.get("", response=list[AuditOut], summary="The audit trail, newest first (audit.view)")
@paginate(Pages)
def list_audit(request, filters: Query[AuditFilters]):
    request.auth.require(Perm.AUDIT_VIEW)
    return audit_list(**filters.model_dump())
