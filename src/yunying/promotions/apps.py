from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "yunying.promotions"
    label = "promotions"
    verbose_name = "Promotions"

    def ready(self) -> None:
        from yunying.promotions import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
        from yunying.promotions.personal_data import holdings_register

        holdings_register()  # what the member's data centre lists, exports and erases (PIPL arts. 44-47)
        from yunying.commerce.events import order_subscribe
        from yunying.core.activity import activity_subscribe
        from yunying.core.registry import periodic_job_register
        from yunying.promotions import errors, issuing, redemption, services  # noqa: F401 (messages)

        # Orders redeem what their quote applied, in the order's transaction (a refusal refuses the
        # order); refunds and cancellations give it back.
        order_subscribe("promotions.redemption", redemption.on_order_fact)
        # Coupons on events: registration, sign-up, tier upgrade, first order.
        activity_subscribe("promotions.issuing", issuing.on_activity)
        order_subscribe("promotions.issuing", issuing.on_order)
        # Coupons past their end are marked expired (quotes skip them before this runs anyway).
        periodic_job_register("promotions.coupons_expire", services.coupons_expire_due)
        # A coupon claim risk control held: approving its case issues the coupon.
        from yunying.risk.outcomes import case_outcome_register

        case_outcome_register("coupon", services.coupon_claim_risk_outcome)
