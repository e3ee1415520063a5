"""Referral rewards (L3, M4): a member's invite code brings a friend (members.Member.invited_by); the
inviter is rewarded when the friend's FIRST order is paid and survives its return window.

- MEMBER_REGISTERED with an inviter opens a Referral (WAITING). Self-referral and circular referral
  (the inviter was brought, directly or up the chain, by the invitee) open none.
- The invitee's first recorded order moves it to ORDERED; a refund or cancellation of that order
  before the window closes voids it (VOID).
- `referrals_settle_due` (a periodic job) settles ORDERED referrals whose window closed: the order is
  checked again (still PAID), the inviter's monthly cap (a month of settings.TIME_ZONE) turns the rest
  into CAPPED, and a shared device signal sends it to REVIEW instead of paying.
- Device signal: the keyed hash of the address the invitee accepted the privacy notice from on H5 sign-in
  (members ConsentEvent.ip_hash; the earliest one). Orders carry no payer, so the payer signal is not
  used; when `same_signal_limit` other invitees of the same inviter share the hash, the referral waits
  for an operator (approve pays, reject pays nothing; both audited).
- Points post under `referral:<id>:inviter` and `referral:<id>:invitee`: a job run twice pays once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from yunying.commerce.events import OrderFact, OrderFactKind
from yunying.commerce.models import Order, OrderStatus
from yunying.core.activity import Activity, ActivityKind
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Actor, Perm
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.ledger import points_earn
from yunying.loyalty.models import PostingSource, Referral, ReferralRule, ReferralStatus, TaskKind
from yunying.loyalty.tasks import task_event
from yunying.members.models import ConsentEvent, Member
from yunying.members.services import member_risk_refs
from yunying.risk.rules import Action
from yunying.risk.services import case_close_for, risk_assess
from yunying.risk.signals import Entry, RiskInput

POINTS_EXPIRE_DAYS = 365
CHAIN_DEPTH = 20
MAX_POINTS = 1_000_000


def referral_rule() -> ReferralRule:
    return ReferralRule.objects.order_by("-id").first() or ReferralRule()


def referral_rule_save(
    *,
    inviter_points: int,
    invitee_points: int,
    monthly_cap: int,
    return_window_days: int,
    same_signal_limit: int,
    actor: Actor,
) -> ReferralRule:
    """Raises: core.permission_denied, loyalty.referral_rule_invalid."""
    actor.require(Perm.LOYALTY_CONFIGURE)
    values = [inviter_points, invitee_points, monthly_cap, return_window_days, same_signal_limit]
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_POINTS for v in values) or (
        return_window_days > 365
    ):
        raise DomainError(LoyaltyError.REFERRAL_RULE_INVALID)
    before = ReferralRule.objects.order_by("-id").first()
    with transaction.atomic():
        rule = ReferralRule.objects.create(
            inviter_points=inviter_points,
            invitee_points=invitee_points,
            monthly_cap=monthly_cap,
            return_window_days=return_window_days,
            same_signal_limit=same_signal_limit,
            created_by=actor.label[:150],
        )
        audit_record(
            actor=actor,
            action="loyalty.referral_rule_save",
            object_type="referral_rule",
            object_id=rule.pk,
            before=_rule_dict(before) if before else None,
            after=_rule_dict(rule),
        )
    return rule


def _rule_dict(rule: ReferralRule) -> dict:
    return {
        "inviter_points": rule.inviter_points,
        "invitee_points": rule.invitee_points,
        "monthly_cap": rule.monthly_cap,
        "return_window_days": rule.return_window_days,
        "same_signal_limit": rule.same_signal_limit,
    }


def is_circular(inviter_id: int, invitee_id: int) -> bool:
    """Whether the invitee brought the inviter, directly or up the chain (or is the inviter)."""
    current: int | None = inviter_id
    for _ in range(CHAIN_DEPTH):
        if current is None:
            return False
        if current == invitee_id:
            return True
        current = Member.objects.filter(pk=current).values_list("invited_by_id", flat=True).first()
    return False


def referral_open(*, invitee_id: int, inviter_id: int, now: datetime | None = None) -> Referral | None:
    """The invitee registered with the inviter's code. None when refused (self or circular)."""
    if is_circular(inviter_id, invitee_id):
        return None
    existing = Referral.objects.filter(invitee_id=invitee_id).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Referral.objects.create(
                inviter_id=inviter_id, invitee_id=invitee_id, created_at=now or timezone.now()
            )
    except IntegrityError:
        return Referral.objects.get(invitee_id=invitee_id)


def _signal(member_id: int) -> str:
    return (
        ConsentEvent.objects.filter(member_id=member_id)
        .exclude(ip_hash="")
        .order_by("id")
        .values_list("ip_hash", flat=True)
        .first()
        or ""
    )


