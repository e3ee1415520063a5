"""Operators' manual points adjustments (console, member 360 page): the only writer of
PointAdjustment. A reason is required and every step is audited in the same transaction. Up to
settings.LOYALTY_ADJUST_APPROVAL_THRESHOLD points (either way) the adjustment posts at once; above it
it waits for a second operator with loyalty.approve, who cannot be the one who asked."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor, Perm
from yunying.core.scrub import scrub_personal
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.ledger import points_earn, points_spend
from yunying.loyalty.models import AdjustmentState, PointAdjustment, PostingKind, PostingSource
from yunying.loyalty.rules import points_rules_current, rules_expiry_at
from yunying.members.models import Member

MAX_ADJUSTMENT = 10_000_000


def _post(adjustment: PointAdjustment, actor: Actor) -> None:
    """Post the adjustment to the ledger (inside the caller's transaction)."""
    key = f"adjust:{adjustment.pk}"
    now = timezone.now()
    if adjustment.points > 0:
        rules = points_rules_current()
        posted = points_earn(
            member_id=adjustment.member_id, points=adjustment.points, key=key, source=PostingSource.MANUAL,
            actor=actor, expires_at=rules_expiry_at(rules, now) if rules else None, reason=adjustment.reason,
            memo=adjustment.reason[:200], now=now,
        )  # fmt: skip
    else:
        posted = points_spend(
            member_id=adjustment.member_id, points=-adjustment.points, key=key, source=PostingSource.MANUAL,
            actor=actor, reason=adjustment.reason, memo=adjustment.reason[:200], kind=PostingKind.ADJUST_OUT, now=now,
        )  # fmt: skip
    adjustment.posting = posted.posting


def adjustment_request(*, member_id: int, points: int, reason: str, actor: Actor) -> PointAdjustment:
    """Add (points > 0) or deduct (points < 0) a member's points.

    Raises: core.permission_denied, loyalty.reason_required, loyalty.points_invalid,
    loyalty.member_not_found, loyalty.insufficient_points (a deduction beyond the balance)."""
    actor.require(Perm.LOYALTY_ADJUST)
    reason = scrub_personal((reason or "").strip())  # kept on the adjustment, the posting and the trail
    if not reason:
        raise DomainError(LoyaltyError.REASON_REQUIRED, field="reason")
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise DomainError(LoyaltyError.POINTS_INVALID, field="points")
    if not Member.objects.filter(pk=member_id).exists():
        raise DomainError(LoyaltyError.MEMBER_NOT_FOUND)
    needs_approval = abs(points) > settings.LOYALTY_ADJUST_APPROVAL_THRESHOLD
    with transaction.atomic():
        adjustment = PointAdjustment.objects.create(
            member_id=member_id, points=points, reason=reason[:500],
            state=AdjustmentState.REQUESTED if needs_approval else AdjustmentState.DONE,
            requested_by=actor.label[:150], requested_by_id=actor.id, requested_at=timezone.now(),
        )  # fmt: skip
        if not needs_approval:
            _post(adjustment, actor)
            adjustment.save(update_fields=["posting"])
        audit_record(
            actor=actor, action="loyalty.adjust" if not needs_approval else "loyalty.adjust_request",
            object_type="member", object_id=member_id, after={"points": points, "adjustment": adjustment.pk},
            reason=reason,
        )  # fmt: skip
    return adjustment


def adjustment_decide(*, adjustment_id: int, approve: bool, actor: Actor, note: str = "") -> PointAdjustment:
    """Approve (post) or reject a requested adjustment; a second operator only.

    Raises: core.permission_denied, loyalty.adjustment_not_found, loyalty.adjustment_decided,
    loyalty.same_person, loyalty.insufficient_points (a deduction the balance no longer covers)."""
    actor.require(Perm.LOYALTY_APPROVE)
    with transaction.atomic():
        adjustment = PointAdjustment.objects.select_for_update().filter(pk=adjustment_id).first()
        if adjustment is None:
            raise DomainError(LoyaltyError.ADJUSTMENT_NOT_FOUND)
        if adjustment.state != AdjustmentState.REQUESTED:
            raise DomainError(LoyaltyError.ADJUSTMENT_DECIDED, state=adjustment.state)
        # a console user, and another one: an API key or a command could stand for the requester
        if actor.kind != "user" or actor.id is None or actor.id == adjustment.requested_by_id:
            raise DomainError(LoyaltyError.SAME_PERSON)
        adjustment.state = AdjustmentState.APPROVED if approve else AdjustmentState.REJECTED
        adjustment.decided_by, adjustment.decided_by_id = actor.label[:150], actor.id
        adjustment.decided_at = timezone.now()
        adjustment.decision_note = scrub_personal((note or "").strip())[:500]
        if approve:
            _post(adjustment, actor)
        adjustment.save()
        audit_record(
            actor=actor, action="loyalty.adjust_approve" if approve else "loyalty.adjust_reject",
            object_type="member", object_id=adjustment.member_id,
            before={"state": AdjustmentState.REQUESTED}, after={"state": adjustment.state, "points": adjustment.points},
            reason=adjustment.decision_note or adjustment.reason,
        )  # fmt: skip
    return adjustment


def adjustments_waiting():
    return PointAdjustment.objects.filter(state=AdjustmentState.REQUESTED).order_by("requested_at")
