"""The order facts commerce holds about a member, for the member's export (PIPL art. 45). An erasure
keeps them: they are the amounts the shop's books, tiers and ROI rest on, and once the member's
identity is erased they describe nobody (the order's member row is anonymous)."""

from __future__ import annotations

from yunying.commerce.models import Order


def orders_export(member_id: int) -> list[dict]:
    return [
        {
            "order": order.external_id,
            "channel": order.channel,
            "paid_at": order.paid_at.isoformat(),
            "total_fen": order.total_fen,
            "refunded_fen": order.refunded_fen,
            "status": order.status,
            "lines": [
                {
                    "sku": line.sku,
                    "category": line.category,
                    "quantity": line.quantity,
                    "paid_fen": line.paid_fen,
                }
                for line in order.lines.all()
            ],
        }
        for order in Order.objects.filter(member_id=member_id).prefetch_related("lines").order_by("id")
    ]


def orders_erase(member_id: int) -> dict[str, int]:
    """Orders stay as anonymous facts: only the signed quote (opaque, may name the member) goes."""
    return {"orders": Order.objects.filter(member_id=member_id).exclude(quote="").update(quote="")}


def holdings_register() -> None:
    """Declare what commerce holds (CommerceConfig.ready)."""
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="commerce.orders", label=_("Your orders: what you bought, when, and what you paid"),
        purpose=_("Points, member levels and offers that depend on your purchases"),
        retention=_("Kept as anonymous facts after you delete your account (accounting records)"),
        shared_with=(_("Our online shop"),),
        export=orders_export, erase=orders_erase,
    ))  # fmt: skip
