from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "yunying.loyalty"
    label = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from yunying.loyalty import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
        from yunying.loyalty.personal_data import holdings_register

        holdings_register()  # what the member's data centre lists, exports and erases (PIPL arts. 44-47)
        from yunying.commerce.events import order_subscribe
        from yunying.core.activity import activity_subscribe
        from yunying.core.registry import periodic_job_register
        from yunying.loyalty import brokerage, earning, jobs, ledger, referrals, tasks, tiers
        from yunying.notify.templates import templates_register

        # Order points whose return window closed become spendable; lots past their date expire.
        periodic_job_register("loyalty.points_mature", ledger.points_mature_due)
        periodic_job_register("loyalty.points_expire", ledger.points_expire_due)
        # Earning rules (loyalty.earning): order points, refunds, sign-up/attendance/welcome points.
        order_subscribe("loyalty.earning", earning.on_order_fact)
        activity_subscribe("loyalty.earning", earning.on_activity)

        # 分销: commission follows order facts, in the transaction recording them; held commission is
        # released when the return window closes; last month's statements are made once it ended.
        order_subscribe("loyalty.brokerage", brokerage.order_fact_handle)
        periodic_job_register("brokerage.release", brokerage.commission_release_due)
        periodic_job_register("brokerage.statements", brokerage.statements_due)
        # Incentives: tasks and referrals follow what members do; referral rewards settle when the
        # invitee's first order is past its return window.
        activity_subscribe("loyalty.tasks", tasks.on_activity)
        activity_subscribe("loyalty.referrals", referrals.on_activity)
        order_subscribe("loyalty.tasks", tasks.on_order)
        order_subscribe("loyalty.referrals", referrals.on_order)
        periodic_job_register("loyalty.referrals_settle", referrals.referrals_settle_due)
        # A referral reward risk control held: deciding its case decides the referral.
        from yunying.risk.outcomes import case_outcome_register

        case_outcome_register("referral", referrals.referral_risk_outcome)
        periodic_job_register("loyalty.first_order_tasks", tasks.first_orders_due)
        # Lots against balances, hourly: any drift raises an alert (yunying points_reconcile to see it).
        periodic_job_register("loyalty.points_reconcile", jobs.points_reconcile_hourly)
        # Tiers: growth follows order facts (an upgrade at once); the daily evaluation downgrades by
        # the programme's policy; the level's multiplier applies to order points; members are told.
        order_subscribe("loyalty.tiers", tiers.on_order_fact)
        periodic_job_register("loyalty.tiers_evaluate", tiers.tiers_evaluate_due)
        periodic_job_register("loyalty.birthday_gifts", tiers.birthday_gifts_due)
        earning.multiplier_register("tier", tiers.tier_points_multiplier_permille)
        templates_register([tiers.TEMPLATE], tiers.messages_load)
