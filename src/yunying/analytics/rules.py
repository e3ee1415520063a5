"""Segment rules as data (M5): groups (all / any) of conditions over a member and their RFM row.

A rule is validated here (pydantic, one FieldError per problem) and compiled to one Django `Q` over
Member, so the preview count and the recompute are the same query (analytics.services): the database
evaluates it, on SQLite and on PostgreSQL alike. Order facts come from the member's MemberRfm row (as
at the last RFM compute); "days since last order" is measured from its last_paid_at to now. A member
without an order matches no condition on days since last order; one without an RFM row yet matches
no condition on RFM facts (they count 0 orders after the first compute).

Example ("dormant 90+ days, Zhejiang, more than 3 orders"):
    {"match": "all", "conditions": [
        {"field": "days_since_last_order", "min": 90},
        {"field": "region", "values": ["33"]},
        {"field": "order_count", "min": 4}]}
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from django.db.models import Q
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Discriminator, Field, ValidationError, model_validator
from pydantic import Tag as Kind

from yunying.analytics.models import Lifecycle, MemberRfm, SegmentMember
from yunying.core.errors import FieldError, ValidationFailed
from yunying.members.models import MemberTag

MAX_DEPTH = 4
MAX_CONDITIONS = 50


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    negate: bool = False  # "not": every member the condition does not match


class _Range(_Condition):
    """Inclusive bounds; at least one."""

    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _bounds(self):
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError("max must be at least min")
        return self


class LifecycleCondition(_Condition):
    field: Literal["lifecycle"]
    values: Annotated[list[Lifecycle], Field(min_length=1)]


class ScoreCondition(_Range):
    field: Literal["r_score", "f_score", "m_score"]
    min: Annotated[int | None, Field(ge=1, le=5)] = None
    max: Annotated[int | None, Field(ge=1, le=5)] = None


class DaysSinceLastOrderCondition(_Range):
    field: Literal["days_since_last_order"]
    min: Annotated[int | None, Field(ge=0, le=36600)] = None
    max: Annotated[int | None, Field(ge=0, le=36600)] = None


class OrderCountCondition(_Range):
    field: Literal["order_count"]
    min: Annotated[int | None, Field(ge=0)] = None
    max: Annotated[int | None, Field(ge=0)] = None


class NetPaidCondition(_Range):
    field: Literal["net_paid_fen"]
    min: Annotated[int | None, Field(ge=0)] = None
    max: Annotated[int | None, Field(ge=0)] = None


class AgeCondition(_Range):
    field: Literal["age"]
    min: Annotated[int | None, Field(ge=0, le=150)] = None
    max: Annotated[int | None, Field(ge=0, le=150)] = None


class RegionCondition(_Condition):
    """Region codes by prefix: "33" is Zhejiang province, "3301" Hangzhou, a 6-digit code exactly."""

    field: Literal["region"]
    values: Annotated[list[Annotated[str, Field(pattern=r"^(\d{2}|\d{4}|\d{6})$")]], Field(min_length=1)]


class GenderCondition(_Condition):
    field: Literal["gender"]
    values: Annotated[list[Literal["male", "female", "unknown"]], Field(min_length=1)]


class SourceChannelCondition(_Condition):
    field: Literal["source_channel"]
    values: Annotated[list[Annotated[str, Field(max_length=20)]], Field(min_length=1)]


class TagCondition(_Condition):
    """Has any of these tags (by name)."""

    field: Literal["tag"]
    values: Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]], Field(min_length=1)]


class RegisteredCondition(_Condition):
    """Registered on or after `since` and before `until` (dates in the configured zone)."""

    field: Literal["registered"]
    since: date | None = None
    until: date | None = None

    @model_validator(mode="after")
    def _bounds(self):
        if self.since is None and self.until is None:
            raise ValueError("give since, until or both")
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class SegmentCondition(_Condition):
    """In another segment (as at its last recompute); with negate, not in it."""

    field: Literal["segment"]
    segment_id: Annotated[int, Field(ge=1)]


Condition = Annotated[
    LifecycleCondition
    | ScoreCondition
    | DaysSinceLastOrderCondition
    | OrderCountCondition
    | NetPaidCondition
    | AgeCondition
    | RegionCondition
    | GenderCondition
    | SourceChannelCondition
    | TagCondition
    | RegisteredCondition
    | SegmentCondition,
    Field(discriminator="field"),
]


def _item_kind(value: Any) -> str:
    """A list item is a group when it has conditions: so a mistake in a condition is reported once,
    against the condition, not also as a failed group."""
    if isinstance(value, dict):
        return "group" if "conditions" in value else "condition"
    return "group" if isinstance(value, Group) else "condition"


_ITEM_TAGS = {"condition", "group"}


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match: Literal["all", "any"] = "all"
    conditions: Annotated[
        list[
            Annotated[
                Annotated[Condition, Kind("condition")] | Annotated[Group, Kind("group")],
                Discriminator(_item_kind),
            ]
        ],
        Field(min_length=1, max_length=MAX_CONDITIONS),
    ]

    @model_validator(mode="after")
    def _shallow(self):
        if _depth(self) > MAX_DEPTH:
            raise ValueError(f"groups nest at most {MAX_DEPTH} deep")
        return self


def _depth(group: Group) -> int:
    return 1 + max((_depth(c) for c in group.conditions if isinstance(c, Group)), default=0)


def rule_problems(raw: Any) -> tuple[Group | None, list[FieldError]]:
    """The rule, or None and one FieldError per problem (field "rules.conditions.0.min", ...)."""
    try:
        return Group.model_validate(raw), []
    except ValidationError as exc:
        return None, [
            FieldError(
                ".".join(["rules", *(str(p) for p in e["loc"] if p not in _ITEM_TAGS)]),
                "core.invalid",
                e["msg"],
            )
            for e in exc.errors(include_url=False)
        ]


def rule_parse(raw: Any) -> Group:
    """Raises: core.invalid with a field error per problem."""
    rule, errors = rule_problems(raw)
    if rule is None:
        raise ValidationFailed(errors)
    return rule


def referenced_segments(group: Group) -> set[int]:
    found = set()
    for c in group.conditions:
        if isinstance(c, Group):
            found |= referenced_segments(c)
        elif isinstance(c, SegmentCondition):
            found.add(c.segment_id)
    return found


def birth_date_cutoff(today: date, years: int) -> date:
    """The latest birth date of someone at least `years` old today (a 29 February birthday counts
    from 28 February in a common year, as campaigns.eligibility.age_on does)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # today is 29 February, that year is not a leap year
        return today.replace(year=today.year - years, day=28)


