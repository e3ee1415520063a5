"""我的数据: the member's data centre (数据使用透明度中心, S3/S4; PIPL arts. 24, 44-47). Who read their
data in clear and why, what is held and who else gets it, the automated decisions about them, and
their rights: a copy of their data (JSON and a readable page) and deleting their account.

Thin: read through privacy.rights_selectors, act through privacy.rights, render."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunying.core.errors import DomainError
from yunying.h5.export_view import export_view
from yunying.h5.session import member_logout, member_of, member_required
from yunying.members.consent import consent_state
from yunying.members.models import ConsentPurpose
from yunying.privacy import rights, rights_selectors
from yunying.privacy.models import RequestStatus


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"member": member_of(request), **context}, status=status)


@member_required(consent=False)
@require_GET
def data_centre(request: HttpRequest) -> HttpResponse:
    member = request.member
    access_page, accesses = rights_selectors.access_page(member.pk, request.GET.get("page"))
    decisions_page, decisions = rights_selectors.decisions_page(member, request.GET.get("dpage"))
    refusals_page, refusals = rights_selectors.refusals_page(member.pk, request.GET.get("rpage"))
    state = consent_state(member)
    return _page(
        request,
        "h5/mydata.html",
        {
            "accesses": accesses, "access_page": access_page,
            "holdings": rights_selectors.holdings_view(), "sharing": rights_selectors.sharing_view(),
            "decisions": decisions, "decisions_page": decisions_page,
            "refusals": refusals, "refusals_page": refusals_page,
            "consents": [{"label": ConsentPurpose(p).label, "granted": state[str(p)]} for p in ConsentPurpose],
            "requests": rights_selectors.member_requests(member.pk),
        },
    )  # fmt: skip


@member_required(consent=False)
@require_POST
def data_export(request: HttpRequest) -> HttpResponse:
    """A copy of the member's data: `format=json` downloads it, anything else shows it as a page."""
    try:
        _request, data = rights.data_export_self(member=request.member, actor=request.actor)
    except DomainError as err:
        message = err.message
        if err.code == "core.rate_limited":  # a day's limit, not a rush: say so
            message = _(
                "You can get a copy of your data %(n)s times a day (each view or download counts): "
                "try again tomorrow."
            ) % {"n": settings.RATE_LIMITS["privacy_export_member_day"]}
        return _page(
            request, "h5/mydata_export.html", {"error": {"code": err.code, "message": message}},
            _refusal_status(err.code),
        )  # fmt: skip
    if request.POST.get("format") == "json":
        response = HttpResponse(
            rights.data_export_dumps(data), content_type="application/json; charset=utf-8"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
        response["Cache-Control"] = "no-store"
        return response
    context = {"view": export_view(data), "exported_at": timezone.now()}
    response = _page(request, "h5/mydata_export.html", context)
    response["Cache-Control"] = "no-store"
    return response


@member_required(consent=False)
@require_http_methods(["GET", "POST"])
def data_delete(request: HttpRequest) -> HttpResponse:
    """Delete the account and data, after an explicit confirmation (what goes and what stays as
    anonymous facts is stated on the page). Done at once unless something must be settled first."""
    error, status = None, 200
    if request.method == "POST":
        try:
            done = rights.erasure_request_self(
                member=request.member, confirmed=request.POST.get("confirm") == "yes"
            )
        except DomainError as err:
            error = {"code": err.code, "message": err.message}
            status = _refusal_status(err.code)
        else:
            if done.status == RequestStatus.DONE:
                member_logout(request)
                return _page(request, "h5/mydata_deleted.html", {})
            return _page(
                request,
                "h5/mydata_delete.html",
                {"waiting": done, "holdings": rights_selectors.holdings_view()},
            )
    return _page(
        request, "h5/mydata_delete.html", {"error": error, "holdings": rights_selectors.holdings_view()},
        status=status,
    )  # fmt: skip


def _refusal_status(code: str) -> int:
    """A refused page answers with the status the API would give the same refusal."""
    return {"core.rate_limited": 429, "privacy.member_erased": 409}.get(code, 400)
