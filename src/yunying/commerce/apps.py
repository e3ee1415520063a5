from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "yunying.commerce"
    label = "commerce"
    verbose_name = "Order facts"

    def ready(self) -> None:
        from yunying.commerce import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
        from yunying.commerce.personal_data import holdings_register

        holdings_register()  # what the member's data centre lists, exports and erases (PIPL arts. 44-47)
        from yunying.commerce.imports import errors  # noqa: F401 - registers the import messages
        from yunying.commerce.imports.jobs import imports_run_due
        from yunying.core.registry import periodic_job_register

        # Import jobs waiting for a worker, or abandoned by one that died (resumed from the top).
        periodic_job_register("commerce.imports", imports_run_due)
