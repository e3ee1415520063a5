"""The only writer of promotions, coupons, codes and budgets (redemption.py writes redemptions).

Limits are conditional updates, never read-then-write: a coupon is handed out by
`UPDATE promotion SET issued_count = issued_count + 1 WHERE issued_count < issue_limit`, which also
takes the promotion's row lock, so the per-member count read after it cannot race another claim of
the same promotion. Every operator change writes an audit row in its transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yunying.core.audit import audit_record
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.core.permissions import Actor
from yunying.members.services import member_risk_refs
from yunying.promotions.errors import PromotionError
from yunying.promotions.event_templates import event_templates_forget
from yunying.promotions.models import (
    Budget,
    BudgetEntry,
    BudgetEntryKind,
    BudgetScope,
    BudgetTopUp,
    CodeBatch,
    Coupon,
    CouponCode,
    CouponSource,
    CouponState,
    Promotion,
    PromotionState,
    TopUpState,
)
from yunying.promotions.terms import PromotionSpec
from yunying.risk.errors import RiskError
from yunying.risk.rules import Action
from yunying.risk.services import risk_assess
from yunying.risk.signals import ClientSignals, Entry, RiskInput

# -- promotions -------------------------------------------------------------------------------------
_AUDITED = (
    "name",
    "kind",
    "state",
    "starts_at",
    "ends_at",
    "scope",
    "terms",
    "channels",
    "priority",
    "exclusive",
    "not_with",
    "campaign_id",
    "use_limit",
    "issuer",
    "claimable",
    "issue_limit",
    "per_member_limit",
    "valid_days",
    "coupon_valid_from",
    "coupon_valid_until",
    "issue_on",
    "points_price",
)


def _snapshot(promotion: Promotion) -> dict:
    values = {}
    for name in _AUDITED:
        value = getattr(promotion, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def _promotions_changed() -> None:
    """Forget this process's list of templates issued on events (issuing.py), now and after commit."""
    event_templates_forget()
    transaction.on_commit(event_templates_forget)


def promotion_get(promotion_id: int) -> Promotion:
    """Raises: promotion.not_found."""
    promotion = Promotion.objects.filter(pk=promotion_id).first()
    if promotion is None:
        raise DomainError(PromotionError.NOT_FOUND)
    return promotion


def promotion_create(*, spec: PromotionSpec, actor: Actor) -> Promotion:
    """A new promotion, as a draft."""
    with transaction.atomic():
        promotion = Promotion.objects.create(**asdict(spec), created_by=actor.label)
        audit_record(
            actor=actor,
            action="promotion.create",
            object_type="promotion",
            object_id=promotion.pk,
            after=_snapshot(promotion),
        )
    _promotions_changed()
    return promotion


def promotion_update(*, promotion_id: int, spec: PromotionSpec, base_version: int, actor: Actor) -> Promotion:
    """Save an edit begun at `base_version`. The kind of a promotion that has handed out coupons or
    been redeemed does not change (those rows were made under it).

    Raises: promotion.not_found, promotion.changed, promotion.terms_invalid."""
    with transaction.atomic():
        promotion = Promotion.objects.select_for_update().filter(pk=promotion_id).first()
        if promotion is None:
            raise DomainError(PromotionError.NOT_FOUND)
        if promotion.version != base_version:
            raise DomainError(PromotionError.CHANGED, version=promotion.version)
        # A limit below what is already used or issued would break the table's CHECK (a 500 the
        # new-user review found): a field error instead.
        below = []
        if spec.use_limit is not None and spec.use_limit < promotion.used_count:
            below.append(
                FieldError(
                    "use_limit",
                    PromotionError.TERMS_INVALID,
                    _("Already used %(n)s times.") % {"n": promotion.used_count},
                )
            )
        if spec.issue_limit is not None and spec.issue_limit < promotion.issued_count:
            below.append(
                FieldError(
                    "issue_limit",
                    PromotionError.TERMS_INVALID,
                    _("Already issued %(n)s coupons.") % {"n": promotion.issued_count},
                )
            )
        if below:
            raise ValidationFailed(below)
        if spec.kind != promotion.kind and (promotion.issued_count or promotion.used_count):
            raise ValidationFailed(
                [
                    FieldError(
                        "kind",
                        PromotionError.TERMS_INVALID,
                        _("The kind cannot change once coupons were issued or orders used it."),
                    )
                ]
            )
        before = _snapshot(promotion)
        for name, value in asdict(spec).items():
            setattr(promotion, name, value)
        promotion.version += 1
        promotion.save()
        audit_record(
            actor=actor,
            action="promotion.update",
            object_type="promotion",
            object_id=promotion.pk,
            before=before,
            after=_snapshot(promotion),
        )
    _promotions_changed()
    return promotion