def on_activity(activity: Activity) -> None:
    if activity.kind != ActivityKind.MEMBER_REGISTERED:
        return
    inviter_id = (activity.data or {}).get("inviter_id")
    if inviter_id:
        referral_open(invitee_id=activity.member_id, inviter_id=inviter_id, now=activity.at)


def on_order(fact: OrderFact) -> None:
    referral = Referral.objects.select_for_update().filter(invitee_id=fact.member_id).first()
    if referral is None:
        return
    if fact.kind == OrderFactKind.RECORDED and referral.status == ReferralStatus.WAITING:
        if not _counts_as_first_order(fact, referral):
            return
        referral.status = ReferralStatus.ORDERED
        referral.order_id = fact.order_id
        # The return window runs from when the order reached us, not from the date it claims: a
        # backdated order must not be past its window the moment it arrives.
        referral.order_paid_at = max(fact.at, timezone.now())
        referral.save(update_fields=["status", "order_id", "order_paid_at"])
    elif (
        fact.kind in (OrderFactKind.REFUNDED, OrderFactKind.CANCELLED)
        and fact.order_id == referral.order_id
        and referral.status in (ReferralStatus.ORDERED, ReferralStatus.REVIEW)
    ):
        referral.status = ReferralStatus.VOID
        referral.settled_at = timezone.now()
        referral.save(update_fields=["status", "settled_at"])


def _counts_as_first_order(fact: OrderFact, referral: Referral) -> bool:
    """An order that can pay a referral: paid after the referral opened, for something (not 0 fen),
    sent by the storefront (an imported history file is not a new customer's first order)."""
    order = Order.objects.filter(pk=fact.order_id).only("total_fen", "source", "paid_at").first()
    return (
        order is not None
        and order.total_fen > 0
        and order.source != "import"
        and order.paid_at >= referral.created_at
    )


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _pay(referral: Referral, rule: ReferralRule, actor: Actor, now: datetime) -> None:
    expires = now + timedelta(days=POINTS_EXPIRE_DAYS)
    for member_id, points, who in (
        (referral.inviter_id, rule.inviter_points, "inviter"),
        (referral.invitee_id, rule.invitee_points, "invitee"),
    ):
        if points:
            points_earn(
                member_id=member_id,
                points=points,
                key=f"referral:{referral.pk}:{who}",
                source=PostingSource.REFERRAL,
                actor=actor,
                expires_at=expires,
                ref=str(referral.pk),
                memo=f"referral ({who})",
                now=now,
            )
    # The "invite a friend" task completes with the referral, under the same guards (not on sign-up).
    task_event(
        member_id=referral.inviter_id,
        kind=TaskKind.INVITED_FRIEND,
        source_key=f"referral:{referral.pk}",
        now=now,
    )
    referral.status = ReferralStatus.PAID
    referral.inviter_points = rule.inviter_points
    referral.invitee_points = rule.invitee_points
    referral.settled_at = now
    referral.save(update_fields=["status", "inviter_points", "invitee_points", "settled_at"])


def _settle_one(referral: Referral, rule: ReferralRule, now: datetime) -> str:
    order = Order.objects.filter(pk=referral.order_id).first()
    if order is None or order.status != OrderStatus.PAID:
        referral.status, referral.settled_at = ReferralStatus.VOID, now
        referral.save(update_fields=["status", "settled_at"])
        return "void"
    # One inviter's referrals settle one at a time (their member row locked), so two workers cannot both
    # count under the cap and both pay.
    Member.objects.select_for_update().filter(pk=referral.inviter_id).values_list("pk", flat=True).first()
    paid_this_month = Referral.objects.filter(
        inviter_id=referral.inviter_id, status=ReferralStatus.PAID, settled_at__gte=_month_start(now)
    ).count()
    if paid_this_month >= rule.monthly_cap:
        referral.status, referral.settled_at = ReferralStatus.CAPPED, now
        referral.save(update_fields=["status", "settled_at"])
        return "capped"
    referral.signal_hash = _signal(referral.invitee_id)
    if referral.signal_hash:
        sharing = (
            Referral.objects.filter(inviter_id=referral.inviter_id, signal_hash=referral.signal_hash)
            .exclude(pk=referral.pk)
            .count()
        )
        if sharing >= rule.same_signal_limit:
            referral.status, referral.review_reason = ReferralStatus.REVIEW, "same_device"
            referral.save(update_fields=["status", "review_reason", "signal_hash"])
            return "review"
    if _risk_holds(referral, now):
        referral.status, referral.review_reason = ReferralStatus.REVIEW, "risk"
        referral.save(update_fields=["status", "review_reason", "signal_hash"])
        return "review"
    referral.save(update_fields=["signal_hash"])
    _pay(referral, rule, SYSTEM, now)
    return "paid"


