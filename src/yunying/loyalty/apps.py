from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "yunying.loyalty"
    label = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from yunying.core.registry import periodic_job_register
        from yunying.loyalty import ledger

        # Order points whose return window closed become spendable; lots past their date expire.
        periodic_job_register("loyalty.points_mature", ledger.points_mature_due)
        periodic_job_register("loyalty.points_expire", ledger.points_expire_due)

        from yunying.loyalty.jobs import points_reconcile_hourly

        periodic_job_register("loyalty.points_reconcile", points_reconcile_hourly)