# Which state may follow which: a draft starts; a running promotion pauses or ends; a paused one
# resumes or ends; an ended one stays ended (its redemptions and ROI are history).
_TRANSITIONS = {
    PromotionState.ACTIVE: (PromotionState.DRAFT, PromotionState.PAUSED),
    PromotionState.PAUSED: (PromotionState.ACTIVE,),
    PromotionState.ENDED: (PromotionState.DRAFT, PromotionState.ACTIVE, PromotionState.PAUSED),
}


def promotion_transition(*, promotion_id: int, to: str, actor: Actor, reason: str = "") -> Promotion:
    """Start, pause, resume or end a promotion, by one conditional update.

    Raises: promotion.not_found, promotion.invalid_transition."""
    to = PromotionState(to)
    with transaction.atomic():
        changed = Promotion.objects.filter(pk=promotion_id, state__in=_TRANSITIONS.get(to, ())).update(
            state=to, version=F("version") + 1
        )
        promotion = promotion_get(promotion_id)
        if not changed:
            raise DomainError(PromotionError.INVALID_TRANSITION, state=promotion.state, to=str(to))
        audit_record(
            actor=actor,
            action="promotion.transition",
            object_type="promotion",
            object_id=promotion.pk,
            after={"state": str(to)},
            reason=reason,
        )
    _promotions_changed()
    return promotion


def promotion_live(promotion: Promotion, now: datetime) -> bool:
    return (
        promotion.state == PromotionState.ACTIVE
        and promotion.starts_at <= now
        and (promotion.ends_at is None or now < promotion.ends_at)
    )


# -- coupons ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issued:
    coupon: Coupon
    replayed: bool


def _window(promotion: Promotion, now: datetime) -> tuple[datetime, datetime | None]:
    """A new coupon's validity: N days from now, or the template's absolute window."""
    if promotion.valid_days:
        return now, now + timedelta(days=promotion.valid_days)
    return promotion.coupon_valid_from or now, promotion.coupon_valid_until


def coupon_issue(
    *,
    promotion_id: int,
    member_id: int,
    source: str,
    source_ref: str = "",
    actor: Actor,
    now: datetime | None = None,
    require_claimable: bool = False,
) -> Issued:
    """Hand one coupon of a template to a member, within the template's total and per-member
    limits. A `source_ref` issues once: the same ref again returns the first coupon (replayed).

    Raises: promotion.not_found, promotion.not_a_coupon, promotion.not_claimable,
    promotion.not_active, promotion.issue_limit_reached, promotion.member_limit_reached."""
    now = now or timezone.now()
    try:
        return _coupon_issue(promotion_id, member_id, source, source_ref, actor, now, require_claimable)
    except IntegrityError:
        # Two issues under one source_ref at once (a double submit, a replayed event): the loser's
        # savepoint is rolled back, its count increment with it, and it answers the winner's coupon.
        existing = Coupon.objects.filter(
            promotion_id=promotion_id, member_id=member_id, source_ref=source_ref
        ).first()
        if not source_ref or existing is None:
            raise
        return Issued(existing, replayed=True)


