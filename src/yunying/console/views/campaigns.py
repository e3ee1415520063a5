"""Campaigns in the console: the list (filters, saved filters, bulk actions), a campaign's page with
its lifecycle buttons and the member-page preview (issue 9); the editor is in campaign_editor.py.

Every change goes through campaigns.services.lifecycle — the functions api/campaigns.py calls — with
the operator as the actor (the service writes the audit row); a DomainError comes back as field
errors or a message, never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from yunying.campaigns import selectors
from yunying.campaigns.models import Campaign, CampaignStatus
from yunying.campaigns.services import lifecycle
from yunying.console import campaign_forms as cf
from yunying.console.access import forbidden, operator_required
from yunying.console.saved_filters import saved_filter_delete, saved_filter_list, saved_filter_save
from yunying.console.views import campaign_editor
from yunying.console.views.campaign_common import (
    BULK_MAX,
    FILTER_KEYS,
    MAX_ID,
    PAGE_SIZE,
    action_forms,
    campaign_actions,
    campaign_or_404,
    campaign_row,
    campaign_summary,
    message_error,
    page_context,
    safe_next,
    sees_drafts,
)
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm

# ---- the list -----------------------------------------------------------------------------------


def _filter_query(form: cf.CampaignFilterForm) -> str:
    """The cleaned filter as a query string (what a saved filter stores)."""
    query = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        value = form.cleaned_data.get(key)
        if value:
            query[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return query.urlencode()


@require_GET
@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_list(request: HttpRequest) -> HttpResponse:
    filters = cf.CampaignFilterForm(request.GET or None)
    selected = filters.selector_filters() if filters.is_bound and filters.is_valid() else {}
    campaigns = selectors.campaign_list(**selected, drafts=sees_drafts(request.actor))
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    current = _filter_query(filters) if selected else ""
    return render(
        request,
        "console/campaigns/list.html",
        page_context(
            request,
            filters=filters,
            page=page,
            rows=[campaign_row(c) for c in page.object_list],
            query=query.urlencode(),
            current_query=current,
            saved_filters=list(saved_filter_list(user=request.user, section="campaigns")),
            save_form=cf.SavedFilterForm(initial={"query": current}),
            bulk_form=cf.BulkForm(
                allowed={name for name, (perm, _run) in BULK_ACTIONS.items() if request.actor.can(perm)}
            ),
        ),
    )


@require_POST
@operator_required(Perm.CAMPAIGN_VIEW)
def saved_filter_create(request: HttpRequest) -> HttpResponse:
    form = cf.SavedFilterForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("console:campaign_list")
    # Only what the list understands is kept: the query is parsed again, never stored as sent.
    filters = cf.CampaignFilterForm(QueryDict(form.cleaned_data["query"]))
    if not filters.is_valid():
        messages.error(request, _("This filter is not valid; it was not saved."))
        return redirect("console:campaign_list")
    query = _filter_query(filters)
    try:
        saved = saved_filter_save(
            user=request.user, actor=request.actor, section="campaigns",
            name=form.cleaned_data["name"], query=query,
        )  # fmt: skip
    except DomainError as err:
        message_error(request, err)
        return redirect(f"{reverse('console:campaign_list')}?{query}")
    messages.success(request, _("Filter “%(name)s” saved.") % {"name": saved.name})
    return redirect(f"{reverse('console:campaign_list')}?{query}")


@require_POST
@operator_required(Perm.CAMPAIGN_VIEW)
def saved_filter_remove(request: HttpRequest, filter_id: int) -> HttpResponse:
    if not 1 <= filter_id <= MAX_ID:
        raise Http404
    try:
        saved_filter_delete(user=request.user, actor=request.actor, filter_id=filter_id)
    except DomainError as missing:
        raise Http404 from missing
    messages.success(request, _("Saved filter deleted."))
    return redirect("console:campaign_list")


BULK_ACTIONS = {
    # action: (permission, service call)
    "close": (Perm.CAMPAIGN_PUBLISH, lambda pk, actor, reason: lifecycle.campaign_close(campaign_id=pk, actor=actor, reason=reason)),
    "cancel": (Perm.CAMPAIGN_PUBLISH, lambda pk, actor, reason: lifecycle.campaign_cancel(campaign_id=pk, actor=actor, reason=reason)),
    "publish": (Perm.CAMPAIGN_PUBLISH, lambda pk, actor, reason: lifecycle.campaign_publish(campaign_id=pk, actor=actor)),
    "copy": (Perm.CAMPAIGN_EDIT, lambda pk, actor, reason: lifecycle.campaign_copy(campaign_id=pk, actor=actor)),
    "delete": (Perm.CAMPAIGN_EDIT, lambda pk, actor, reason: lifecycle.campaign_delete(campaign_id=pk, actor=actor)),
}  # fmt: skip


def _ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        value = value.strip()
        if ascii_digits(value) and len(value) < 20 and 1 <= int(value) <= MAX_ID and int(value) not in ids:
            ids.append(int(value))
    return ids


@require_POST
@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_bulk(request: HttpRequest) -> HttpResponse:
    """Each ticked campaign through the same service as its own button, one by one: a refusal is
    reported for its row and the others still go through."""
    back = safe_next(request, reverse("console:campaign_list"))
    form = cf.BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an action for the ticked campaigns."))
        return redirect(back)
    action = form.cleaned_data["action"]
    perm, run = BULK_ACTIONS[action]
    if not request.actor.can(perm):
        return forbidden(request, permission=str(perm))
    ids = _ids(request.POST.getlist("ids"))
    if not ids:
        messages.warning(request, _("Tick at least one campaign."))
        return redirect(back)
    if len(ids) > BULK_MAX:
        messages.error(request, _("At most %(n)s campaigns at once.") % {"n": BULK_MAX})
        return redirect(back)
    done = 0
    for pk in ids:
        label = f"#{pk}"
        try:
            label = f"#{pk} {selectors.campaign_get(pk).title}"
            run(pk, request.actor, form.cleaned_data["reason"])
        except DomainError as err:
            messages.error(
                request, _("%(campaign)s: %(problem)s") % {"campaign": label, "problem": err.message}
            )
        else:
            done += 1
            messages.success(request, _("%(campaign)s: done.") % {"campaign": label})
    messages.info(request, _("%(done)s of %(total)s done.") % {"done": done, "total": len(ids)})
    return redirect(back)


@require_GET
@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_or_404(campaign_id)
    if campaign.status == CampaignStatus.DRAFT and not sees_drafts(request.actor):
        raise Http404
    return render(
        request,
        "console/campaigns/detail.html",
        page_context(
            request,
            campaign=campaign,
            actions=campaign_actions(request, campaign),
            **action_forms(),
            **campaign_summary(campaign),
        ),
    )


ACTION_PERMS = {
    "publish": Perm.CAMPAIGN_PUBLISH,
    "close": Perm.CAMPAIGN_PUBLISH,
    "finish": Perm.CAMPAIGN_PUBLISH,
    "cancel": Perm.CAMPAIGN_PUBLISH,
    "extend": Perm.CAMPAIGN_PUBLISH,
    "copy": Perm.CAMPAIGN_EDIT,
    "delete": Perm.CAMPAIGN_EDIT,
}
DONE_MESSAGES = {
    "publish": gettext_lazy("Published: members can see the campaign."),
    "close": gettext_lazy("Sign-up closed."),
    "finish": gettext_lazy("Marked finished."),
    "cancel": gettext_lazy("Cancelled; members who signed up are told."),
    "extend": gettext_lazy("Sign-up reopened with the new deadline."),
    "copy": gettext_lazy("Copied into a new draft."),
    "delete": gettext_lazy("Draft deleted."),
}


def _form_problems(form) -> list[FieldError]:
    return [
        FieldError(name, "core.invalid", str(error))
        for name, errors in form.errors.items()
        for error in errors
    ]


def _run_action(request: HttpRequest, action: str, campaign: Campaign) -> Campaign | None:
    actor, pk = request.actor, campaign.pk
    reason_form = cf.ReasonForm(request.POST)
    reason = reason_form.cleaned_data["reason"] if reason_form.is_valid() else ""
    if action == "publish":
        return lifecycle.campaign_publish(campaign_id=pk, actor=actor)
    if action == "close":
        return lifecycle.campaign_close(campaign_id=pk, actor=actor, reason=reason)
    if action == "finish":
        return lifecycle.campaign_finish(campaign_id=pk, actor=actor)
    if action == "cancel":
        if not reason_form.is_valid():
            raise ValidationFailed(_form_problems(reason_form))
        return lifecycle.campaign_cancel(campaign_id=pk, actor=actor, reason=reason)
    if action == "copy":
        return lifecycle.campaign_copy(campaign_id=pk, actor=actor)
    if action == "delete":
        lifecycle.campaign_delete(campaign_id=pk, actor=actor)
        return None
    form = cf.ExtendForm(request.POST)  # extend
    if not form.is_valid():
        raise ValidationFailed(_form_problems(form))
    return lifecycle.campaign_extend(
        campaign_id=pk, actor=actor, signup_end_at=form.cleaned_data["signup_end_at"],
        reason=form.cleaned_data["reason"],
    )  # fmt: skip


@require_POST
@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    perm = ACTION_PERMS.get(action)
    if perm is None:
        raise Http404
    if not request.actor.can(perm):
        return forbidden(request, permission=str(perm))
    campaign = campaign_or_404(campaign_id)
    detail = reverse("console:campaign_detail", args=[campaign.pk])
    try:
        result = _run_action(request, action, campaign)
    except DomainError as err:
        message_error(request, err)
        return redirect(safe_next(request, detail))
    messages.success(request, str(DONE_MESSAGES[action]))
    if action == "delete":
        return redirect("console:campaign_list")
    if action == "copy":
        return redirect("console:campaign_edit", campaign_id=result.pk, step="basics")
    return redirect(safe_next(request, detail))


@require_GET
@xframe_options_sameorigin
@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_preview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The member's page of this campaign as members will see it, for the editor's phone frame."""
    campaign = campaign_or_404(campaign_id)
    return render(request, "h5/campaign_preview.html", {"campaign": campaign, "preview": True})


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/bulk/", campaign_bulk, name="campaign_bulk"),
    path("campaigns/filters/", saved_filter_create, name="campaign_filter_save"),
    path("campaigns/filters/<int:filter_id>/delete/", saved_filter_remove, name="campaign_filter_delete"),
    path("campaigns/<int:campaign_id>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/preview/", campaign_preview, name="campaign_preview"),
    path("campaigns/<int:campaign_id>/do/<slug:action>/", campaign_action, name="campaign_action"),
    *campaign_editor.urlpatterns,
]