def _range(lookup: str, cond: _Range) -> Q:
    q = Q()
    if cond.min is not None:
        q &= Q(**{f"{lookup}__gte": cond.min})
    if cond.max is not None:
        q &= Q(**{f"{lookup}__lte": cond.max})
    return q


def _prefixes(lookup: str, values: list[str]) -> Q:
    q = Q()
    for value in values:
        q |= Q(**{f"{lookup}__startswith": value})
    return q


def _rfm(q: Q) -> Q:
    """A condition on the RFM row as a subquery, not a join: its negation is then exactly the
    complement (a join's NOT would also drop members without a row; the property test found it)."""
    return Q(id__in=MemberRfm.objects.filter(q).values("member_id"))


def _condition_q(c, *, now: datetime, today: date) -> Q:
    match c:
        case LifecycleCondition():
            q = _rfm(Q(lifecycle__in=[v.value for v in c.values]))
        case ScoreCondition():
            # 0 is "no order", not a low score: a score condition matches buyers only.
            q = _rfm(Q(**{f"{c.field}__gte": 1}) & _range(c.field, c))
        case DaysSinceLastOrderCondition():
            # At least `min` whole days: the last order at or before now - min days.
            last = Q(last_paid_at__isnull=False)
            if c.min is not None:
                last &= Q(last_paid_at__lte=now - timedelta(days=c.min))
            if c.max is not None:
                last &= Q(last_paid_at__gt=now - timedelta(days=c.max + 1))
            q = _rfm(last)
        case OrderCountCondition():
            q = _rfm(_range("frequency", c))
        case NetPaidCondition():
            q = _rfm(_range("monetary_fen", c))
        case AgeCondition():
            q = Q(birth_date__isnull=False)
            if c.min is not None:
                q &= Q(birth_date__lte=birth_date_cutoff(today, c.min))
            if c.max is not None:
                q &= Q(birth_date__gt=birth_date_cutoff(today, c.max + 1))
        case RegionCondition():
            q = _prefixes("region_code", c.values)
        case GenderCondition():
            q = Q(gender__in=c.values)
        case SourceChannelCondition():
            q = Q(source_channel__in=c.values)
        case TagCondition():
            q = Q(id__in=MemberTag.objects.filter(tag__name__in=c.values).values("member_id"))
        case RegisteredCondition():
            q = Q()
            if c.since is not None:
                q &= Q(created_at__gte=_day_start(c.since))
            if c.until is not None:
                q &= Q(created_at__lt=_day_start(c.until))
        case SegmentCondition():
            q = Q(id__in=SegmentMember.objects.filter(segment_id=c.segment_id).values("member_id"))
        case _:  # pragma: no cover - the union above is closed
            raise TypeError(type(c))
    # "not" is the complement: it includes members without the fact (no order, no birth date).
    return ~q if c.negate else q


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def rule_q(group: Group, *, now: datetime) -> Q:
    """The rule as one Q over Member."""
    today = timezone.localdate(now)
    parts = [
        rule_q(c, now=now) if isinstance(c, Group) else _condition_q(c, now=now, today=today)
        for c in group.conditions
    ]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if group.match == "all" else combined | part
    return combined