def _coupon_issue(promotion_id, member_id, source, source_ref, actor, now, require_claimable) -> Issued:
    with transaction.atomic():
        promotion = promotion_get(promotion_id)
        if not promotion.is_coupon:
            raise DomainError(PromotionError.NOT_A_COUPON)
        if require_claimable and not promotion.claimable:
            raise DomainError(PromotionError.NOT_CLAIMABLE)
        if not promotion_live(promotion, now):
            raise DomainError(PromotionError.NOT_ACTIVE)
        if source_ref:
            existing = Coupon.objects.filter(
                promotion=promotion, member_id=member_id, source_ref=source_ref
            ).first()
            if existing is not None:
                return Issued(existing, replayed=True)
        # The conditional update is the total limit and the lock that serialises this template's
        # issues: the member's count below is read under it.
        taken = Promotion.objects.filter(
            Q(issue_limit__isnull=True) | Q(issued_count__lt=F("issue_limit")), pk=promotion.pk
        ).update(issued_count=F("issued_count") + 1)
        if not taken:
            raise DomainError(PromotionError.ISSUE_LIMIT_REACHED)
        held = (
            Coupon.objects.filter(promotion=promotion, member_id=member_id)
            .exclude(state=CouponState.VOID)
            .count()
        )
        if held >= promotion.per_member_limit:
            raise DomainError(PromotionError.MEMBER_LIMIT_REACHED, limit=promotion.per_member_limit)
        valid_from, valid_until = _window(promotion, now)
        coupon = Coupon.objects.create(
            promotion=promotion,
            member_id=member_id,
            source=source,
            source_ref=source_ref,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        if source in (CouponSource.ISSUE,):
            audit_record(
                actor=actor,
                action="coupon.issue",
                object_type="coupon",
                object_id=coupon.pk,
                after={"promotion_id": promotion.pk, "member_id": member_id, "source_ref": source_ref},
            )
    return Issued(coupon, replayed=False)


def coupon_claim(
    *,
    promotion_id: int,
    member_id: int,
    actor: Actor,
    now: datetime | None = None,
    client: ClientSignals | None = None,
) -> Issued:
    """The member takes a claimable coupon from the coupon centre. Risk control judges the claim
    first (coupon abuse: many new accounts on one device or address): block and challenge refuse,
    review holds it — approving the case issues the coupon.

    Raises: the refusals of coupon_issue, risk.blocked, risk.challenge_required, risk.under_review."""
    promotion = promotion_get(promotion_id)
    # The cheap refusals first, so a closed or unclaimable template costs risk control nothing
    # (coupon_issue checks them again under its lock).
    if not promotion.is_coupon:
        raise DomainError(PromotionError.NOT_A_COUPON)
    if not promotion.claimable:
        raise DomainError(PromotionError.NOT_CLAIMABLE)
    if not promotion_live(promotion, now or timezone.now()):
        raise DomainError(PromotionError.NOT_ACTIVE)
    client = client or ClientSignals()
    member_ref = member_risk_refs([member_id]).get(member_id, "")
    verdict = risk_assess(
        RiskInput(
            entry=Entry.COUPON_CLAIM, subject_type="coupon", subject_ref=f"{promotion_id}:{member_id}",
            member_ref=member_ref, ip=client.ip, device_id=client.device_id[:128],
            user_agent=client.user_agent[:300], challenge=client.challenge[:64], at=now,
        )
    )  # fmt: skip
    if verdict.refuses:
        raise verdict.error()
    if verdict.action == Action.REVIEW:
        raise DomainError(RiskError.UNDER_REVIEW, decision=verdict.decision_id)
    return coupon_issue(
        promotion_id=promotion_id,
        member_id=member_id,
        source=CouponSource.CLAIM,
        actor=actor,
        now=now,
        require_claimable=True,
    )


@dataclass(frozen=True)
class BulkIssue:
    issued: int
    skipped: int  # already held as many as allowed, or issued by this batch before
    stopped: bool  # the template's total limit was reached


def coupons_issue_many(
    *, promotion_id: int, member_ids: list[int], batch_ref: str, actor: Actor, now: datetime | None = None
) -> BulkIssue:
    """Issue one coupon to each member (an operator's list or a segment), each once per `batch_ref`:
    re-running the same batch after a failure issues only what is missing."""
    issued = skipped = 0
    for member_id in member_ids:
        try:
            result = coupon_issue(
                promotion_id=promotion_id,
                member_id=member_id,
                source=CouponSource.ISSUE,
                source_ref=batch_ref,
                actor=actor,
                now=now,
            )
        except DomainError as error:
            if error.code == PromotionError.ISSUE_LIMIT_REACHED:
                _bulk_audit(promotion_id, batch_ref, issued, skipped, stopped=True, actor=actor)
                return BulkIssue(issued, skipped, stopped=True)
            if error.code != PromotionError.MEMBER_LIMIT_REACHED:
                raise
            skipped += 1
            continue
        issued += 0 if result.replayed else 1
        skipped += 1 if result.replayed else 0
    _bulk_audit(promotion_id, batch_ref, issued, skipped, stopped=False, actor=actor)
    return BulkIssue(issued, skipped, stopped=False)


def _bulk_audit(
    promotion_id: int, batch_ref: str, issued: int, skipped: int, *, stopped: bool, actor: Actor
) -> None:
    """One audit row per bulk issue, also when the template's limit stopped it (faults review)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="coupon.issue_many",
            object_type="promotion",
            object_id=promotion_id,
            after={"batch": batch_ref, "issued": issued, "skipped": skipped, "stopped": stopped},
        )


def coupon_void(*, coupon_id: int, actor: Actor, reason: str, promotion_id: int | None = None) -> Coupon:
    """Withdraw an unused coupon (issued by mistake).

    Raises: promotion.coupon_not_found, promotion.coupon_unavailable."""
    with transaction.atomic():
        scope = Coupon.objects.filter(pk=coupon_id)
        if promotion_id is not None:  # the caller's template only (a console page of one template)
            scope = scope.filter(promotion_id=promotion_id)
        changed = scope.filter(state=CouponState.AVAILABLE).update(state=CouponState.VOID)
        coupon = scope.first()
        if coupon is None:
            raise DomainError(PromotionError.COUPON_NOT_FOUND)
        if not changed:
            raise DomainError(PromotionError.COUPON_UNAVAILABLE, state=coupon.state)
        audit_record(
            actor=actor,
            action="coupon.void",
            object_type="coupon",
            object_id=coupon.pk,
            before={"state": CouponState.AVAILABLE},
            after={"state": CouponState.VOID},
            reason=reason,
        )
    return coupon


def coupons_expire_due(now: datetime | None = None) -> dict[str, int]:
    """Mark coupons past their end expired (periodic; quotes ignore them before this runs anyway)."""
    now = now or timezone.now()
    expired = Coupon.objects.filter(state=CouponState.AVAILABLE, valid_until__lte=now).update(
        state=CouponState.EXPIRED
    )
    return {"expired": expired}


# -- codes ------------------------------------------------------------------------------------------
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper
CODE_LENGTH = 12  # 32^12 = 2^60: guessing one of a million codes takes ~10^12 tries (rate-limited)


def code_normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_batch_create(
    *, promotion_id: int, name: str, size: int = 0, codes: list[str] | None = None, actor: Actor
) -> CodeBatch:
    """Generate `size` unguessable codes, or import the storefront's `codes` (unique, 8-32 of A-Z
    and 0-9). Each code reserves one coupon of the template's total limit.

    Raises: promotion.not_found, promotion.not_a_coupon, promotion.codes_invalid,
    promotion.issue_limit_reached."""
    imported = codes is not None
    if imported:
        normalized = [code_normalize(code) for code in codes]
        bad = [
            code for code in normalized if not (6 <= len(code) <= 32 and code.isascii() and code.isalnum())
        ]
        if bad or len(set(normalized)) != len(normalized) or not normalized:
            raise DomainError(PromotionError.CODES_INVALID, invalid=bad[:10], count=len(normalized))
        size = len(normalized)
    elif not 1 <= size <= 100_000:
        raise DomainError(PromotionError.CODES_INVALID, count=size)
    with transaction.atomic():
        promotion = promotion_get(promotion_id)
        if not promotion.is_coupon:
            raise DomainError(PromotionError.NOT_A_COUPON)
        taken = Promotion.objects.filter(
            Q(issue_limit__isnull=True) | Q(issued_count__lte=F("issue_limit") - size), pk=promotion.pk
        ).update(issued_count=F("issued_count") + size)
        if not taken:
            raise DomainError(PromotionError.ISSUE_LIMIT_REACHED)
        batch = CodeBatch.objects.create(
            promotion=promotion, name=name[:100], size=size, imported=imported, created_by=actor.label
        )
        values = normalized if imported else [_new_code() for _ in range(size)]
        try:
            with transaction.atomic():
                CouponCode.objects.bulk_create(CouponCode(batch=batch, code=code) for code in values)
        except IntegrityError:
            if imported:  # a code that exists in another batch
                raise DomainError(PromotionError.CODES_INVALID, count=size) from None
            raise  # 2^60 codes: a generated collision is not worth a retry loop
        audit_record(
            actor=actor,
            action="coupon.codes_create",
            object_type="promotion",
            object_id=promotion.pk,
            after={"batch": batch.pk, "size": size, "imported": imported},
        )
    return batch


def code_batch_export(*, batch_id: int, actor: Actor) -> tuple[CodeBatch, list[tuple[str, bool]]]:
    """A batch's codes and whether each was redeemed, for the operator who prints or sends them.
    Codes are bearer secrets: reading them is an audited action (the audit row commits with the read).

    Raises: promotion.not_found (no such batch)."""
    with transaction.atomic():
        batch = CodeBatch.objects.select_related("promotion").filter(pk=batch_id).first()
        if batch is None:
            raise DomainError(PromotionError.NOT_FOUND)
        codes = [
            (code, redeemed_at is not None)
            for code, redeemed_at in batch.codes.order_by("pk").values_list("code", "redeemed_at")
        ]
        audit_record(
            actor=actor,
            action="coupon.codes_export",
            object_type="promotion",
            object_id=batch.promotion_id,
            after={"batch": batch.pk, "codes": len(codes)},
        )
    return batch, codes


def code_redeem(*, code: str, member_id: int, actor: Actor, now: datetime | None = None) -> Coupon:
    """The member types a code and gets its coupon; a code works once.

    Raises: promotion.code_unknown, promotion.code_used, promotion.not_active,
    promotion.member_limit_reached."""
    now = now or timezone.now()
    normalized = code_normalize(code or "")
    if not (normalized.isascii() and normalized.isalnum()):  # a NUL is a 500 on PostgreSQL; no code has one
        raise DomainError(PromotionError.CODE_UNKNOWN)
    with transaction.atomic():
        row = CouponCode.objects.select_related("batch__promotion").filter(code=normalized).first()
        if row is None:
            raise DomainError(PromotionError.CODE_UNKNOWN)
        promotion = row.batch.promotion
        if not promotion_live(promotion, now):
            raise DomainError(PromotionError.NOT_ACTIVE)
        # The code's own conditional update: of two members typing it at once, one gets it.
        claimed = CouponCode.objects.filter(pk=row.pk, coupon__isnull=True, redeemed_at__isnull=True).update(
            redeemed_at=now
        )
        if not claimed:
            raise DomainError(PromotionError.CODE_USED)
        Promotion.objects.filter(pk=promotion.pk).update(version=F("version"))  # the template's lock
        held = (
            Coupon.objects.filter(promotion=promotion, member_id=member_id)
            .exclude(state=CouponState.VOID)
            .count()
        )
        if held >= promotion.per_member_limit:
            raise DomainError(PromotionError.MEMBER_LIMIT_REACHED, limit=promotion.per_member_limit)
        valid_from, valid_until = _window(promotion, now)
        coupon = Coupon.objects.create(
            promotion=promotion,
            member_id=member_id,
            source=CouponSource.CODE,
            source_ref=f"code:{row.pk}",
            valid_from=valid_from,
            valid_until=valid_until,
        )
        CouponCode.objects.filter(pk=row.pk).update(coupon=coupon)
    return coupon


def coupon_buy_with_points(*, promotion_id: int, member_id: int, key: str, actor: Actor) -> Issued:
    """Exchange points for a coupon (积分兑券): the points are spent from the loyalty ledger and the
    coupon issued in one transaction, both keyed by `key` — a retry returns the same coupon.

    Raises: promotion.points_not_on_sale, loyalty.insufficient_points, and coupon_issue's codes."""
    from yunying.loyalty.ledger import points_spend
    from yunying.loyalty.models import PostingSource

    with transaction.atomic():
        promotion = promotion_get(promotion_id)
        if not promotion.is_coupon or not promotion.points_price:
            raise DomainError(PromotionError.POINTS_NOT_ON_SALE)
        issued = coupon_issue(
            promotion_id=promotion_id,
            member_id=member_id,
            source=CouponSource.POINTS,
            source_ref=f"points:{key}",
            actor=actor,
        )
        if not issued.replayed:
            points_spend(
                member_id=member_id,
                points=promotion.points_price,
                key=f"coupon:{member_id}:{promotion.pk}:{key}",  # a key spends for this member and coupon only
                source=PostingSource.REDEEM,
                actor=actor,
                ref=f"promotion:{promotion.pk}",
                memo=promotion.name,
            )
    return issued


