"""Risk control's automated decisions about a member, for the member's export, the transparency
centre and erasure (PIPL arts. 24, 45, 47). Risk keeps keyed hashes only; an erasure re-keys the
member's rows to a marker so the erased phone's blind index is found nowhere any more."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yunying.members.models import Member
from yunying.members.services import member_risk_ref
from yunying.risk.models import Case, Challenge, Complaint, Decision, Hit, Invite, Node
from yunying.risk.rules import reason_label


def _ref(member_id: int) -> str | None:
    member = Member.objects.filter(pk=member_id).only("phone_index", "external_id").first()
    return member_risk_ref(member) if member is not None else None


def member_decisions(member_id: int, *, member_ref: str | None = None) -> QuerySet[Decision]:
    """The live decisions about the member, newest first (shadow runs were never acted on)."""
    ref = member_ref if member_ref is not None else _ref(member_id)
    return (
        Decision.objects.filter(member_ref=ref or "-", shadow=False)
        .select_related("case")
        .order_by("-at", "-id")
    )


def decision_reasons(decision: Decision) -> list[str]:
    return [_(reason_label(r)) for r in decision.reasons or [] if isinstance(r, dict)]


def decisions_export(member_id: int) -> list[dict]:
    out = []
    for d in member_decisions(member_id):
        case = getattr(d, "case", None) if hasattr(d, "case") else None
        out.append({
            "at": d.at.isoformat(), "entry": d.entry, "action": d.action, "reasons": decision_reasons(d),
            "review": case.status if case is not None else None,
        })  # fmt: skip
    return out


def decisions_erase(member_id: int) -> dict[str, int]:
    """Re-key the member's decisions, counters, graph node and invite edges to a marker that names
    no phone: the decisions' counts stay, the erased phone registers as someone new."""
    ref = _ref(member_id)
    if not ref or ref.startswith("x:"):
        return {}
    marker = f"erased:{member_id}"
    decisions = Decision.objects.filter(member_ref=ref).update(member_ref=marker)
    Case.objects.filter(decision__member_ref=marker).exclude(member_note="").update(member_note="")
    hits = Hit.objects.filter(member_ref=ref).update(member_ref=marker)
    Challenge.objects.filter(member_ref=ref).update(member_ref=marker)
    Complaint.objects.filter(member_ref=ref).update(member_ref=marker, note="")
    nodes = Node.objects.filter(key=f"m:{ref}").update(key=f"m:{marker}")
    Invite.objects.filter(invitee=ref).update(invitee=marker)
    Invite.objects.filter(inviter=ref).update(inviter=marker)
    return {"risk_decisions": decisions, "risk_hits": hits, "risk_nodes": nodes}


def holdings_register() -> None:
    """Declare what risk holds (RiskConfig.ready)."""
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="risk.decisions", label=_("Automated security checks on your sign-ins, sign-ups and orders"),
        purpose=_("To stop fraud and abuse (fake accounts, bots, coupon abuse)"),
        retention=_("Kept only as keyed codes, never your phone or address; unlinked from you when you delete your account"),
        export=decisions_export, erase=decisions_erase,
    ))  # fmt: skip
