"""Order payloads as a storefront sends them, and shortcuts through commerce.services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from yunying.commerce.services import order_cancel, order_ingest, order_refund
from yunying.commerce.validation import cancel_validate, order_parse, refund_validate
from yunying.core.errors import ValidationFailed
from yunying.core.permissions import Actor, Role

PAID_AT = "2026-12-01T10:00:00+08:00"
STOREFRONT = Actor(kind="api_key", id=7, label="storefront", role=Role.INTEGRATION)


def order_payload(external_id: str = "SO-1", *, phone: str = "+8613800000001", **overrides: Any) -> dict:
    payload = {
        "external_id": external_id,
        "member": {"phone": phone},
        "channel": "app",
        "paid_at": PAID_AT,
        "lines": [
            {"sku": "TEA-1", "category": "tea", "unit_price_fen": 5000, "quantity": 2, "paid_fen": 9000},
            {"sku": "CUP-1", "category": "ware", "unit_price_fen": 1999, "quantity": 3, "paid_fen": 5997},
        ],
        "coupon_refs": ["C100"],
    }
    payload.update(overrides)
    return payload


def ingest(payload: dict | None = None, **overrides):
    return order_ingest(order=order_parse(payload or order_payload(**overrides)), actor=STOREFRONT)


def refund(order_id: str, /, **raw):
    raw.setdefault("occurred_at", timezone.now().isoformat())
    parsed, errors = refund_validate(raw)
    if parsed is None:
        raise ValidationFailed(errors)
    return order_refund(external_id=order_id, refund=parsed, actor=STOREFRONT)


def cancel(order_id: str, /, **raw):
    raw.setdefault("occurred_at", timezone.now().isoformat())
    parsed, errors = cancel_validate(raw)
    if parsed is None:
        raise ValidationFailed(errors)
    return order_cancel(external_id=order_id, cancel=parsed, actor=STOREFRONT)