# -- budgets ----------------------------------------------------------------------------------------
def budget_create(
    *,
    scope: str,
    base_fen: int,
    actor: Actor,
    promotion_id: int | None = None,
    campaign_id: int | None = None,
    channel: str = "",
    name: str = "",
) -> Budget:
    """A budget for one promotion, campaign or channel.

    Raises: promotion.budget_invalid, promotion.budget_exists, promotion.not_found."""
    errors = []
    if not isinstance(base_fen, int) or isinstance(base_fen, bool) or not 0 <= base_fen <= 10**12:
        errors.append(FieldError("base_fen", PromotionError.BUDGET_INVALID))
    if scope == BudgetScope.PROMOTION and promotion_id is None:
        errors.append(FieldError("promotion_id", PromotionError.BUDGET_INVALID))
    if scope == BudgetScope.CAMPAIGN and not campaign_id:
        errors.append(FieldError("campaign_id", PromotionError.BUDGET_INVALID))
    if scope == BudgetScope.CHANNEL and not channel:
        errors.append(FieldError("channel", PromotionError.BUDGET_INVALID))
    if scope not in BudgetScope.values:
        errors.append(FieldError("scope", PromotionError.BUDGET_INVALID))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if promotion_id is not None:
            promotion_get(promotion_id)
        try:
            with transaction.atomic():
                budget = Budget.objects.create(
                    scope=scope,
                    promotion_id=promotion_id if scope == BudgetScope.PROMOTION else None,
                    campaign_id=campaign_id if scope == BudgetScope.CAMPAIGN else None,
                    channel=channel if scope == BudgetScope.CHANNEL else "",
                    name=name[:100],
                    base_fen=base_fen,
                )
        except IntegrityError:
            raise DomainError(PromotionError.BUDGET_EXISTS) from None
        audit_record(
            actor=actor,
            action="budget.create",
            object_type="budget",
            object_id=budget.pk,
            after={"scope": scope, "key": budget.key, "base_fen": base_fen},
        )
    return budget


