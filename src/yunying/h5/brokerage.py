"""分销 in the member pages: a promoter's link (/m/p/<code>/: shows who recommends, and binds the
visitor once signed in), and "my earnings" for a member who is a promoter (code, link, members
brought, held / available / paid commission, statements), or the application to become one.

Thin: loyalty.brokerage decides every refusal (self-binding, loops, another promoter first)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.h5.session import member_of, member_required
from yunying.loyalty import brokerage
from yunying.loyalty.models import Promoter, PromoterState
from yunying.members.services import member_contact


def _actor(member) -> Actor:
    return Actor(kind="member", id=member.pk, label=f"member {member.pk}")


def promoter_url(request: HttpRequest, promoter: Promoter) -> str:
    relative = reverse("h5:promoter_link", kwargs={"code": promoter.code})
    if settings.BROKERAGE_LINK_BASE:
        return settings.BROKERAGE_LINK_BASE.rstrip("/") + relative
    return request.build_absolute_uri(relative)


def _display(promoter: Promoter) -> str:
    if promoter.member_id is None:
        return promoter.partner_name
    return member_contact(promoter.member, reveal=False)["name"] or _("A member")


@require_http_methods(["GET", "POST"])
def promoter_link(request: HttpRequest, code: str) -> HttpResponse:
    """Someone's promoter link: who recommends. A signed-in member accepts the recommendation with a
    button (a POST, CSRF-checked): merely opening the link binds nobody, so another site sending a
    signed-in member here cannot attach them to a promoter (attacker review). A refusal is said on the
    page, never an error; a visitor not signed in signs in and comes back here."""
    try:
        promoter = brokerage.promoter_get(code[:16])
    except DomainError:
        return redirect("h5:index")
    member = member_of(request)
    context = {
        "member": member,
        "promoter_name": _display(promoter),
        "active": promoter.state == PromoterState.ACTIVE,
        "signin_url": f"{reverse('h5:signin')}?{urlencode({'next': request.path})}",
    }
    if member is not None and request.method == "POST":
        try:
            bound = brokerage.member_bind(
                member_id=member.pk, code=promoter.code, source="link", actor=_actor(member)
            )
        except DomainError as refused:
            context["refusal"] = refused.message
        else:
            context["bound"] = bound
    return render(request, "h5/promoter_link.html", context)


@member_required(consent=False)
@require_GET
def earnings(request: HttpRequest) -> HttpResponse:
    member = request.member
    promoter = brokerage.promoter_of_member(member.pk)
    context = {"member": member, "promoter": promoter, "states": PromoterState}
    if promoter is None:
        context["applications_open"] = brokerage.config_get().applications_open
    else:
        context["summary"] = brokerage.promoter_summary(promoter)
        context["link"] = promoter_url(request, promoter)
        context["statements"] = brokerage.statement_list(promoter=promoter, limit=24)
    return render(request, "h5/earnings.html", context)


@member_required(consent=False)
@require_POST
def earnings_apply(request: HttpRequest) -> HttpResponse:
    try:
        brokerage.promoter_apply(member_id=request.member.pk, actor=_actor(request.member))
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Application sent: we will let you know."))
    return redirect("h5:earnings")
