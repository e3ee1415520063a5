from django.apps import AppConfig
from django.db.models.signals import post_migrate


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
        post_migrate.connect(_append_only_ensure, sender=self)


def _append_only_ensure(sender, using: str = "default", **kwargs) -> None:
    # After every migrate (tests, `make run`, upgrades): the append-only tables' triggers are there,
    # whatever a migration did to the tables (core.audit.append_only_ensure).
    from django.db import connections, transaction

    from yunying.core.audit import append_only_ensure

    with transaction.atomic(using=using):
        append_only_ensure(connections[using])