def budget_set_base(*, budget_id: int, base_fen: int, actor: Actor, reason: str = "") -> Budget:
    """Lower a budget's base (a cut takes one person). It cannot drop below what is already spent net
    of top-ups. Raising it would give away more with nobody's approval: that is a top-up, which a
    second operator approves (attacker review: raising the base bypassed the two-person rule).

    Raises: promotion.budget_not_found, promotion.budget_invalid."""
    if not isinstance(base_fen, int) or isinstance(base_fen, bool) or not 0 <= base_fen <= 10**12:
        raise ValidationFailed([FieldError("base_fen", PromotionError.BUDGET_INVALID)])
    with transaction.atomic():
        budget = Budget.objects.select_for_update().filter(pk=budget_id).first()
        if budget is None:
            raise DomainError(PromotionError.BUDGET_NOT_FOUND)
        if base_fen > budget.base_fen:
            raise ValidationFailed(
                [
                    FieldError(
                        "base_fen",
                        PromotionError.BUDGET_INVALID,
                        _("To raise a budget, ask for a top-up: another operator approves it."),
                    )
                ]
            )
        if base_fen + budget.topup_fen < budget.spent_fen:
            raise ValidationFailed(
                [FieldError("base_fen", PromotionError.BUDGET_INVALID, spent_fen=budget.spent_fen)]
            )
        before = budget.base_fen
        budget.base_fen = base_fen
        budget.save(update_fields=["base_fen"])
        audit_record(
            actor=actor,
            action="budget.set_base",
            object_type="budget",
            object_id=budget.pk,
            before={"base_fen": before},
            after={"base_fen": base_fen},
            reason=reason,
        )
    return budget


