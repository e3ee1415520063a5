from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "yunying.risk"
    label = "risk"
    verbose_name = "Risk control"

    def ready(self) -> None:
        from yunying.risk import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
        from yunying.risk.personal_data import holdings_register

        holdings_register()  # what the member's data centre lists, exports and erases (PIPL arts. 44-47)
        from yunying.commerce.events import order_subscribe
        from yunying.core.registry import periodic_job_register
        from yunying.notify.templates import templates_register
        from yunying.risk import errors, jobs, orders, warnings  # noqa: F401 (messages)

        # Live orders are judged for brushing (never refused: orders are facts).
        order_subscribe("risk.orders", orders.on_order_fact)
        # Counter rows older than the longest window are dropped; early warning looks for spikes.
        periodic_job_register("risk.hits_prune", jobs.hits_prune_due)
        periodic_job_register("risk.warnings", warnings.warnings_due)
        order_subscribe("risk.money_facts", warnings.order_fact_record)
        templates_register([warnings.TEMPLATE], warnings.messages_load)
        from yunying.risk.services import REVIEW_DECIDED_TEMPLATE, review_answers_load

        templates_register([REVIEW_DECIDED_TEMPLATE], review_answers_load)
