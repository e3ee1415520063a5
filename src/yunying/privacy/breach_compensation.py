"""Breach compensation (S6, "72 小时内完成用户补偿（如赠送优惠券、延长会员有效期）"): the only writer of
the compensation fields of privacy's breach tables, beside privacy.breach.

`breach_compensate` claims each affected member's row with a conditional update in the transaction
that issues, so a re-run or a concurrent run issues only what is missing; it works in batches and says
how many remain. A drill marks each row `drill` and issues nothing. A member erased since being added
is never claimed (no coupon, no tier.extend row) and is counted in `skipped`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunying.core.audit import audit_record
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.core.permissions import Actor, Perm
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.tiers import tier_extend
from yunying.members.personal_data import members_live
from yunying.privacy.breach import MAX_EXTENSION_DAYS, breach_get, incident_lock, incident_snapshot
from yunying.privacy.breach_errors import BreachError
from yunying.privacy.models import BreachAffected, BreachIncident, CompensationKind, IncidentStatus
from yunying.promotions.errors import PromotionError
from yunying.promotions.models import CouponSource
from yunying.promotions.services import coupon_issue, promotion_get


def breach_compensation_plan(
    *, incident_id: int, kind: str, promotion_id: int | None = None, days: int | None = None, actor: Actor
) -> BreachIncident:
    """Choose what affected members receive: one coupon of `promotion_id`, or `days` more at their
    membership level. Fixed once any member received it.

    Raises: core.permission_denied, breach.not_found, breach.closed, breach.compensation_started,
    core.invalid (breach.invalid per field), promotion.not_found, promotion.not_a_coupon."""
    actor.require(Perm.BREACH_MANAGE)
    if kind == CompensationKind.COUPON:
        if promotion_id is None:
            raise ValidationFailed([FieldError("promotion_id", BreachError.INVALID, _("Choose the coupon."))])
        if not promotion_get(promotion_id).is_coupon:
            raise DomainError(PromotionError.NOT_A_COUPON)
        days = None
    elif kind == CompensationKind.EXTENSION:
        if days is None or not 1 <= days <= MAX_EXTENSION_DAYS:
            raise ValidationFailed(
                [FieldError("days", BreachError.INVALID, _("Give the extension in days, 1 to 3650."))]
            )
        promotion_id = None
    else:
        raise ValidationFailed(
            [FieldError("kind", BreachError.INVALID, _("Choose a coupon or an extension."))]
        )
    with transaction.atomic(durable=True):
        incident = incident_lock(incident_id)
        if BreachAffected.objects.filter(incident=incident, compensated_at__isnull=False).exists():
            raise DomainError(BreachError.COMPENSATION_STARTED)
        fields = ["compensation_kind", "compensation_promotion_id", "compensation_days"]
        before = incident_snapshot(incident, fields)
        incident.compensation_kind, incident.compensation_promotion_id, incident.compensation_days = (
            kind,
            promotion_id,
            days,
        )
        incident.save(update_fields=[*fields, "updated_at"])
        audit_record(
            actor=actor, action="breach.compensation_plan", object_type="breach_incident",
            object_id=incident.pk, before=before, after=incident_snapshot(incident, fields),
        )  # fmt: skip
    return incident


@dataclass(frozen=True)
class Compensated:
    issued: int  # members who received it in this call (a drill: marked, nothing issued)
    refused: int  # members the promotion refused (they hold as many coupons as it allows)
    remaining: int  # affected members not compensated yet (run again to go on)
    stopped: str = ""  # a code that stopped the run (the coupon ran out, the promotion ended)
    skipped: int = 0  # affected members erased since they were added: given nothing


def breach_compensate(
    *, incident_id: int, actor: Actor, batch_size: int = 200, now: datetime | None = None
) -> Compensated:
    """Give the planned compensation to up to `batch_size` affected members not compensated yet:
    resumable (run again for the rest) and idempotent (each member's row is claimed by a conditional
    update in the transaction that issues, and a coupon is issued once per incident: its source ref).

    Raises: core.permission_denied, breach.not_found, breach.closed, breach.no_affected,
    breach.compensation_unset; a refusal of the whole promotion (not active) stops the run and is
    returned in `stopped`."""
    actor.require(Perm.BREACH_MANAGE)
    incident = breach_get(incident_id)
    if incident.status == IncidentStatus.CLOSED:
        raise DomainError(BreachError.CLOSED)
    if incident.compensation_kind == CompensationKind.NONE:
        raise DomainError(BreachError.COMPENSATION_UNSET)
    # An erased member is given nothing (no coupon, no tier.extend row): never pending.
    live = members_live().values("pk")
    pending = BreachAffected.objects.filter(
        incident=incident, compensated_at__isnull=True, member_id__in=live
    )
    if not BreachAffected.objects.filter(incident=incident).exists():
        raise DomainError(BreachError.NO_AFFECTED)
    rows = list(pending.order_by("id").values_list("id", "member_id")[: max(1, batch_size)])
    before = len(rows) and pending.count()
    issued = refused = 0
    stopped = ""
    for row_id, member_id in rows:
        try:
            with transaction.atomic(durable=True):
                outcome = _compensate_one(incident, row_id, member_id, actor=actor, now=now or timezone.now())
        except DomainError as error:
            if error.code in (PromotionError.MEMBER_LIMIT_REACHED, LoyaltyError.MEMBER_NOT_FOUND):
                with transaction.atomic(durable=True):
                    BreachAffected.objects.filter(pk=row_id, compensated_at__isnull=True).update(
                        compensated_at=now or timezone.now(), compensation=error.code
                    )
                refused += 1
                continue
            stopped = error.code  # the coupon ran out or stopped: nothing more can be issued now
            break
        issued += outcome
    skipped = (
        BreachAffected.objects.filter(incident=incident, compensated_at__isnull=True)
        .exclude(member_id__in=live)
        .count()
    )
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor, action="breach.compensate", object_type="breach_incident", object_id=incident.pk,
            before={"remaining": before},
            after={"remaining": pending.count(), "kind": incident.compensation_kind, "issued": issued,
                   "refused": refused, "skipped_erased": skipped, "stopped": stopped, "drill": incident.is_drill},
        )  # fmt: skip
    return Compensated(issued, refused, pending.count(), stopped, skipped)


def _compensate_one(incident: BreachIncident, row_id: int, member_id: int, *, actor: Actor, now) -> int:
    """Claim the member's row and issue, in the caller's transaction; 0 when another run had it."""
    # The claim re-checks the member under this transaction: one erased meanwhile is not claimed.
    claimed = (
        BreachAffected.objects.filter(pk=row_id, compensated_at__isnull=True)
        .filter(member_id__in=members_live().values("pk"))
        .update(compensated_at=now)
    )
    if not claimed:
        return 0
    if incident.is_drill:
        what = "drill"
    elif incident.compensation_kind == CompensationKind.COUPON:
        issued = coupon_issue(
            promotion_id=incident.compensation_promotion_id, member_id=member_id, source=CouponSource.ISSUE,
            source_ref=f"breach:{incident.pk}", actor=actor, now=now,
        )  # fmt: skip
        what = f"coupon:{issued.coupon.pk}"
    else:
        tier_extend(
            member_id=member_id, days=incident.compensation_days, actor=actor, now=now,
            reason=f"breach:{incident.pk}",
        )  # fmt: skip
        what = f"extended:{incident.compensation_days}"
    BreachAffected.objects.filter(pk=row_id).update(compensation=what)
    return 1
