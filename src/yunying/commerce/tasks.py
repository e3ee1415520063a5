"""Background work of the commerce app (django-tasks; the RQ backend on Redis when REDIS_URL is set).

A task only names an import job; the job's row says what is to be done, and the worker's periodic
pass (commerce.imports) runs the same job when no queue is configured or a task is lost."""

from __future__ import annotations

from django_tasks import task

from yunying.commerce.imports.jobs import import_execute


@task()
def import_run_task(job_id: int) -> None:
    import_execute(job_id)