def topup_request(*, budget_id: int, amount_fen: int, reason: str, actor: Actor) -> BudgetTopUp:
    """Ask for more budget (dynamic budget); another operator approves it.

    Raises: promotion.budget_not_found, promotion.budget_invalid."""
    errors = []
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or not 0 < amount_fen <= 10**12:
        errors.append(FieldError("amount_fen", PromotionError.BUDGET_INVALID))
    if not reason.strip():
        errors.append(FieldError("reason", PromotionError.BUDGET_INVALID))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if not Budget.objects.filter(pk=budget_id).exists():
            raise DomainError(PromotionError.BUDGET_NOT_FOUND)
        topup = BudgetTopUp.objects.create(
            budget_id=budget_id,
            amount_fen=amount_fen,
            reason=reason.strip()[:200],
            requested_by=actor.label,
            requested_by_id=actor.id,
        )
        audit_record(
            actor=actor,
            action="budget.topup_request",
            object_type="budget",
            object_id=budget_id,
            after={"topup": topup.pk, "amount_fen": amount_fen},
            reason=reason,
        )
    return topup


def topup_decide(*, topup_id: int, approve: bool, actor: Actor, note: str = "") -> BudgetTopUp:
    """Approve or reject a top-up: never by the operator who asked (two-person rule). Approval
    raises the cap and writes a top-up entry in the same transaction.

    Raises: promotion.topup_not_found, promotion.topup_decided, promotion.same_person."""
    now = timezone.now()
    with transaction.atomic():
        topup = BudgetTopUp.objects.select_for_update().filter(pk=topup_id).first()
        if topup is None:
            raise DomainError(PromotionError.TOPUP_NOT_FOUND)
        if topup.state != TopUpState.PENDING:
            raise DomainError(PromotionError.TOPUP_DECIDED, state=topup.state)
        # a console user, and another one: an API key or a command could stand for the requester
        if actor.kind != "user" or actor.id is None or actor.id == topup.requested_by_id:
            raise DomainError(PromotionError.SAME_PERSON)
        topup.state = TopUpState.APPROVED if approve else TopUpState.REJECTED
        topup.decided_by = actor.label
        topup.decided_at = now
        topup.note = note[:200]
        topup.save(update_fields=["state", "decided_by", "decided_at", "note"])
        if approve:
            Budget.objects.filter(pk=topup.budget_id).update(topup_fen=F("topup_fen") + topup.amount_fen)
            BudgetEntry.objects.create(
                budget_id=topup.budget_id,
                kind=BudgetEntryKind.TOPUP,
                amount_fen=topup.amount_fen,
                topup=topup,
            )
            # A budget that crossed 80% or 100% warns again once it crosses them with the new cap.
            Budget.objects.filter(pk=topup.budget_id).update(alerted_80_at=None, alerted_100_at=None)
        audit_record(
            actor=actor,
            action="budget.topup_approve" if approve else "budget.topup_reject",
            object_type="budget",
            object_id=topup.budget_id,
            after={"topup": topup.pk, "amount_fen": topup.amount_fen},
            reason=note,
        )
    return topup


