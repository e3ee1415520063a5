"""Risk control's reads: decisions (the API, the console), rule versions, the lists, the register."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from yunying.core.errors import DomainError
from yunying.risk.defaults import BUILT_IN
from yunying.risk.errors import RiskError
from yunying.risk.models import (
    Decision,
    ListEntry,
    RegisterItem,
    RegisterStatus,
    RuleState,
    RuleVersion,
)
from yunying.risk.rules import SEVERITY, Action

# ---------------------------------------------------------------- rule versions


def rule_live() -> tuple[int, dict[str, Any]]:
    """(number, rules) of the live version; (0, the built-in set) when none is live."""
    version = RuleVersion.objects.filter(state=RuleState.LIVE).only("number", "rules").first()
    return (version.number, version.rules) if version else (0, BUILT_IN)


def rule_shadow() -> RuleVersion | None:
    return RuleVersion.objects.filter(state=RuleState.SHADOW).first()


def rule_versions() -> QuerySet[RuleVersion]:
    return RuleVersion.objects.order_by("-number")


def rule_version(number: int) -> RuleVersion | None:
    return RuleVersion.objects.filter(number=number).first()


def rule_shadow_comparison(*, days: int = 7) -> dict[str, Any]:
    """The last `days` of decisions: counts by action of the live decisions and of the shadow
    version's would-be decisions, and how many subjects the two disagree on (the strictest action
    each gave a subject differs)."""
    since = timezone.now() - timedelta(days=days)
    recent = Decision.objects.filter(at__gte=since)
    counts: dict[str, dict[str, int]] = {"live": {}, "shadow": {}}
    for shadow, action, n in recent.values_list("shadow", "action").annotate(n=Count("pk")).order_by():
        counts["shadow" if shadow else "live"][action] = n
    strictest: dict[bool, dict[tuple[str, str, str], str]] = {False: {}, True: {}}
    rows = recent.filter(Q(shadow=True) | Q(subject_ref__in=recent.filter(shadow=True).values("subject_ref")))
    for shadow, entry, subject_type, subject_ref, action in rows.values_list(
        "shadow", "entry", "subject_type", "subject_ref", "action"
    ).iterator():
        key = (entry, subject_type, subject_ref)
        seen = strictest[shadow].get(key)
        if seen is None or SEVERITY[Action(action)] > SEVERITY[Action(seen)]:
            strictest[shadow][key] = action
    both = strictest[False].keys() & strictest[True].keys()
    disagree = sum(1 for key in both if strictest[False][key] != strictest[True][key])
    return {
        "days": days,
        "rows": [
            {
                "action": action.value,
                "live": counts["live"].get(action, 0),
                "shadow": counts["shadow"].get(action, 0),
            }
            for action in Action
        ],
        "live_total": sum(counts["live"].values()),
        "shadow_total": sum(counts["shadow"].values()),
        "compared": len(both),
        "disagree": disagree,
    }


# ---------------------------------------------------------------- lists


def list_entries() -> QuerySet[ListEntry]:
    """Every entry, block list first, newest first within each."""
    return ListEntry.objects.order_by("verdict", "-created_at", "-pk")


# ---------------------------------------------------------------- register


def register_items(
    *, probability: int | None = None, impact: int | None = None, status: str | None = None
) -> QuerySet[RegisterItem]:
    items = RegisterItem.objects.all()
    if probability is not None:
        items = items.filter(probability=probability)
    if impact is not None:
        items = items.filter(impact=impact)
    if status:
        items = items.filter(status=status)
    return items.order_by("-probability", "-impact", "-updated_at")


def register_matrix() -> dict[tuple[int, int], dict[str, int]]:
    """{(probability, impact): {"open": n, "mitigated": n}} for every cell of the 5 × 5 matrix."""
    cells = {(p, i): {"open": 0, "mitigated": 0} for p in range(1, 6) for i in range(1, 6)}
    rows = (
        RegisterItem.objects.filter(status__in=[RegisterStatus.OPEN, RegisterStatus.MITIGATED])
        .values_list("probability", "impact", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for probability, impact, status, n in rows:
        if (probability, impact) in cells:
            cells[(probability, impact)][status] = n
    return cells


def register_item(item_id: int) -> RegisterItem | None:
    return RegisterItem.objects.filter(pk=item_id).first()


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


def case_queue(*, status: str = "open", entry: str = "", asked: bool = False) -> QuerySet:
    """Cases with their decision, open ones oldest first (who waited longest), decided newest first."""
    from yunying.risk.models import Case

    query = (
        Case.objects.select_related("decision").filter(status=status)
        if status == "open"
        else (Case.objects.select_related("decision").exclude(status="open"))
    )
    if entry:
        query = query.filter(decision__entry=entry)
    if asked:
        query = query.filter(asked_by_member=True)
    return query.order_by("created_at", "pk") if status == "open" else query.order_by("-decided_at", "-pk")


def alert_list_risk(limit: int = 200) -> list:
    """The latest alerts risk control raised (engine failures, early warnings)."""
    from yunying.core.models import Alert

    return list(Alert.objects.filter(code__startswith="risk.").order_by("-id")[:limit])
