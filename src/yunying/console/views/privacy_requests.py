"""隐私请求: members' requests about their data (PIPL arts. 44-47) for the operators who answer them —
the queue by deadline (working days left, overdue highlighted), a request recorded on a member's
behalf (received by phone or e-mail), carried out or rejected with a reason. Thin: privacy.rights
does the work and the audit."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from yunying.console.access import operator_required
from yunying.core.errors import DomainError
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.privacy import rights
from yunying.privacy.models import RequestChannel, RequestKind, RequestStatus
from yunying.privacy.rights_errors import WAITING_ON
from yunying.privacy.rights_selectors import request_queue
from yunying.privacy.workdays import working_days_left

SHOWN = 200
TABS = [(RequestStatus.OPEN, RequestStatus.OPEN.label), (RequestStatus.DONE, RequestStatus.DONE.label),
        (RequestStatus.REJECTED, gettext_lazy("Rejected requests"))]  # fmt: skip


@operator_required(Perm.PRIVACY_REQUESTS)
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", RequestStatus.OPEN)
    status = status if status in RequestStatus.values else RequestStatus.OPEN
    now = timezone.now()
    rows = []
    for r in request_queue(status=status)[:SHOWN]:
        left = working_days_left(r.due_at, now=now) if r.status == RequestStatus.OPEN else None
        waiting = [str(WAITING_ON.get(code, code)) for code in r.waiting_on or []]
        rows.append(
            {
                "r": r,
                "left": left,
                "overdue": -left if left is not None and left < 0 else 0,
                "waiting": waiting,
            }
        )
    return render(
        request,
        "console/privacy/requests.html",
        {
            "section": "privacy_requests", "rows": rows, "status": status, "tabs": TABS,
            "kinds": RequestKind.choices,
            "channels": [c for c in RequestChannel.choices if c[0] != RequestChannel.SELF_SERVICE],
        },
    )  # fmt: skip


@operator_required(Perm.PRIVACY_REQUESTS)
@require_POST
def request_new(request: HttpRequest) -> HttpResponse:
    member_id = request.POST.get("member_id", "").strip()
    kind, channel = request.POST.get("kind", ""), request.POST.get("channel", "")
    if (
        not ascii_digits(member_id)
        or len(member_id) > 18
        or kind not in RequestKind.values
        or channel not in RequestChannel.values
        or channel == RequestChannel.SELF_SERVICE
    ):
        messages.error(request, _("Give the member's number, what they asked for and how it was received."))
        return redirect("console:privacy_requests")
    try:
        made = rights.request_create(
            actor=request.actor, member_id=int(member_id), kind=kind, channel=channel,
            details=request.POST.get("details", ""),
        )  # fmt: skip
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("Request recorded: due by %(due)s.")
            % {"due": timezone.localtime(made.due_at).strftime("%Y-%m-%d")},
        )
    return redirect("console:privacy_requests")


@operator_required(Perm.PRIVACY_REQUESTS)
@require_POST
def request_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    note = request.POST.get("note", "")
    try:
        if request.POST.get("decision") == "reject":
            rights.request_reject(actor=request.actor, request_id=request_id, reason=note)
            messages.success(request, _("Request rejected."))
        else:
            rights.request_carry_out(
                actor=request.actor, request_id=request_id, notes=note,
                identity_confirmed=request.POST.get("identity_confirmed") == "on",
            )  # fmt: skip
            messages.success(request, _("Request carried out."))
    except DomainError as refused:
        waiting = [str(WAITING_ON.get(code, code)) for code in refused.data.get("waiting_on", [])]
        messages.error(request, " ".join([refused.message, *waiting]))
    return redirect("console:privacy_requests")


@operator_required(Perm.PRIVACY_REQUESTS)
@require_POST
def request_export(request: HttpRequest, request_id: int) -> HttpResponse:
    """The member's data as a JSON file, to send them in answer to their request (a POST: it reads
    their data in clear, logged)."""
    try:
        data = rights.request_export(
            actor=request.actor, request_id=request_id, notes=request.POST.get("note", ""),
            identity_confirmed=request.POST.get("identity_confirmed") == "on",
        )  # fmt: skip
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("console:privacy_requests")
    response = HttpResponse(rights.data_export_dumps(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="member-{data["member_id"]}-data.json"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("privacy/requests/", request_list, name="privacy_requests"),
    path("privacy/requests/new/", request_new, name="privacy_request_new"),
    path("privacy/requests/<int:request_id>/decide/", request_decide, name="privacy_request_decide"),
    path("privacy/requests/<int:request_id>/export/", request_export, name="privacy_request_export"),
]
