"""API authentication: `Authorization: Bearer yy_…` or `X-API-Key: yy_…`; per-key rate limit."""

from __future__ import annotations

from django.conf import settings
from ninja.security import APIKeyHeader, HttpBearer

from yunying.core.apikeys import apikey_authenticate
from yunying.core.permissions import Actor
from yunying.core.ratelimit import ratelimit_hit


def _authenticate(token: str) -> Actor | None:
    actor = apikey_authenticate(token)
    if actor is not None:
        ratelimit_hit(scope="api_key", key=str(actor.id), limit=settings.RATE_LIMITS["api_key"])
    return actor


class BearerKey(HttpBearer):
    def authenticate(self, request, token):
        return _authenticate(token)


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return _authenticate(key) if key else None


AUTH = [BearerKey(), HeaderKey()]