def _alert(code: str, data: dict) -> None:
    # Imported here, not at module level: this module loads with the app (ready()), before `yunying
    # serve` sets PROMETHEUS_MULTIPROC_DIR, and core.alerts imports prometheus_client (core.metrics).
    from yunying.core.alerts import alert_record_with

    alert_record_with(code, **data)


ALERT_80 = "promotions.budget_80"
ALERT_100 = "promotions.budget_100"


def budget_alerts_check(budget_ids: list[int], now: datetime | None = None) -> None:
    """Raise an alert once when a budget's spend reaches 80% and once at 100% of its cap. The flag
    is set by a conditional update, so two orders crossing at once raise one alert; the alert row is
    written in the same transaction as the flag, so a crash after the commit loses neither (faults
    review: the row used to follow the commit, and a crash in between lost it for good)."""
    now = now or timezone.now()
    for budget in Budget.objects.filter(pk__in=budget_ids):
        cap = budget.cap_fen
        for field, code, reached in (
            ("alerted_100_at", ALERT_100, cap > 0 and budget.spent_fen >= cap),
            ("alerted_80_at", ALERT_80, cap > 0 and budget.spent_fen * 100 >= cap * 80),
        ):
            if reached and Budget.objects.filter(pk=budget.pk, **{f"{field}__isnull": True}).update(
                **{field: now}
            ):
                data = {
                    "budget_id": budget.pk,
                    "key": budget.key,
                    "spent_fen": budget.spent_fen,
                    "cap_fen": cap,
                }
                _alert(code, data)


