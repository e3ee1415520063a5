"""Eligibility rules (C3): data on the campaign, evaluated by one pure function.

`eligibility_evaluate` returns every failing reason, in a fixed order, so a member (or the operator
reviewing) sees all that stands in the way at once. The engine reads facts, never the database:
callers gather the facts (selectors.member_facts) and the tests drive it with tables and properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from yunying.campaigns.errors import EligibilityReason
from yunying.core.errors import FieldError, ValidationFailed, message_for
from yunying.members.regions import is_valid_region, region_matches

REGION_CODE = Annotated[str, Field(pattern=r"^\d{6}$")]


class ParticipationLimit(BaseModel):
    """At most `count` sign-ups (any campaign, not withdrawn) in the last `period_days` days."""

    model_config = ConfigDict(extra="forbid")
    count: Annotated[int, Field(ge=1, le=1000)]
    period_days: Annotated[int, Field(ge=1, le=3660)]


class RequiredAnswer(BaseModel):
    """The answer to `question` must be one of `allowed` (for multi choice: contain one of them)."""

    model_config = ConfigDict(extra="forbid")
    question: Annotated[str, Field(min_length=1, max_length=40)]
    allowed: Annotated[list[str], Field(min_length=1)]


# Bounds of the purchase rules: a threshold beyond them is a typo (yuan typed as fen twice).
MAX_PAID_FEN = 10_000_000_000
MAX_ORDERS = 100_000


class EligibilityRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_age: Annotated[int | None, Field(ge=0, le=150)] = None
    max_age: Annotated[int | None, Field(ge=0, le=150)] = None
    genders: list[str] | None = None  # allowed genders; None = any
    regions_allow: list[REGION_CODE] | None = None  # None = anywhere
    regions_deny: list[REGION_CODE] = []
    participation_limit: ParticipationLimit | None = None
    required_answers: list[RequiredAnswer] = []
    # Purchases (order facts, commerce): paid net of refunds and orders not cancelled, in the last
    # `purchase_period_days` days (None: ever), at least these; or no order at all yet (new customers).
    min_paid_fen: Annotated[int | None, Field(ge=1, le=MAX_PAID_FEN)] = None
    min_orders: Annotated[int | None, Field(ge=1, le=MAX_ORDERS)] = None
    purchase_period_days: Annotated[int | None, Field(ge=1, le=3660)] = None
    first_order_only: bool = False
    # Segment membership (M5) as at the segment's last recompute: in any of segments_in (when given),
    # in none of segments_not_in.
    segments_in: list[Annotated[int, Field(ge=1)]] = []
    segments_not_in: list[Annotated[int, Field(ge=1)]] = []
    # Member level (L1, "exclusive campaigns"): at least this tier rank (loyalty.tiers; 0 is the base).
    min_tier_rank: Annotated[int | None, Field(ge=1, le=9)] = None

    @model_validator(mode="after")
    def _check(self) -> EligibilityRules:
        if self.min_age is not None and self.max_age is not None and self.max_age < self.min_age:
            raise ValueError("max_age must be at least min_age")
        purchases = self.min_paid_fen is not None or self.min_orders is not None
        if self.purchase_period_days is not None and not purchases:
            raise ValueError("purchase_period_days needs min_paid_fen or min_orders")
        if self.first_order_only and purchases:
            raise ValueError("first_order_only excludes min_paid_fen and min_orders")
        if set(self.segments_in) & set(self.segments_not_in):
            raise ValueError("a segment cannot be both required and excluded: nobody could sign up")
        if self.genders is not None and not set(self.genders) <= {"male", "female", "unknown"}:
            raise ValueError("genders are male, female, unknown")
        for code in (self.regions_allow or []) + self.regions_deny:
            if not is_valid_region(code):
                raise ValueError(f"{code} is not a GB/T 2260 code")
        return self

    def __eq__(self, other: object) -> bool:
        """Equal as rules: the lists are sets (["440000", "310000"] is ["310000", "440000"], and a
        repeat changes nothing), so re-sending a published campaign's rules in another order is no
        change and not refused as one."""
        if not isinstance(other, EligibilityRules):
            return NotImplemented
        return self._canonical() == other._canonical()

    __hash__ = None  # mutable, compared by value

    def _canonical(self) -> tuple:
        def as_set(values):
            return None if values is None else frozenset(values)

        return (
            self.min_age,
            self.max_age,
            as_set(self.genders),
            as_set(self.regions_allow),
            frozenset(self.regions_deny),
            self.participation_limit,
            frozenset((r.question, frozenset(r.allowed)) for r in self.required_answers),
            self.min_paid_fen,
            self.min_orders,
            self.purchase_period_days,
            self.first_order_only,
            frozenset(self.segments_in),
            frozenset(self.segments_not_in),
            self.min_tier_rank,
        )

    def segment_ids(self) -> set[int]:
        return set(self.segments_in) | set(self.segments_not_in)


def eligibility_problems(raw: Any) -> tuple[EligibilityRules | None, list[FieldError]]:
    """The rules, or None and one FieldError (field "eligibility.<attr>") per problem."""
    try:
        return EligibilityRules.model_validate(raw or {}), []
    except ValidationError as exc:
        return None, [
            FieldError(".".join(["eligibility", *map(str, e["loc"])]), "core.invalid", e["msg"])
            for e in exc.errors(include_url=False)
        ]


def eligibility_parse(raw: dict[str, Any]) -> EligibilityRules:
    """Raises: core.invalid with the rule errors."""
    rules, errors = eligibility_problems(raw)
    if rules is None:
        raise ValidationFailed(errors)
    return rules


@dataclass(frozen=True)
class MemberFacts:
    """What the engine knows about a member at the moment of sign-up."""

    birth_date: date | None
    gender: str
    region_code: str
    recent_participations: int  # sign-ups within the rule's period, not counting this one
    answers: dict[str, Any] = field(default_factory=dict)
    # Purchases within the rules' purchase period (commerce.selectors.member_purchase_summary).
    orders: int = 0  # not cancelled
    paid_fen: int = 0  # net of refunds
    has_orders: bool = False  # any order not cancelled, ever ("first order only")
    segment_ids: frozenset[int] = frozenset()  # of the segments the rules name, those the member is in
    tier_rank: int = 0  # the member's level (loyalty.tiers), when the rules ask for one


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": message_for(self.code), **self.params}


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _age_reasons(rules: EligibilityRules, facts: MemberFacts, today: date) -> list[Reason]:
    if rules.min_age is None and rules.max_age is None:
        return []
    if facts.birth_date is None:
        return [Reason(EligibilityReason.AGE_UNKNOWN)]
    age = age_on(facts.birth_date, today)
    if rules.min_age is not None and age < rules.min_age:
        return [Reason(EligibilityReason.TOO_YOUNG, {"min_age": rules.min_age})]
    if rules.max_age is not None and age > rules.max_age:
        return [Reason(EligibilityReason.TOO_OLD, {"max_age": rules.max_age})]
    return []


def _region_reasons(rules: EligibilityRules, facts: MemberFacts) -> list[Reason]:
    if rules.regions_allow is None and not rules.regions_deny:
        return []
    if not facts.region_code:
        return [Reason(EligibilityReason.REGION_UNKNOWN)]
    reasons = []
    if rules.regions_allow is not None and not any(
        region_matches(facts.region_code, p) for p in rules.regions_allow
    ):
        reasons.append(Reason(EligibilityReason.REGION_NOT_ALLOWED, {"regions_allow": rules.regions_allow}))
    if any(region_matches(facts.region_code, p) for p in rules.regions_deny):
        reasons.append(Reason(EligibilityReason.REGION_DENIED))
    return reasons


def _answer_matches(value: Any, allowed: list[str]) -> bool:
    if isinstance(value, list):
        return any(v in allowed for v in value)
    if isinstance(value, bool):
        return str(value).lower() in allowed
    return value in allowed


def eligibility_evaluate(rules: EligibilityRules, facts: MemberFacts, *, today: date) -> list[Reason]:
    """Every reason the member may not sign up; empty means eligible."""
    reasons = _age_reasons(rules, facts, today)
    if rules.genders is not None and facts.gender not in rules.genders:
        if facts.gender in ("", "unknown"):  # not "excluded": the campaign simply does not know it
            reasons.append(Reason(EligibilityReason.GENDER_UNKNOWN, {"genders": rules.genders}))
        else:
            reasons.append(Reason(EligibilityReason.GENDER, {"genders": rules.genders}))
    reasons += _region_reasons(rules, facts)
    limit = rules.participation_limit
    if limit is not None and facts.recent_participations >= limit.count:
        reasons.append(
            Reason(
                EligibilityReason.PARTICIPATION_LIMIT,
                {"count": limit.count, "period_days": limit.period_days},
            )
        )
    if rules.segments_in and not facts.segment_ids & set(rules.segments_in):
        reasons.append(Reason(EligibilityReason.NOT_IN_SEGMENT))
    if facts.segment_ids & set(rules.segments_not_in):
        reasons.append(Reason(EligibilityReason.IN_EXCLUDED_SEGMENT))
    if rules.min_tier_rank is not None and facts.tier_rank < rules.min_tier_rank:
        reasons.append(Reason(EligibilityReason.MIN_TIER, {"min_tier_rank": rules.min_tier_rank}))
    for required in rules.required_answers:
        if not _answer_matches(facts.answers.get(required.question), required.allowed):
            reasons.append(Reason(EligibilityReason.ANSWER_REQUIRED, {"question": required.question}))
    return reasons + _purchase_reasons(rules, facts)


def _purchase_reasons(rules: EligibilityRules, facts: MemberFacts) -> list[Reason]:
    period = {"period_days": rules.purchase_period_days}
    reasons = []
    if rules.min_paid_fen is not None and facts.paid_fen < rules.min_paid_fen:
        reasons.append(Reason(EligibilityReason.MIN_PAID, {"min_paid_fen": rules.min_paid_fen, **period}))
    if rules.min_orders is not None and facts.orders < rules.min_orders:
        reasons.append(Reason(EligibilityReason.MIN_ORDERS, {"min_orders": rules.min_orders, **period}))
    if rules.first_order_only and facts.has_orders:
        reasons.append(Reason(EligibilityReason.NOT_FIRST_ORDER))
    return reasons


def eligibility_explain(rules: EligibilityRules, stated: MemberFacts, *, today: date) -> list[Reason]:
    """The reasons to give, for a refused sign-up, to a caller who may not view sign-ups (S3).

    Evaluated over the facts the request itself stated (as for a member never seen before), never
    over stored ones: otherwise a known member's refusal ("too old") differs from a stranger's ("age
    unknown") and posting candidate phone numbers tells which one is a member. When the stated facts
    alone pass, the refusal came from stored facts: one generic reason, the same for everyone."""
    return eligibility_evaluate(rules, stated, today=today) or [Reason(EligibilityReason.NOT_MET)]
