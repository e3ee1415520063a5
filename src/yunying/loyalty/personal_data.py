"""The loyalty data loyalty holds about a member (points, tier, check-ins and tasks, referrals,
brokerage), for the member's export and erasure (PIPL arts. 45, 47). Ledgers stay as anonymous
facts after an erasure: the points liability and the commissions owed must stay right."""

from __future__ import annotations

from django.db.models import Q

from yunying.loyalty.models import (
    Checkin,
    CommissionEntry,
    MemberTier,
    PointAccount,
    PointPosting,
    Promoter,
    PromoterBinding,
    Referral,
    Statement,
    TaskCompletion,
    TierChange,
)


def points_export(member_id: int) -> dict:
    account = PointAccount.objects.filter(member_id=member_id).first()
    if account is None:
        return {"balance": 0, "postings": []}
    postings = PointPosting.objects.filter(account=account).order_by("id")
    return {
        "balance": account.balance,
        "pending": account.pending,
        "debt": account.debt,
        "postings": [
            {"kind": p.kind, "source": p.source, "points": p.points, "memo": p.memo,
             "at": p.created_at.isoformat()}
            for p in postings
        ],
        "checkins": [c.isoformat() for c in Checkin.objects.filter(member_id=member_id).values_list("day", flat=True)],
        "tasks": list(TaskCompletion.objects.filter(member_id=member_id).values_list("task_id", flat=True)),
    }  # fmt: skip


def points_erase(member_id: int) -> dict[str, int]:
    """The ledger rows stay (the liability is their sum); the free text on them goes."""
    changed = (
        PointPosting.objects.filter(account__member_id=member_id)
        .exclude(memo="", reason="")
        .update(memo="", reason="")
    )
    return {"point_postings": changed}


def tier_export(member_id: int) -> dict:
    tier = MemberTier.objects.filter(member_id=member_id).select_related("level").first()
    return {
        "level": tier.level.name if tier else None,
        "changes": [
            {"why": c.why, "value": c.value, "at": c.at.isoformat()}
            for c in TierChange.objects.filter(member_id=member_id).order_by("id")
        ],
    }


def referrals_export(member_id: int) -> dict:
    return {
        "invited": list(
            Referral.objects.filter(inviter_id=member_id).values_list(
                "invitee_id", "status", "inviter_points"
            )
        ),
        "invited_by": list(Referral.objects.filter(invitee_id=member_id).values_list("inviter_id", "status")),
    }


def referrals_erase(member_id: int) -> dict[str, int]:
    changed = Referral.objects.filter(invitee_id=member_id).exclude(signal_hash="").update(signal_hash="")
    return {"referrals": changed}


def brokerage_export(member_id: int) -> dict:
    promoter = Promoter.objects.filter(member_id=member_id).first()
    bound = list(PromoterBinding.objects.filter(member_id=member_id).values_list("promoter__code", flat=True))
    if promoter is None:
        return {"promoter": None, "bound_to": bound}
    return {
        "promoter": {"code": promoter.code, "state": promoter.state, "balance_fen": promoter.balance_fen},
        "entries": [
            {"kind": e.kind, "amount_fen": e.amount_fen, "at": e.created_at.isoformat()}
            for e in CommissionEntry.objects.filter(promoter=promoter).order_by("id")
        ],
        "statements": [
            {"month": s.month.isoformat(), "total_fen": s.total_fen, "state": s.state,
             "paid_reference": s.paid_reference}
            for s in Statement.objects.filter(promoter=promoter).order_by("id")
        ],
        "bound_to": bound,
    }  # fmt: skip


def brokerage_erase(member_id: int) -> dict[str, int]:
    """Commission entries and paid statements stay (amounts); the promoter's note and the payout
    references (which may name a bank account) go."""
    changed = Promoter.objects.filter(member_id=member_id).update(note="", partner_name="")
    paid = (
        Statement.objects.filter(promoter__member_id=member_id)
        .exclude(paid_reference="")
        .update(paid_reference="")
    )
    return {"promoters": changed, "statements": paid}


def brokerage_erase_blockers(member_id: int) -> list[str]:
    """Why an erasure must wait: commission still owed to the member (a balance or an unpaid
    statement) has to be paid out, and paying needs to know who they are."""
    owed = Promoter.objects.filter(member_id=member_id).filter(
        Q(balance_fen__gt=0) | Q(statements__state="open")
    )
    return ["loyalty.brokerage_unpaid"] if owed.exists() else []


def holdings_register() -> None:
    """Declare what loyalty holds (LoyaltyConfig.ready)."""
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="loyalty.points", label=_("Your points, check-ins and tasks"),
        purpose=_("To give you the points you earn and let you spend them"),
        retention=_("As long as you are a member; the points ledger stays as anonymous facts after you delete your account"),
        export=points_export, erase=points_erase,
    ))  # fmt: skip
    personal_data_register(PersonalDataHolding(
        key="loyalty.tier", label=_("Your member level and its changes"),
        purpose=_("The benefits of your level"),
        retention=_("As long as you are a member; kept as anonymous facts after you delete your account"),
        export=tier_export, erase=None,
    ))  # fmt: skip
    personal_data_register(PersonalDataHolding(
        key="loyalty.referrals", label=_("Friends you invited, and who invited you"),
        purpose=_("Invitation rewards"),
        retention=_("As long as you are a member; kept as anonymous facts after you delete your account"),
        export=referrals_export, erase=referrals_erase,
    ))  # fmt: skip
    personal_data_register(PersonalDataHolding(
        key="loyalty.brokerage", label=_("Your promoter account: commissions and payouts"),
        purpose=_("To pay you the commission you earn as a promoter"),
        retention=_("Amounts are kept as accounting records; payout references are erased when you delete your account, once everything owed is paid"),
        export=brokerage_export, erase=brokerage_erase,
    ))  # fmt: skip
