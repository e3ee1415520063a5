"""The REST API, /api/v1 (OpenAPI at /api/v1/docs). One router per domain; handlers stay thin."""

from datetime import UTC, datetime

from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from yunying.api import errors
from yunying.api.audit import router as audit_router
from yunying.api.auth import AUTH
from yunying.api.brokerage import router as brokerage_router
from yunying.api.campaigns import router as campaigns_router
from yunying.api.export_approvals import router as export_approvals_router
from yunying.api.incentives import router as incentives_router
from yunying.api.members import router as members_router
from yunying.api.members import status_router
from yunying.api.openapi import YunyingAPI
from yunying.api.orders import router as orders_router
from yunying.api.points import router as points_router
from yunying.api.privacy_requests import router as privacy_requests_router
from yunying.api.promotions import quotes_router
from yunying.api.promotions import router as promotions_router
from yunying.api.risk import router as risk_router
from yunying.api.risk_complaints import router as risk_complaints_router
from yunying.api.signups import router as signups_router


class UtcJSONEncoder(NinjaJSONEncoder):
    """Every moment in UTC ("Z"): a value computed in the configured zone (a deadline, a period's
    start) reads the same in the response that made it as in every later read from the database."""

    def default(self, o):
        if isinstance(o, datetime) and o.tzinfo is not None:
            o = o.astimezone(UTC)
        return super().default(o)


class Utf8JSONRenderer(JSONRenderer):
    """Chinese text as itself, not \\u escapes: readable in curl and logs, and shorter on the wire."""

    encoder_class = UtcJSONEncoder
    json_dumps_params = {"ensure_ascii": False}


api = YunyingAPI(
    renderer=Utf8JSONRenderer(),
    title="Yunying API",
    version="1.0",
    description="Campaigns and sign-ups (活动报名). Errors are application/problem+json with a stable `code`.",
    auth=AUTH,
    urls_namespace="api-v1",
)
errors.install(api)
api.add_router("/campaigns", campaigns_router)
api.add_router("/campaigns", signups_router)
api.add_router("/campaigns", status_router)
api.add_router("/members", members_router)
api.add_router("/audit", audit_router)
api.add_router("/privacy", export_approvals_router)
api.add_router("/privacy", privacy_requests_router)
api.add_router("/orders", orders_router)
api.add_router("/loyalty", brokerage_router)
api.add_router("/loyalty", incentives_router)
api.add_router("/loyalty", points_router)
api.add_router("/promotions", promotions_router)
api.add_router("/quotes", quotes_router)
api.add_router("/risk", risk_router)
api.add_router("/risk", risk_complaints_router)