SEGMENT_ISSUE_MAX = 5000  # members per request; larger segments: docs/promotions.md "Issuing"


def coupons_issue_segment(
    *, promotion_id: int, segment_id: int, actor: Actor, now: datetime | None = None
) -> BulkIssue:
    """One coupon to every member of a segment (its members now), once per segment and template:
    re-running it issues only to members who joined since or were missed.

    Raises: promotion.codes_invalid (the segment is larger than SEGMENT_ISSUE_MAX), and coupon_issue's."""
    from yunying.analytics.models import SegmentMember

    member_ids = list(
        SegmentMember.objects.filter(segment_id=segment_id)
        .order_by("member_id")
        .values_list("member_id", flat=True)[: SEGMENT_ISSUE_MAX + 1]
    )
    if len(member_ids) > SEGMENT_ISSUE_MAX:
        raise DomainError(PromotionError.SEGMENT_TOO_LARGE, maximum=SEGMENT_ISSUE_MAX)
    return coupons_issue_many(
        promotion_id=promotion_id,
        member_ids=member_ids,
        batch_ref=f"segment:{segment_id}",
        actor=actor,
        now=now,
    )


def coupon_claim_risk_outcome(decision, approve: bool, actor: Actor) -> str:
    """A coupon claim held by risk control: approving issues the coupon (once: the decision is its
    source ref), rejecting leaves the member without it."""
    if not approve:
        return "coupon not issued"
    promotion_id, _, member_id = decision.subject_ref.partition(":")
    try:
        issued = coupon_issue(
            promotion_id=int(promotion_id), member_id=int(member_id), source=CouponSource.CLAIM,
            source_ref=f"risk:{decision.pk}", actor=actor, require_claimable=True,
        )  # fmt: skip
    except DomainError as error:
        return f"coupon not issued: {error.code}"
    return "coupon issued" if not issued.replayed else "coupon was issued before"