def _risk_holds(referral: Referral, now: datetime) -> bool:
    """Whether risk control wants a person to look before this reward is paid (invite cycles, rings
    of accounts on one device). A background settlement has nobody to challenge: anything but allow
    holds the referral for review in the loyalty console."""
    refs = member_risk_refs([referral.invitee_id, referral.inviter_id])
    verdict = risk_assess(
        RiskInput(
            entry=Entry.REFERRAL_REWARD, subject_type="referral", subject_ref=str(referral.pk),
            member_ref=refs.get(referral.invitee_id, ""), invited_by=refs.get(referral.inviter_id, ""), at=now,
        )
    )  # fmt: skip
    return verdict.action != Action.ALLOW


def referrals_settle_due(now: datetime | None = None) -> dict[str, int]:
    """Settle referrals whose first order's return window closed. Idempotent; several workers skip
    each other's rows (skip_locked)."""
    now = now or timezone.now()
    rule = referral_rule()
    cutoff = now - timedelta(days=rule.return_window_days)
    counts: dict[str, int] = {}
    ids = list(
        Referral.objects.filter(status=ReferralStatus.ORDERED, order_paid_at__lte=cutoff)
        .order_by("order_paid_at", "id")
        .values_list("id", flat=True)[:500]
    )
    for referral_id in ids:
        with transaction.atomic():
            referral = (
                Referral.objects.select_for_update(skip_locked=True)
                .filter(pk=referral_id, status=ReferralStatus.ORDERED)
                .first()
            )
            if referral is None:
                continue
            outcome = _settle_one(referral, rule, now)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def referral_decide(*, referral_id: int, approve: bool, actor: Actor, reason: str = "") -> Referral:
    """An operator's decision on a referral held for review: approve pays, reject pays nothing.

    Raises: core.permission_denied, loyalty.referral_not_found, loyalty.referral_not_in_review."""
    actor.require(Perm.LOYALTY_CONFIGURE)
    now = timezone.now()
    with transaction.atomic():
        referral = Referral.objects.select_for_update().filter(pk=referral_id).first()
        if referral is None:
            raise DomainError(LoyaltyError.REFERRAL_NOT_FOUND)
        if referral.status != ReferralStatus.REVIEW:
            raise DomainError(LoyaltyError.REFERRAL_NOT_IN_REVIEW)
        if approve:
            rule = referral_rule()
            Member.objects.select_for_update().filter(pk=referral.inviter_id).values_list(
                "pk", flat=True
            ).first()
            paid_this_month = Referral.objects.filter(
                inviter_id=referral.inviter_id, status=ReferralStatus.PAID, settled_at__gte=_month_start(now)
            ).count()
            if paid_this_month >= rule.monthly_cap:  # approval never pays past the cap
                referral.status, referral.settled_at = ReferralStatus.CAPPED, now
                referral.save(update_fields=["status", "settled_at"])
            else:
                _pay(referral, rule, actor, now)
        else:
            referral.status, referral.settled_at = ReferralStatus.REJECTED, now
        referral.decided_by = actor.label[:150]
        referral.save(update_fields=["status", "settled_at", "decided_by"])
        case_close_for(subject_type="referral", subject_ref=str(referral.pk), approve=approve, actor=actor)
        audit_record(
            actor=actor,
            action="loyalty.referral_approve" if approve else "loyalty.referral_reject",
            object_type="referral",
            object_id=referral.pk,
            before={"status": ReferralStatus.REVIEW},
            after={"status": referral.status},
            reason=reason[:500],
        )
    return referral


@dataclass(frozen=True)
class InviteSummary:
    code: str
    invitees: int
    paid: int
    points_earned: int
    referrals: list[Referral]


def invite_summary(member: Member, *, limit: int = 50) -> InviteSummary:
    referrals = Referral.objects.filter(inviter=member).select_related("invitee").order_by("-id")
    paid = referrals.filter(status=ReferralStatus.PAID)
    return InviteSummary(
        code=member.invite_code,
        invitees=Member.objects.filter(invited_by=member).count(),
        paid=paid.count(),
        points_earned=sum(paid.values_list("inviter_points", flat=True)),
        referrals=list(referrals[:limit]),
    )


def referral_risk_outcome(decision, approve: bool, actor: Actor) -> str:
    """A risk case about a held referral reward: decide the referral the same way (it needs the
    loyalty configuration permission, as in the loyalty console)."""
    referral = Referral.objects.filter(pk=int(decision.subject_ref)).only("status").first()
    if referral is None or referral.status != ReferralStatus.REVIEW:
        return "referral not waiting for review"
    decided = referral_decide(referral_id=referral.pk, approve=approve, actor=actor, reason="risk review")
    return f"referral {decided.status}"
