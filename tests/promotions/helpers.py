"""Promotions made through the services (the only writer), and a quote → order round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from tests.commerce.helpers import STOREFRONT
from yunying.commerce.services import order_ingest
from yunying.commerce.validation import order_parse
from yunying.core.permissions import SYSTEM
from yunying.promotions.models import PromotionState
from yunying.promotions.quoting import QuoteLine, quote_cart
from yunying.promotions.services import budget_create, promotion_create, promotion_transition
from yunying.promotions.terms import promotion_validate

STARTED = datetime(2024, 1, 1, tzinfo=UTC)


def promotion_make(kind: str, *, start: bool = True, **fields):
    raw = {"name": f"{kind} offer", "kind": kind, "starts_at": STARTED, **fields}
    if kind.startswith("coupon_") and "valid_days" not in raw and "coupon_valid_until" not in raw:
        raw["valid_days"] = 30
    spec, errors = promotion_validate(raw)
    assert spec is not None, errors
    promotion = promotion_create(spec=spec, actor=SYSTEM)
    if start:
        promotion = promotion_transition(promotion_id=promotion.pk, to=PromotionState.ACTIVE, actor=SYSTEM)
    return promotion


def budget_make(promotion, base_fen: int):
    return budget_create(scope="promotion", promotion_id=promotion.pk, base_fen=base_fen, actor=SYSTEM)


CART = [QuoteLine("TEA-1", "tea", 12000, 1), QuoteLine("CUP-1", "ware", 4000, 2)]  # 20000 fen


def quote(member_id, lines=CART, **kwargs):
    return quote_cart(member_id=member_id, lines=lines, channel="app", **kwargs)


def order_from(result, external_id: str, *, phone: str, lines=CART, **overrides):
    """The order a storefront records after charging what the quote said."""
    paid = {line.line_no: line.paid_fen for line in result.quote.lines}
    payload = {
        "external_id": external_id,
        "member": {"phone": phone},
        "channel": "app",
        "paid_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "lines": [
            {
                "sku": line.sku,
                "category": line.category,
                "unit_price_fen": line.unit_price_fen,
                "quantity": line.quantity,
                "paid_fen": paid[number],
            }
            for number, line in enumerate(lines, start=1)
        ],
        "quote": result.token,
    }
    payload.update(overrides)
    return payload


def ingest(payload):
    return order_ingest(order=order_parse(payload), actor=STOREFRONT)
