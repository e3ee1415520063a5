"""Risk control's reads (the API, the console, the backtests)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from yunying.core.errors import DomainError
from yunying.risk.errors import RiskError
from yunying.risk.models import Decision


def decision_list(
    *,
    subject_type: str = "",
    subject_ref: str = "",
    member_ref: str = "",
    entry: str = "",
    action: str = "",
    shadow: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Decision]:
    """Decisions newest first, their case joined (one statement per page)."""
    query = Decision.objects.filter(shadow=shadow).select_related("case").order_by("-at", "-id")
    for name, value in (
        ("subject_type", subject_type),
        ("subject_ref", subject_ref),
        ("member_ref", member_ref),
        ("entry", entry),
        ("action", action),
    ):
        if value:
            query = query.filter(**{name: value})
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    return query


def decision_get(decision_id: int) -> Decision:
    """Raises: risk.decision_not_found."""
    decision = Decision.objects.select_related("case").filter(pk=decision_id).first()
    if decision is None:
        raise DomainError(RiskError.DECISION_NOT_FOUND)
    return decision
