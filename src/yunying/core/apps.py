from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunying.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from yunying.core import checks  # noqa: F401 - registers the deployment checks
        from yunying.core.chain import chain_anchor_job
        from yunying.core.registry import periodic_job_register
        from yunying.core.retention import idempotency_retention_job

        periodic_job_register("core.idempotency_retention", idempotency_retention_job)
        periodic_job_register("core.chain_anchor", chain_anchor_job)
