from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "yunying.analytics"
    label = "analytics"
    verbose_name = "Analytics and segments"

    def ready(self) -> None:
        from yunying.analytics import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
        from yunying.analytics.personal_data import holdings_register

        holdings_register()  # what the member's data centre lists, exports and erases (PIPL arts. 44-47)
        # The marketing message a segment's audience receives, rendered by the outbox worker; the
        # periodic RFM and segment recompute, run by `yunying worker`.
        from yunying.analytics import services
        from yunying.core.registry import periodic_job_register
        from yunying.notify.templates import MARKETING, templates_register

        # A marketing purpose: notify asks again at send time whether each member still agrees (N3).
        templates_register([services.MARKETING_TEMPLATE], services.segment_messages_load, purpose=MARKETING)
        periodic_job_register("analytics.segments_recompute", services.segments_recompute_job)
