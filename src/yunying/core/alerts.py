"""Security alerts: one call, three traces — a WARNING log line with the stable event name
`security_alert`, the Prometheus counter `yunying_alerts_total{code}`, and an append-only Alert row
the console lists.

Raise an alert for something a person should look at (a refusal burst from one key, a bulk reveal of
personal data); never put personal data in clear into `data` — ids, counts and labels only.

The row is written on the caller's connection: raise alerts outside a transaction that may roll back
(after the refusal, not inside the work that was refused), or the row goes with the rollback.
"""

from __future__ import annotations

import logging
from typing import Any

from yunying.core.metrics import ALERTS
from yunying.core.models import Alert

logger = logging.getLogger("yunying.security")

EVENT = "security_alert"


def alert_raise(code: str, **data: Any) -> Alert:
    """Log, count and store one alert; returns the stored row."""
    logger.warning("%s %s %s", EVENT, code, data, extra={"event": EVENT, "alert_code": code, "alert": data})
    ALERTS.labels(code=code).inc()
    return Alert.objects.create(code=code, data=data)


def alert_record_with(code: str, **data: Any) -> Alert:
    """Store an alert row in the caller's transaction, so it commits with the change that raised it
    (a flag "alerted" and its row cannot part: a crash after the commit loses neither); the log line
    and the counter follow the commit, and a failure there never fails the committed request."""
    from django.db import transaction

    row = Alert.objects.create(code=code, data=data)

    def announce() -> None:
        logger.warning(
            "%s %s %s", EVENT, code, data, extra={"event": EVENT, "alert_code": code, "alert": data}
        )
        ALERTS.labels(code=code).inc()

    transaction.on_commit(announce, robust=True)
    return row


def alert_list(*, code: str | None = None):
    """Alerts, newest first (for the console)."""
    query = Alert.objects.order_by("-id")
    return query.filter(code=code) if code else query
