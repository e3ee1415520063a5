"""The outbox backlog as Prometheus gauges, read from the database at each scrape (GET /metrics)."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from yunying.notify.models import OutboxMessage


class OutboxCollector:
    """Outbox gauges computed from the database at each scrape (one query, on the status index).

    pending = due now and waiting for the worker; scheduled = pending with a later due time (a
    reminder, a retry after backoff); the oldest pending age is how long the oldest due message has
    waited past its due time — it grows when no worker runs. Registered with core.metrics by
    NotifyConfig.ready (core.registry), instantiated at scrape time."""

    def collect(self):
        now = timezone.now()
        due = Q(status="pending", due_at__lte=now)
        row = OutboxMessage.objects.filter(status__in=["pending", "sending", "failed"]).aggregate(
            pending=Count("pk", filter=due),
            scheduled=Count("pk", filter=Q(status="pending", due_at__gt=now)),
            sending=Count("pk", filter=Q(status="sending")),
            failed=Count("pk", filter=Q(status="failed")),
            oldest_due_at=Min("due_at", filter=due),
        )
        backlog = GaugeMetricFamily(
            "yunying_outbox_backlog",
            "Outbox messages not delivered yet, by status (failed = gave up after the last attempt).",
            labels=["status"],
        )
        for status in ("pending", "scheduled", "sending", "failed"):
            backlog.add_metric([status], row[status])
        yield backlog
        oldest = row["oldest_due_at"]
        yield GaugeMetricFamily(
            "yunying_outbox_oldest_pending_age_seconds",
            "Seconds the oldest due, undelivered outbox message has waited since its due time (0: none).",
            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )
