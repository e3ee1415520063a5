"""Two-person rule for exports in clear (S2), in the audit section: the operator's own requests (with
the download once approved), for those holding pii.export_approve the queue to approve or reject
other operators' requests, and for pii.export_view (strategy, the auditor) the register of every
request, read-only. Requests start from the campaign report's "export in clear" form.

The page needs pii.export_view; every role that may ask for an export in clear (pii.reveal_bulk) holds
it (tests/console/test_export_approval_pages.py), so no requester loses the page to its own requests."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from yunying.console.access import operator_required
from yunying.core.errors import DomainError
from yunying.core.permissions import Perm
from yunying.privacy.exports import approval_decide, approvals_of, approvals_pending, approvals_recent
from yunying.privacy.models import ExportApproval


class DecisionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note (optional)"), required=False, max_length=500)


REGISTER_ROWS = 100


@operator_required(Perm.PII_EXPORT_VIEW)
@require_GET
def export_approvals(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    can_approve = actor.can(Perm.PII_EXPORT_APPROVE)
    pending = list(approvals_pending())
    own = {a.pk for a in approvals_of(actor).filter(state=ExportApproval.REQUESTED)}
    for approval in pending:
        approval.own = approval.pk in own  # made in the console or with one of the operator's keys
    can_request = actor.can(Perm.PII_REVEAL_BULK)
    context = {
        "section": "audit",
        "tab": "exports",
        "mine": list(approvals_of(actor)[:50]) if can_request else [],
        "can_request": can_request,
        "pending": pending,  # shown to all who open the page; the buttons only with pii.export_approve
        "can_approve": can_approve,
        "register": list(approvals_recent()[:REGISTER_ROWS]),
        "register_rows": REGISTER_ROWS,
    }
    return render(request, "console/audit/export_approvals.html", context)


@operator_required(Perm.PII_EXPORT_APPROVE)
@require_POST
def export_decide(request: HttpRequest, approval_id: int, decision: str) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():  # a note too long: refused, not dropped with the decision taken anyway
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("console:export_approvals")
    note = form.cleaned_data["note"]
    try:
        approval_decide(
            actor=request.actor, approval_id=approval_id, approve=decision == "approve", note=note
        )
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("Approved.") if decision == "approve" else _("Rejected."))
    return redirect("console:export_approvals")


urlpatterns = [
    path("audit/exports/", export_approvals, name="export_approvals"),
    path(
        "audit/exports/<int:approval_id>/approve/",
        export_decide,
        {"decision": "approve"},
        name="export_approve",
    ),
    path(
        "audit/exports/<int:approval_id>/reject/", export_decide, {"decision": "reject"}, name="export_reject"
    ),
]
