"""The coupons promotions holds for a member, for the member's export (PIPL art. 45). An erasure
keeps coupons and redemptions as anonymous facts: redemption counts and budget spend stay right."""

from __future__ import annotations

from yunying.promotions.models import Coupon


def coupons_export(member_id: int) -> list[dict]:
    return [
        {"promotion": c.promotion.name, "state": c.state, "source": c.source,
         "issued_at": c.issued_at.isoformat(), "used_at": c.used_at.isoformat() if c.used_at else None,
         "valid_until": c.valid_until.isoformat() if c.valid_until else None}
        for c in Coupon.objects.filter(member_id=member_id).select_related("promotion").order_by("id")
    ]  # fmt: skip


def holdings_register() -> None:
    """Declare what promotions holds (PromotionsConfig.ready)."""
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="promotions.coupons", label=_("Your coupons and where you used them"),
        purpose=_("To give you coupons and apply them at checkout"),
        retention=_("As long as you are a member; coupon uses stay as anonymous facts after you delete your account"),
        shared_with=(_("Our online shop"),),
        export=coupons_export, erase=None,
    ))  # fmt: skip
