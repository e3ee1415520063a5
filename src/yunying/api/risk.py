"""Risk control through the API (issue 13): its decisions with their reasons, as JSON or CSV; a
storefront reporting that a person passed a challenge; a member asking for a human review (PIPL Art. 24)."""

import csv
import json
from datetime import datetime
from typing import Annotated, Any

from django.http import StreamingHttpResponse
from django.utils.translation import gettext
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BaseModel, ConfigDict

from yunying.api.params import MAX_ID, Bound, Pages
from yunying.core.idempotency import idempotent
from yunying.core.permissions import Perm
from yunying.core.spreadsheet import spreadsheet_text
from yunying.risk import selectors, services
from yunying.risk.models import Decision
from yunying.risk.rules import reason_label

router = Router(tags=["risk"])

CSV_MAX_ROWS = 100_000
DecisionId = Annotated[int, Path(ge=1, le=MAX_ID)]
Ref = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]{0,64}$", max_length=64)]
ENTRIES = "^(|member.register|sms.send|signup.create|coupon.claim|referral.reward|order.ingest)$"


class DecisionFilters(Schema):
    subject_type: Annotated[str, Field(pattern="^(|member|sms|signup|coupon|referral|order)$")] = ""
    subject_ref: Ref = ""
    member_ref: Ref = ""
    entry: Annotated[str, Field(pattern=ENTRIES)] = ""
    action: Annotated[str, Field(pattern="^(|allow|challenge|review|block)$")] = ""
    shadow: bool = Field(False, description="a shadow rule version's would-be decisions instead")
    since: Bound | None = Field(None, description="from this instant (ISO 8601 with an offset)")
    until: Bound | None = Field(None, description="before this instant")


class ReasonOut(Schema):
    rule: str
    label: str
    points: int
    signals: dict[str, Any]


class CaseOut(Schema):
    id: int
    status: str
    asked_by_member: bool


class DecisionOut(Schema):
    id: int
    entry: str
    subject_type: str
    subject_ref: str
    member_ref: str
    at: datetime
    score: int
    action: str
    reasons: list[ReasonOut]
    rule_version: int | None
    shadow: bool
    label: str
    case: CaseOut | None

    @staticmethod
    def resolve_reasons(decision: Decision) -> list[dict[str, Any]]:
        return [
            {
                "rule": reason.get("rule", ""),
                "label": gettext(reason_label(reason)),  # the rule's label, in the caller's language
                "points": reason.get("points", 0),
                "signals": reason.get("signals", {}),
            }
            for reason in decision.reasons or []
        ]

    @staticmethod
    def resolve_case(decision: Decision) -> dict[str, Any] | None:
        case = _case_of(decision)
        return (
            {"id": case.pk, "status": case.status, "asked_by_member": case.asked_by_member} if case else None
        )


def _case_of(decision: Decision) -> Any:
    try:
        return decision.case
    except Decision.case.RelatedObjectDoesNotExist:
        return None


@router.get("/decisions", response=list[DecisionOut], summary="Risk decisions, newest first (risk.view)")
@paginate(Pages)
def list_decisions(request, filters: Query[DecisionFilters]):
    request.auth.require(Perm.RISK_VIEW)
    return selectors.decision_list(**filters.model_dump())


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = ["id", "at", "entry", "subject_type", "subject_ref", "member_ref", "score", "action", "rules", "reasons", "rule_version", "shadow", "label", "case_status"]  # fmt: skip


def _csv_rows(query):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for decision in query[:CSV_MAX_ROWS].iterator(chunk_size=1000):
        case = _case_of(decision)
        reasons = decision.reasons or []
        yield writer.writerow(
            [spreadsheet_text(str(value)) for value in (
                decision.pk, decision.at.isoformat(), decision.entry, decision.subject_type, decision.subject_ref,
                decision.member_ref, decision.score, decision.action,
                " ".join(reason.get("rule", "") for reason in reasons),
                json.dumps(reasons, ensure_ascii=False), decision.rule_version if decision.rule_version is not None else "",
                "true" if decision.shadow else "false", decision.label, case.status if case else "",
            )]
        )  # fmt: skip


@router.get(
    "/decisions.csv",
    response={200: None},
    summary="Risk decisions as CSV, newest first, at most 100,000 rows (risk.view)",
    openapi_extra={
        "responses": {200: {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}
    },
)
def export_decisions(request, filters: Query[DecisionFilters]):
    request.auth.require(Perm.RISK_VIEW)
    response = StreamingHttpResponse(
        _csv_rows(selectors.decision_list(**filters.model_dump())), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="risk-decisions.csv"'
    return response


@router.get("/decisions/{decision_id}", response=DecisionOut, summary="One risk decision (risk.view)")
def get_decision(request, decision_id: DecisionId):
    request.auth.require(Perm.RISK_VIEW)
    return selectors.decision_get(decision_id)


Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


@router.post(
    "/challenges/{token}/pass",
    response={204: None},
    summary="Report that the person passed the extra verification (risk.challenge); then retry with the token",
)
def pass_challenge(request, token: Token):
    request.auth.require(Perm.RISK_CHALLENGE)
    services.challenge_pass(token=token, actor=request.auth)
    return Status(204, None)


class ReviewRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_ref: Ref = Field(description="The member's risk reference, as the decision names it")
    note: Annotated[str, Field(max_length=500)] = ""


class ReviewRequestOut(Schema):
    case_id: int
    status: str


@router.post(
    "/decisions/{decision_id}/review-requests",
    response={201: ReviewRequestOut},
    summary="The member asks a person to review an automated decision about them (risk.challenge)",
)
@idempotent
def ask_review(request, decision_id: DecisionId, payload: ReviewRequestIn):
    request.auth.require(Perm.RISK_CHALLENGE)
    case = services.case_ask(
        decision_id=decision_id, member_ref=payload.member_ref, note=payload.note.replace("\x00", "")
    )
    return Status(201, ReviewRequestOut(case_id=case.pk, status=case.status))
