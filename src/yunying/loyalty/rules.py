"""The points rules: the versions an operator saves, and the arithmetic every earning uses.

Rounding (DESIGN "one documented rounding rule"): integer arithmetic only, and one floor per order
line, after every multiplier:

    points = paid_fen × points_per_unit × m1 × m2 × … // (unit_fen × 1000^k)

where m1…mk are the multipliers in permille (birthday month, tier, …; 1000 = ×1). A line of ¥1.99 at
1 point per ¥1 earns 1 point; the fen left over are not carried to the next line or order.

Refunds take back floor(earned × refunded_fen / paid_fen) of a line, cumulatively (loyalty.earning),
so a line refunded in parts ends at exactly what it earned.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from yunying.core.audit import audit_record
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.core.permissions import Actor, Perm
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.models import ExpiryPolicy, PointsRules

PERMILLE = 1000
BIRTHDAY_PERMILLE_MAX = 10_000  # ×10: more is a typo, not a promotion
POINTS_MAX = 1_000_000  # per sign-up, attendance or welcome: a bound against typos
RETURN_WINDOW_MAX_DAYS = 365
EXPIRY_DAYS_MAX = 3650
EXPIRY_YEARS_MAX = 10


@dataclass(frozen=True)
class RulesInput:
    """What an operator sets; `orders_paid_from` None keeps the current one (now, for the first)."""

    points_per_unit: int = 1
    unit_fen: int = 100
    return_window_days: int = 7
    expiry_policy: str = ExpiryPolicy.YEAR_END
    expiry_days: int = 365
    expiry_years: int = 1
    signup_points: int = 0
    attendance_points: int = 0
    welcome_points: int = 0
    birthday_permille: int = 1000
    import_earns: bool = False
    orders_paid_from: datetime | None = None


_BOUNDS = {
    "points_per_unit": (0, POINTS_MAX),
    "unit_fen": (1, 100_000_000),
    "return_window_days": (0, RETURN_WINDOW_MAX_DAYS),
    "expiry_days": (1, EXPIRY_DAYS_MAX),
    "expiry_years": (0, EXPIRY_YEARS_MAX),
    "signup_points": (0, POINTS_MAX),
    "attendance_points": (0, POINTS_MAX),
    "welcome_points": (0, POINTS_MAX),
    "birthday_permille": (PERMILLE, BIRTHDAY_PERMILLE_MAX),
}


def rules_validate(values: RulesInput) -> None:
    """Every failing field at once. Raises: core.invalid (errors: loyalty.rules_out_of_range)."""
    errors: list[FieldError] = []
    for name, (low, high) in _BOUNDS.items():
        value = getattr(values, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors.append(FieldError(name, LoyaltyError.RULES_OUT_OF_RANGE, low=low, high=high))
    if values.expiry_policy not in ExpiryPolicy.values:
        errors.append(FieldError("expiry_policy", LoyaltyError.RULES_OUT_OF_RANGE))
    if values.orders_paid_from is not None and timezone.is_naive(values.orders_paid_from):
        errors.append(FieldError("orders_paid_from", LoyaltyError.RULES_OUT_OF_RANGE))
    if errors:
        raise ValidationFailed(errors)


def points_rules_current() -> PointsRules | None:
    """The rules in force: the latest version (None before an operator saved any: nothing is earned)."""
    return PointsRules.objects.order_by("-version").first()


def _snapshot(rules: PointsRules | None) -> dict:
    if rules is None:
        return {}
    snap = {f.name: getattr(rules, f.name) for f in fields(RulesInput)}
    snap["version"] = rules.version
    return snap


def points_rules_save(
    *, values: RulesInput, actor: Actor, base_version: int | None = None, note: str = ""
) -> PointsRules:
    """Put new rules in force as the next version; the audit row holds the before and after.
    `base_version` is the version the operator edited: if another save came first, refuse rather
    than silently overwrite it.

    Raises: core.permission_denied, core.invalid, loyalty.rules_changed."""
    actor.require(Perm.LOYALTY_CONFIGURE)
    rules_validate(values)
    now = timezone.now()
    try:
        with transaction.atomic():
            current = points_rules_current()
            if base_version is not None and (current.version if current else 0) != base_version:
                raise DomainError(LoyaltyError.RULES_CHANGED, version=current.version if current else 0)
            data = asdict(values)
            paid_from = data.pop("orders_paid_from") or (current.orders_paid_from if current else now)
            saved = PointsRules.objects.create(
                version=(current.version if current else 0) + 1,
                orders_paid_from=paid_from,
                note=note.strip()[:500],
                created_by=actor.label[:150],
                created_at=now,
                **data,
            )
            audit_record(
                actor=actor,
                action="loyalty.points_rules_save",
                object_type="points_rules",
                object_id=saved.version,
                before=_snapshot(current),
                after=_snapshot(saved),
                reason=note,
            )
    except IntegrityError as exc:  # a concurrent save took the version number
        raise DomainError(LoyaltyError.RULES_CHANGED) from exc
    return saved


def points_rules_history(limit: int = 20) -> list[PointsRules]:
    return list(PointsRules.objects.order_by("-version")[:limit])


# ---------------------------------------------------------------------------------------------------
# Arithmetic (pure)


def line_points(*, paid_fen: int, points_per_unit: int, unit_fen: int, multipliers: list[int]) -> int:
    """Points for one order line (module docstring): one floor, after every multiplier."""
    if paid_fen <= 0 or points_per_unit <= 0:
        return 0
    numerator = paid_fen * points_per_unit
    denominator = unit_fen
    for permille in multipliers:
        numerator *= max(0, permille)
        denominator *= PERMILLE
    return numerator // denominator


def share_floor(total: int, part: int | Fraction, whole: int) -> int:
    """floor(total × part / whole), the share of `total` that `part` of `whole` stands for."""
    if whole <= 0 or part <= 0:
        return 0
    return int(total * min(part, whole) // whole)


def spread(amount: int, weights: list[int], capacities: list[int]) -> list[Fraction]:
    """Spread `amount` over lines in proportion to `weights`, none above its capacity (what is left
    of a line after its own refunds): each line gets min(capacity, λ × weight) for the one level λ
    that makes the shares add up to `amount` ("water-filling"). Exact fractions, not rounded fen:
    so a line's share only ever grows as refunds accumulate (largest-remainder rounding would not:
    the Alabama paradox), and the points taken back, rounded once per line, never run ahead."""
    result = [Fraction(0)] * len(weights)
    active = [i for i, capacity in enumerate(capacities) if capacity > 0]
    left = Fraction(min(amount, sum(capacities[i] for i in active)))
    while left > 0 and active:
        weight = (
            {i: weights[i] for i in active}
            if any(weights[i] > 0 for i in active)
            else dict.fromkeys(active, 1)
        )
        whole = sum(weight.values())
        full = [i for i in active if left * weight[i] / whole >= capacities[i]]
        if not full:
            for i in active:
                result[i] = left * weight[i] / whole
            break
        for i in full:
            result[i] = Fraction(capacities[i])
            left -= capacities[i]
        active = [i for i in active if i not in full]
    return result


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def expiry_at(*, policy: str, days: int, years: int, earned_at: datetime) -> datetime | None:
    """When points earned at `earned_at` expire (None: never). YEAR_END: the first instant of
    1 January after the Nth year-end following earning, in the merchant's time zone
    (N=1: points earned any day of 2026 are good until 31 December 2027, 23:59:59)."""
    if policy == ExpiryPolicy.NEVER:
        return None
    if policy == ExpiryPolicy.DAYS:
        return earned_at + timedelta(days=days)
    local = earned_at.astimezone(_zone())
    end = datetime(local.year + years + 1, 1, 1, tzinfo=_zone())
    return end.astimezone(UTC)


def rules_expiry_at(rules: PointsRules, earned_at: datetime) -> datetime | None:
    return expiry_at(
        policy=rules.expiry_policy, days=rules.expiry_days, years=rules.expiry_years, earned_at=earned_at
    )


def is_birthday_month(birth_date, at: datetime) -> bool:
    """The member's birthday month, as the calendar reads in the merchant's time zone at `at`."""
    return birth_date is not None and birth_date.month == at.astimezone(_zone()).month
