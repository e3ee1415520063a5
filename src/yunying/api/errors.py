"""The one table from error code to HTTP status, and the problem+json rendering (RFC 9457)."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from yunying.core.errors import CoreError, DomainError, FieldError, database_busy
from yunying.core.problems import problem
from yunying.core.ratelimit import client_key, ratelimit_hit
from yunying.core.validation_messages import validation_message

logger = logging.getLogger(__name__)

STATUS_BY_CODE: dict[str, int] = {
    "core.internal": 500,
    "core.busy": 503,
    "core.not_found": 404,
    "core.permission_denied": 403,
    "core.unauthenticated": 401,
    "core.rate_limited": 429,
    "core.invalid": 422,
    "core.malformed_json": 400,
    "core.bad_request": 400,
    "core.host_not_allowed": 400,
    "core.body_too_large": 413,
    "core.method_not_allowed": 405,
    "core.idempotency_key_reused": 422,
    "campaign.not_found": 404,
    "campaign.not_open": 409,
    "campaign.full": 409,
    "risk.blocked": 403,
    "risk.challenge_required": 428,
    "risk.challenge_invalid": 409,
    "risk.under_review": 409,
    "risk.decision_not_found": 404,
    "risk.case_not_found": 404,
    "risk.case_decided": 409,
    "risk.review_already_asked": 409,
    "risk.rules_invalid": 422,
    "risk.rules_stale": 409,
    "risk.list_entry_invalid": 422,
    "risk.list_entry_not_found": 404,
    "risk.register_not_found": 404,
    "risk.traffic_invalid": 422,
    "campaign.invalid_transition": 409,
    "campaign.rules_locked": 409,
    "campaign.incomplete": 422,
    "campaign.channel_not_allowed": 422,
    "campaign.not_lottery": 409,
    "campaign.already_drawn": 409,
    "campaign.not_drawn": 404,
    "campaign.draw_not_ready": 409,
    "campaign.reason_required": 422,
    "campaign.not_deletable": 409,
    "campaign.event_started": 409,
    "signup.not_found": 404,
    "signup.duplicate": 409,
    "signup.previously_refused": 409,
    "signup.ineligible": 422,
    "signup.invalid_transition": 409,
    "signup.reason_required": 422,
    "attendance.unknown_code": 404,
    "attendance.wrong_campaign": 409,
    "attendance.not_confirmed": 409,
    "attendance.already_checked_in": 409,
    "member.phone_invalid": 422,
    "member.identity_required": 422,
    "member.identity_conflict": 409,
    "member.region_invalid": 422,
    "member.birth_date_invalid": 422,
    "member.name_invalid": 422,
    "member.phone_not_mobile": 422,
    "member.identity_mismatch": 409,
    "member.link_conflict": 409,
    "member.not_found": 404,
    "tag.not_found": 404,
    "tag.name_taken": 409,
    "tag.name_invalid": 422,
    "tag.rule_based": 409,
    "tag.too_many_members": 422,
    "segment.not_found": 404,
    "segment.name_taken": 409,
    "segment.self_reference": 422,
    "segment.tag_taken": 409,
    "segment.no_channel": 422,
    "segment.message_empty": 422,
    "form.definition_invalid": 422,
    "order.not_found": 404,
    "order.conflict": 409,
    "order.event_conflict": 409,
    "order.line_not_found": 422,
    "order.over_refund": 409,
    "order.cancelled": 409,
    "order.not_cancellable": 409,
    "order.refund_empty": 422,
    "order.before_payment": 422,
    "loyalty.rules_changed": 409,
    "brokerage.promoter_not_found": 404,
    "brokerage.promoter_exists": 409,
    "brokerage.promoter_inactive": 409,
    "brokerage.partner_name_required": 422,
    "brokerage.self_binding": 409,
    "brokerage.circular": 409,
    "brokerage.already_bound": 409,
    "brokerage.levels_invalid": 422,
    "brokerage.rate_invalid": 422,
    "brokerage.category_invalid": 422,
    "brokerage.applications_closed": 409,
    "brokerage.invalid_transition": 409,
    "brokerage.statement_not_found": 404,
    "brokerage.statement_paid": 409,
    "brokerage.reference_required": 422,
    "brokerage.month_not_closed": 409,
    "loyalty.member_not_found": 404,
    "loyalty.points_invalid": 422,
    "loyalty.insufficient_points": 409,
    "loyalty.key_conflict": 409,
    "loyalty.posting_not_found": 404,
    "loyalty.over_restore": 409,
    "loyalty.over_reverse": 409,
    "loyalty.checkin_closed": 409,
    "loyalty.checkin_rule_invalid": 422,
    "loyalty.task_list_invalid": 422,
    "loyalty.task_list_not_found": 404,
    "loyalty.referral_rule_invalid": 422,
    "loyalty.referral_not_found": 404,
    "loyalty.referral_not_in_review": 409,
    "promotion.not_found": 404,
    "promotion.terms_invalid": 422,
    "promotion.changed": 409,
    "promotion.invalid_transition": 409,
    "promotion.not_a_coupon": 422,
    "promotion.not_claimable": 403,
    "promotion.not_active": 409,
    "promotion.issue_limit_reached": 409,
    "promotion.member_limit_reached": 409,
    "promotion.code_unknown": 404,
    "promotion.code_used": 409,
    "promotion.codes_invalid": 422,
    "promotion.member_not_found": 404,
    "promotion.quote_invalid": 422,
    "promotion.quote_expired": 422,
    "promotion.quote_mismatch": 422,
    "promotion.quote_used": 409,
    "promotion.coupon_unavailable": 409,
    "promotion.limit_reached": 409,
    "promotion.budget_exhausted": 409,
    "promotion.budget_invalid": 422,
    "promotion.budget_not_found": 404,
    "promotion.budget_exists": 409,
    "promotion.topup_not_found": 404,
    "promotion.topup_decided": 409,
    "promotion.same_person": 403,
    "promotion.coupon_not_found": 404,
    "promotion.points_not_on_sale": 409,
    "promotion.segment_too_large": 422,
    # members' requests about their data (privacy.rights)
    "privacy.request_not_found": 404,
    "privacy.request_closed": 409,
    "privacy.request_not_export": 409,
    "privacy.erasure_waiting": 409,
    "privacy.reason_required": 422,
    "privacy.member_erased": 409,
    "privacy.kind_invalid": 422,
    "privacy.details_too_long": 422,
    "privacy.identity_unconfirmed": 422,
    "privacy.same_person": 403,
    "privacy.recorder_unidentified": 403,
    "privacy.channel_invalid": 422,
    # the two-person rule of bulk exports in clear (privacy.exports)
    "export.approval_required": 403,
    "export.approval_not_found": 404,
    "export.self_approval": 403,
    "export.approver_unidentified": 403,
    "export.requester_unidentified": 403,
    "export.not_requester": 403,
    "export.not_approved": 403,
    "export.approval_used": 403,
    "export.approval_expired": 403,
    "export.scope_mismatch": 403,
    "export.not_pending": 409,
    "export.format_invalid": 422,
    "export.filter_invalid": 422,
}


def _field_path(loc: list) -> str:
    # ninja locations look like ["body", "payload", "member", "phone"]: drop the source and param name.
    # A body's parameter name (ninja's "payload") is internal: a missing body is the field "body".
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:]
    elif parts and parts[0] in ("query", "path", "header", "form"):
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    return ".".join(parts) or "body"


def _client_ip(request: HttpRequest) -> str:
    return client_key(request.META.get("REMOTE_ADDR", "unknown"))


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def on_domain_error(request, exc: DomainError):
        status = STATUS_BY_CODE.get(exc.code, 422 if exc.code.startswith("form.") else 400)
        return problem(exc.code, status, detail=exc.message, **exc.data)

    @api.exception_handler(ValidationError)
    def on_validation_error(request, exc: ValidationError):
        errors = [
            FieldError(
                _field_path(list(e.get("loc", []))),
                CoreError.INVALID,
                validation_message(e.get("msg", "")),
                type=e.get("type"),
            )
            for e in exc.errors
        ]
        return problem(CoreError.INVALID, 422, errors=errors)

    @api.exception_handler(AuthenticationError)
    def on_auth_error(request, exc):
        # Count failed authentications per IP: guessing keys gets a 429 long before it gets anywhere.
        from django.conf import settings

        try:
            ratelimit_hit(
                scope="auth_failure", key=_client_ip(request), limit=settings.RATE_LIMITS["auth_failure_ip"]
            )
        except DomainError as limited:
            return problem(limited.code, 429, **limited.data)
        return problem(CoreError.UNAUTHENTICATED, 401)

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        if exc.status_code == 400:  # ninja raises this only when the body is not parseable JSON
            return problem(CoreError.MALFORMED_JSON, 400)
        if exc.status_code == 404:
            return problem(CoreError.NOT_FOUND, 404)
        return problem(CoreError.INVALID, exc.status_code, detail=str(exc))

    @api.exception_handler(DatabaseError)
    def on_database_error(request, exc: DatabaseError):
        if database_busy(exc):  # a bounded lock wait ran out: nothing was done, retry shortly
            logger.warning("database busy on %s %s: %s", request.method, request.path, exc)
            return problem(CoreError.BUSY, 503, retry_after=1)
        logger.exception("database error on %s %s", request.method, request.path)
        return problem(CoreError.INTERNAL, 500)

    @api.exception_handler(Exception)
    def on_unexpected(request, exc: Exception):
        # Still a 500, but in the same shape and logged with its traceback; nothing internal leaks.
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem(CoreError.INTERNAL, 500)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 (no route matched): problem+json under /api/, the usual page elsewhere."""
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return problem(CoreError.NOT_FOUND, 404)
    return page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (a Host not in ALLOWED_HOSTS, a suspicious request): problem+json under /api/."""
    from django.core.exceptions import DisallowedHost
    from django.views.defaults import bad_request as page_bad_request

    if request.path.startswith("/api/"):
        code = CoreError.HOST_NOT_ALLOWED if isinstance(exception, DisallowedHost) else CoreError.BAD_REQUEST
        return problem(code, 400)
    return page_bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """A failure outside the API's own handlers (a middleware): still problem+json under /api/."""
    from django.views.defaults import server_error as page_server_error

    if request.path.startswith("/api/"):
        return problem(CoreError.INTERNAL, 500)
    return page_server_error(request)
