"""Reads for the member's data centre (数据使用透明度中心) and the operators' request queue. Every list
that can grow is paged; each page costs a fixed number of queries whatever its length."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yunying.campaigns.personal_data import member_refusals, refusal_view
from yunying.core.models import ApiKey, PersonalDataAccess
from yunying.core.purposes import fields_text, purpose_text
from yunying.core.registry import personal_data_holdings
from yunying.members.services import member_risk_ref
from yunying.privacy.models import DataSubjectRequest, RequestStatus
from yunying.risk.models import CaseStatus
from yunying.risk.personal_data import decision_reasons, member_decisions

PAGE = 20
ENTRY_WORDS = {  # the same words as the risk console's, for the member
    "signup.create": gettext_lazy("Campaign sign-up"),
    "coupon.claim": gettext_lazy("Coupon claim"),
    "referral.reward": gettext_lazy("Referral reward"),
    "order.ingest": gettext_lazy("Order"),
    "member.register": gettext_lazy("Registration"),
    "sms.send": gettext_lazy("SMS verification code"),
}
ACTION_WORDS = {
    "challenge": gettext_lazy("Ask for extra verification"),
    "review": gettext_lazy("Hold for human review"),
    "block": gettext_lazy("Refuse"),
}
ROLE_WORDS = {
    "strategy": lambda: _("A manager of our operations team"),
    "execution": lambda: _("An operations specialist"),
    "support": lambda: _("Our customer service"),
    "auditor": lambda: _("An auditor"),
    "integration": lambda: _("Our online shop's system"),
}


def _role_word(role: str) -> str:
    word = ROLE_WORDS.get(role or "")
    return word() if word else _("Our staff")


def _roles(rows: list[PersonalDataAccess]) -> dict[tuple[str, int | None], str]:
    """Who read, as a role (never the operator's name): the row's own role when it records one, else
    the operator's group or the key's role now. One query per kind of reader on the page."""
    roles: dict[tuple[str, int | None], str] = {}
    users = {r.actor_id for r in rows if r.actor_kind == "user" and not getattr(r, "actor_role", "")}
    if users:
        ordered = ("strategy", "execution", "support", "auditor")  # console.access.role_of's order
        for user in get_user_model().objects.filter(pk__in=users).prefetch_related("groups"):
            names = {g.name for g in user.groups.all()}
            first = next((n for n in ordered if n in names), "")
            roles[("user", user.pk)] = "strategy" if user.is_superuser else first
    keys = {r.actor_id for r in rows if r.actor_kind == "api_key" and not getattr(r, "actor_role", "")}
    if keys:
        roles.update(
            {
                ("api_key", pk): role
                for pk, role in ApiKey.objects.filter(pk__in=keys).values_list("pk", "role")
            }
        )
    return roles


def _who(row: PersonalDataAccess, roles: dict) -> str:
    if row.actor_kind == "member":
        return _("You")
    if row.actor_kind == "system":
        return _("Our system")
    return _role_word(getattr(row, "actor_role", "") or roles.get((row.actor_kind, row.actor_id), ""))


def _access_view(rows: list[PersonalDataAccess]) -> list[dict[str, Any]]:
    roles = _roles(rows)
    return [
        {
            "at": r.at,
            "by": _who(r, roles),
            "fields": fields_text(r.fields),
            "purpose": purpose_text(r.purpose),
        }
        for r in rows
    ]


def access_rows(member_id: int, *, limit: int | None = PAGE) -> list[dict[str, Any]]:
    query = PersonalDataAccess.objects.filter(member_id=member_id).order_by("-id")
    return _access_view(list(query if limit is None else query[:limit]))


def access_page(member_id: int, number: Any) -> tuple[Page, list[dict[str, Any]]]:
    page = Paginator(PersonalDataAccess.objects.filter(member_id=member_id).order_by("-id"), PAGE).get_page(
        number
    )
    return page, _access_view(list(page.object_list))


def holdings_view() -> list[dict[str, Any]]:
    """The collection list (收集清单) and sharing list (共享清单), from what the apps declared."""
    return [
        {
            "key": h.key,
            "label": h.label,
            "purpose": h.purpose,
            "retention": h.retention,
            "shared_with": h.shared_with,
        }
        for h in personal_data_holdings()
    ]


def sharing_view() -> list[dict[str, Any]]:
    """Each third party and what goes to it."""
    parties: dict[str, list[str]] = {}
    for h in personal_data_holdings():
        for party in h.shared_with:
            parties.setdefault(str(party), []).append(str(h.label))
    return [{"party": party, "what": what} for party, what in parties.items()]


def decisions_page(member, number: Any) -> tuple[Page, list[dict[str, Any]]]:
    # Decisions that let the member through changed nothing for them: those that held, challenged or
    # refused them are the ones with an effect (PIPL art. 24).
    acted = member_decisions(member.pk, member_ref=member_risk_ref(member)).exclude(action="allow")
    page = Paginator(acted, PAGE).get_page(number)
    rows = []
    for d in page.object_list:
        case = getattr(d, "case", None) if _has_case(d) else None
        rows.append({"id": d.pk, "at": d.at, "entry": ENTRY_WORDS.get(d.entry, d.entry),
                     "action": ACTION_WORDS.get(d.action, d.action), "reasons": decision_reasons(d),
                     "review": case.get_status_display() if case else "", "asked": bool(case and case.asked_by_member),
                     # risk.case_ask refuses a review already open (the engine's own) or already asked for:
                     # the member is offered the button only when asking would be taken.
                     "in_review": bool(case and case.status == CaseStatus.OPEN),
                     "can_ask": not (case and (case.asked_by_member or case.status == CaseStatus.OPEN))})  # fmt: skip
    return page, rows


def _has_case(decision) -> bool:
    try:
        return decision.case is not None
    except decision.__class__.case.RelatedObjectDoesNotExist:
        return False


def refusals_page(member_id: int, number: Any) -> tuple[Page, list[dict[str, Any]]]:
    page = Paginator(member_refusals(member_id), PAGE).get_page(number)
    return page, refusal_view(list(page.object_list))


def member_requests(member_id: int) -> list[DataSubjectRequest]:
    return list(DataSubjectRequest.objects.filter(member_id=member_id).order_by("-id")[:PAGE])


def request_queue(*, status: str = RequestStatus.OPEN) -> QuerySet[DataSubjectRequest]:
    """The operators' queue: the nearest deadline first (closed ones: the latest handled first)."""
    query = DataSubjectRequest.objects.filter(status=status)
    return (
        query.order_by("due_at", "id")
        if status == RequestStatus.OPEN
        else query.order_by("-handled_at", "-id")
    )


def request_get(request_id: int) -> DataSubjectRequest | None:
    return DataSubjectRequest.objects.filter(pk=request_id).first()
