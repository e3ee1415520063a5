"""Campaigns in the console: the list (filters, saved filters, bulk actions), a campaign's page with
its lifecycle buttons, the step-by-step editor and the member-page preview (issue 9).

Every change goes through campaigns.services.lifecycle — the functions api/campaigns.py calls — with
the operator as the actor (the service writes the audit row); a DomainError comes back as field
errors or a message, never a 500."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from yunying.campaigns import selectors
from yunying.campaigns.errors import CampaignError
from yunying.campaigns.models import Campaign, CampaignStatus
from yunying.campaigns.services import lifecycle
from yunying.console import campaign_forms as cf
from yunying.console.access import forbidden, operator_required
from yunying.console.saved_filters import saved_filter_delete, saved_filter_list, saved_filter_save
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.core.permissions import Perm

PAGE_SIZE = 25
MAX_ID = 2**63 - 1
BULK_MAX = 100
FILTER_KEYS = ("q", "status", "type", "date_from", "date_to")

STEPS = [
    ("basics", gettext_lazy("Basics")),
    ("form", gettext_lazy("Sign-up form")),
    ("eligibility", gettext_lazy("Eligibility")),
    ("notifications", gettext_lazy("Notifications")),
    ("review", gettext_lazy("Review and publish")),
]
STEP_KEYS = [key for key, _label in STEPS]


# ---- helpers ------------------------------------------------------------------------------------


def _campaign_or_404(campaign_id: int) -> Campaign:
    if not 1 <= campaign_id <= MAX_ID:
        raise Http404
    try:
        return selectors.campaign_get(campaign_id)
    except DomainError as missing:
        raise Http404 from missing


def _sees_drafts(actor) -> bool:
    # The API's rule for who reads drafts (api/campaigns.py _sees_drafts): the operations team.
    return actor.can(Perm.CAMPAIGN_EDIT) or actor.can(Perm.SIGNUP_VIEW)


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that an htmx request follows as a whole page."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _field_label(path: str) -> str:
    """A service field path ("signup_end_at", "form.2.key", "eligibility.min_age") in words."""
    parts = path.split(".")
    head = parts[0]
    for form_class in (cf.BasicsForm, cf.NotificationsForm, cf.ExtendForm, cf.ReasonForm):
        if head in form_class.base_fields:
            return str(form_class.base_fields[head].label)
    if head == "form" and len(parts) > 1 and parts[1].isdigit():
        return _("Question %(n)s") % {"n": int(parts[1]) + 1}
    if head == "form":
        return _("Sign-up form")
    if head == "eligibility":
        name = cf.EligibilityForm().field_for(path)
        if name and name in cf.EligibilityForm.base_fields:
            return str(cf.EligibilityForm.base_fields[name].label)
        return _("Eligibility")
    return head


def _error_lines(err: DomainError) -> list[str]:
    """The service's refusal as lines an operator reads: its message, then each field's problem."""
    lines = [err.message]
    for error in err.data.get("errors") or []:
        lines.append(f"{_field_label(str(error.get('field', '')))}: {error.get('message', '')}")
    if err.code == CampaignError.RULES_LOCKED and err.data.get("fields"):
        lines.append(
            _("Refused fields: %(f)s") % {"f": ", ".join(_field_label(f) for f in err.data["fields"])}
        )
    return lines


def _message_error(request: HttpRequest, err: DomainError) -> None:
    for line in _error_lines(err):
        messages.error(request, line)


def _apply_errors(form, err: DomainError) -> None:
    """A service refusal onto a form: field errors where the form has the field, else on the form."""
    if err.code == CampaignError.RULES_LOCKED:
        fields = [f for f in err.data.get("fields") or [] if form.field_for(f)]
        for name in fields:
            form.add_error(form.field_for(name), err.message)
        if not fields:
            form.add_error(None, err.message)
        return
    errors = err.data.get("errors") or []
    if not errors:
        form.add_error(None, err.message)
        return
    for rest in form.add_service_errors(errors):
        form.add_error(None, f"{_field_label(str(rest.get('field', '')))}: {rest.get('message', '')}")


def _values_of(campaign: Campaign | None) -> dict[str, Any]:
    """A campaign's editable values (or a new one's defaults), as the services read them."""
    if campaign is None:
        return {
            "channels": [],
            "notify_channels": ["sms"],
            "eligibility": {},
            "form": [],
            "reminder_hours_before": 24,
        }
    return {f: getattr(campaign, f) for f in lifecycle.EDITABLE_FIELDS}


def _changes(campaign: Campaign, proposed: dict[str, Any]) -> dict[str, Any]:
    """Only what the operator changed: a datetime typed to the minute equals the stored one to the
    minute (so an unchanged deadline of a published campaign is not sent as a change)."""
    changed = {}
    for field, value in proposed.items():
        current = getattr(campaign, field)
        if isinstance(current, datetime) and current.replace(second=0, microsecond=0) == value:
            continue
        if current != value:
            changed[field] = value
    return changed


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    actor = request.actor
    return {
        "section": "campaigns",
        "can_edit": actor.can(Perm.CAMPAIGN_EDIT),
        "can_publish": actor.can(Perm.CAMPAIGN_PUBLISH),
        **extra,
    }


def _row(campaign: Campaign) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "type_label": cf.label_of(cf.TYPE_LABELS, campaign.type),
        "status_label": cf.label_of(cf.STATUS_LABELS, campaign.status),
        "badge": cf.STATUS_BADGES.get(campaign.status, "text-bg-light"),
        "seats_left": max(campaign.capacity - campaign.seats_taken, 0),
    }


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
    campaigns = selectors.campaign_list(**selected, drafts=_sees_drafts(request.actor))
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    current = _filter_query(filters) if selected else ""
    return render(
        request,
        "console/campaigns/list.html",
        _context(
            request,
            filters=filters,
            page=page,
            rows=[_row(c) for c in page.object_list],
            query=query.urlencode(),
            current_query=current,
            saved_filters=list(saved_filter_list(user=request.user, section="campaigns")),
            save_form=cf.SavedFilterForm(initial={"query": current}),
            bulk_form=cf.BulkForm(),
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
        _message_error(request, err)
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
        if value.isdigit() and len(value) < 20 and 1 <= int(value) <= MAX_ID and int(value) not in ids:
            ids.append(int(value))
    return ids


@require_POST
@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_bulk(request: HttpRequest) -> HttpResponse:
    """Each ticked campaign through the same service as its own button, one by one: a refusal is
    reported for its row and the others still go through."""
    back = _safe_next(request, reverse("console:campaign_list"))
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


# ---- one campaign ---------------------------------------------------------------------------------


def _summary(campaign: Campaign) -> dict[str, Any]:
    return {
        "row": _row(campaign),
        "review_label": cf.label_of(cf.REVIEW_LABELS, campaign.review_mode),
        "admission_label": cf.label_of(cf.ADMISSION_LABELS, campaign.admission_mode),
        "channel_labels": [cf.label_of(cf.CHANNEL_LABELS, c) for c in campaign.channels or []],
        "notify_labels": [cf.label_of(cf.NOTIFY_LABELS, c) for c in campaign.notify_channels or []],
        "questions": [
            q | {"type_label": cf.label_of(cf.QUESTION_TYPE_LABELS, q.get("type", ""))}
            for q in campaign.form or []
            if isinstance(q, dict)
        ],
        "rules": _rules_lines(campaign.eligibility or {}),
    }


def _rules_lines(rules: dict[str, Any]) -> list[str]:
    lines = []
    if rules.get("min_age") is not None or rules.get("max_age") is not None:
        lines.append(
            _("Age %(min)s to %(max)s")
            % {"min": rules.get("min_age") if rules.get("min_age") is not None else "…",
               "max": rules.get("max_age") if rules.get("max_age") is not None else "…"}
        )  # fmt: skip
    if rules.get("genders") is not None:
        genders = ", ".join(cf.label_of(cf.GENDER_LABELS, g) for g in rules["genders"])
        lines.append(_("Genders: %(g)s") % {"g": genders})
    if rules.get("regions_allow") is not None:
        lines.append(_("Only regions: %(r)s") % {"r": ", ".join(rules["regions_allow"])})
    if rules.get("regions_deny"):
        lines.append(_("Not regions: %(r)s") % {"r": ", ".join(rules["regions_deny"])})
    limit = rules.get("participation_limit")
    if limit:
        lines.append(
            _("At most %(count)s sign-ups in %(days)s days")
            % {"count": limit.get("count"), "days": limit.get("period_days")}
        )
    for required in rules.get("required_answers") or []:
        lines.append(
            _("Answer to “%(q)s” one of: %(a)s")
            % {"q": required.get("question"), "a": ", ".join(required.get("allowed") or [])}
        )
    return lines


def _action_forms() -> dict[str, Any]:
    # their own id prefixes: both have a "reason" on the same page
    return {
        "reason_form": cf.ReasonForm(auto_id="cancel_%s"),
        "extend_form": cf.ExtendForm(auto_id="extend_%s"),
    }


def _actions(request: HttpRequest, campaign: Campaign) -> dict[str, bool]:
    """Which lifecycle buttons to show: the service's own transition table and the operator's role."""
    can_publish = request.actor.can(Perm.CAMPAIGN_PUBLISH)
    can_edit = request.actor.can(Perm.CAMPAIGN_EDIT)
    moves = lifecycle.TRANSITIONS.get(campaign.status, set())
    status = campaign.status
    return {
        "publish": can_publish and CampaignStatus.PUBLISHED in moves and status == CampaignStatus.DRAFT,
        "close": can_publish and CampaignStatus.CLOSED in moves,
        "finish": can_publish and CampaignStatus.FINISHED in moves,
        "cancel": can_publish and CampaignStatus.CANCELLED in moves,
        "extend": can_publish and status == CampaignStatus.CLOSED,
        "copy": can_edit,
        "delete": can_edit and status == CampaignStatus.DRAFT,
        "edit": can_edit and status not in (CampaignStatus.FINISHED, CampaignStatus.CANCELLED),
    }


@require_GET
@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(campaign_id)
    if campaign.status == CampaignStatus.DRAFT and not _sees_drafts(request.actor):
        raise Http404
    return render(
        request,
        "console/campaigns/detail.html",
        _context(
            request,
            campaign=campaign,
            actions=_actions(request, campaign),
            **_action_forms(),
            **_summary(campaign),
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
    campaign = _campaign_or_404(campaign_id)
    detail = reverse("console:campaign_detail", args=[campaign.pk])
    try:
        result = _run_action(request, action, campaign)
    except DomainError as err:
        _message_error(request, err)
        return redirect(_safe_next(request, detail))
    messages.success(request, str(DONE_MESSAGES[action]))
    if action == "delete":
        return redirect("console:campaign_list")
    if action == "copy":
        return redirect("console:campaign_edit", campaign_id=result.pk, step="basics")
    return redirect(_safe_next(request, detail))


@require_GET
@xframe_options_sameorigin
@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_preview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The member's page of this campaign as members will see it, for the editor's phone frame."""
    campaign = _campaign_or_404(campaign_id)
    template = select_template(["h5/campaign_preview.html", "console/campaigns/preview_fallback.html"])
    return HttpResponse(template.render({"campaign": campaign, "preview": True}, request))


# ---- the editor -----------------------------------------------------------------------------------


def _step_context(request, campaign: Campaign | None, step: str, **extra) -> dict[str, Any]:
    index = STEP_KEYS.index(step)
    return _context(
        request,
        campaign=campaign,
        step=step,
        steps=[
            {"key": key, "label": label, "number": n + 1, "current": key == step}
            for n, (key, label) in enumerate(STEPS)
        ],
        step_number=index + 1,
        step_label=STEPS[index][1],
        next_step=STEP_KEYS[index + 1] if index + 1 < len(STEPS) else None,
        prev_step=STEP_KEYS[index - 1] if index > 0 else None,
        locked=campaign is not None and campaign.status != CampaignStatus.DRAFT,
        **extra,
    )


def _basics_initial(campaign: Campaign | None) -> dict[str, Any]:
    if campaign is None:
        return {
            "type": "promotion",
            "capacity": 100,
            "review_mode": "auto",
            "admission_mode": "first_come",
            "channels": ["h5"],
        }
    return {f: getattr(campaign, f) for f in cf.BASICS_FIELDS}


def _after_save(request: HttpRequest, campaign: Campaign, step: str) -> HttpResponse:
    messages.success(request, _("Draft saved.") if campaign.status == CampaignStatus.DRAFT else _("Saved."))
    index = STEP_KEYS.index(step)
    target = step
    if "next" in request.POST and index + 1 < len(STEPS):
        target = STEP_KEYS[index + 1]
    return _go(request, reverse("console:campaign_edit", args=[campaign.pk, target]))


@operator_required(Perm.CAMPAIGN_EDIT)
def campaign_new(request: HttpRequest) -> HttpResponse:
    """Step 1 of a new campaign: its basics make the draft."""
    form = cf.BasicsForm(request.POST or None, initial=_basics_initial(None))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = lifecycle.campaign_create(actor=request.actor, values=form.values())
        except DomainError as err:
            _apply_errors(form, err)
        else:
            return _after_save(request, campaign, "basics")
    status = 200 if request.method != "POST" or not form.errors else 422
    return render(
        request, "console/campaigns/editor.html",
        _step_context(request, None, "basics", form=form, validate_url=reverse("console:campaign_new_validate")),
        status=status,
    )  # fmt: skip


@operator_required(Perm.CAMPAIGN_EDIT)
def campaign_edit(request: HttpRequest, campaign_id: int, step: str) -> HttpResponse:
    if step not in STEP_KEYS:
        raise Http404
    campaign = _campaign_or_404(campaign_id)
    return EDIT_STEPS[step](request, campaign)


def _save(request, campaign: Campaign, form, changes: dict[str, Any], step: str) -> HttpResponse | None:
    """Send the step's changes through campaign_update; None when refused (errors now on the form)."""
    changes = _changes(campaign, changes)
    if not changes:
        return _after_save(request, campaign, step)
    try:
        campaign = lifecycle.campaign_update(campaign_id=campaign.pk, actor=request.actor, changes=changes)
    except DomainError as err:
        _apply_errors(form, err)
        return None
    return _after_save(request, campaign, step)


def _render_step(request, campaign, step, status=200, **extra) -> HttpResponse:
    validate = reverse("console:campaign_validate", args=[campaign.pk, step])
    return render(
        request,
        "console/campaigns/editor.html",
        _step_context(request, campaign, step, validate_url=validate, **extra),
        status=status,
    )


def _edit_basics(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    form = cf.BasicsForm(request.POST or None, initial=_basics_initial(campaign))
    if request.method == "POST" and form.is_valid():
        done = _save(request, campaign, form, form.values(), "basics")
        if done:
            return done
    return _render_step(request, campaign, "basics", status=422 if form.errors else 200, form=form)


def _question_rows(formset) -> list[dict[str, Any]]:
    """The questions as typed (valid or not), to re-render after a move, an addition or a removal."""
    rows = []
    for form in formset.forms:
        rows.append({name: form[name].value() for name in form.fields})
    return rows


def _builder_op(op: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Apply an add / up / down / remove button to the rows; None when `op` is not one of them."""
    if op == "add":
        return [*rows, {"type": "text", "required": False}][:50]
    name, _sep, number = op.partition("-")
    if name not in ("up", "down", "remove") or not number.isdigit() or int(number) >= len(rows):
        return None
    n = int(number)
    rows = list(rows)
    if name == "remove":
        del rows[n]
    elif name == "up" and n > 0:
        rows[n - 1], rows[n] = rows[n], rows[n - 1]
    elif name == "down" and n + 1 < len(rows):
        rows[n + 1], rows[n] = rows[n], rows[n + 1]
    return rows


def _edit_form(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """Step 2, the form builder: questions of every type the service knows, reordered with buttons."""
    status, notice = 200, ""
    if request.method == "POST":
        formset = cf.QuestionFormSet(request.POST, prefix="q")
        op = request.POST.get("op", "save")
        rows = None
        if op != "save" and formset.management_form.is_valid():
            rows = _builder_op(op, _question_rows(formset))
        if rows is not None:
            formset = cf.QuestionFormSet(prefix="q", initial=rows)
            notice = _("Not saved yet: press Save when the questions are ready.")
        elif formset.is_valid():
            questions = [form.question() for form in formset.forms]
            done = _save(request, campaign, _FormsetErrors(formset), {"form": questions}, "form")
            if done:
                return done
            status = 422
        else:
            status = 422
    else:
        formset = cf.QuestionFormSet(
            prefix="q",
            initial=[cf.QuestionForm.initial_for(q) for q in campaign.form or [] if isinstance(q, dict)],
        )
    if request.htmx:
        status = 200  # htmx swaps only successful answers: the errors are in the fragment
    template = "console/campaigns/_form_builder.html" if request.htmx else None
    context = {"formset": formset, "notice": notice}
    if template:
        ctx = _step_context(request, campaign, "form", **context)
        return render(request, template, ctx, status=status)
    return _render_step(request, campaign, "form", status=status, **context)


class _FormsetErrors:
    """Route the service's "form.<n>.<attr>" errors to question n of the formset."""

    def __init__(self, formset):
        self.formset = formset
        self.general: list[str] = []

    def field_for(self, path: str) -> str | None:
        return path if path.startswith("form") else None

    def add_error(self, name, message) -> None:
        if name and name.startswith("form."):
            n = name.split(".")[1]
            if n.isdigit() and int(n) < len(self.formset.forms):
                self.formset.forms[int(n)].add_service_errors([{"field": name, "message": message}])
                return
        self.formset.non_form_errors().append(str(message))

    def add_service_errors(self, errors: list[dict]) -> list[dict]:
        rest = []
        for error in errors:
            path = str(error.get("field", ""))
            if path.startswith("form"):
                self.add_error(path, error.get("message", ""))
            else:
                rest.append(error)
        return rest


def _edit_eligibility(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    form = cf.EligibilityForm(
        request.POST or None, initial=cf.EligibilityForm.initial_for(campaign.eligibility or {})
    )
    if request.method == "POST" and form.is_valid():
        done = _save(request, campaign, form, {"eligibility": form.rules()}, "eligibility")
        if done:
            return done
    questions = [q for q in campaign.form or [] if isinstance(q, dict)]
    return _render_step(
        request, campaign, "eligibility", status=422 if form.errors else 200, form=form, questions=questions
    )


def _edit_notifications(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    form = cf.NotificationsForm(
        request.POST or None,
        initial={
            "notify_channels": campaign.notify_channels,
            "reminder_hours_before": campaign.reminder_hours_before,
        },
    )
    if request.method == "POST" and form.is_valid():
        done = _save(request, campaign, form, form.values(), "notifications")
        if done:
            return done
    return _render_step(request, campaign, "notifications", status=422 if form.errors else 200, form=form)


def _edit_review(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    problems = []
    if campaign.status == CampaignStatus.DRAFT:
        problems = [
            f"{_field_label(str(e['field']))}: {e['message']}"
            for e in lifecycle.campaign_publish_problems(campaign)
        ]
    return _render_step(
        request,
        campaign,
        "review",
        problems=problems,
        actions=_actions(request, campaign),
        **_action_forms(),
        **_summary(campaign),
    )


EDIT_STEPS = {
    "basics": _edit_basics,
    "form": _edit_form,
    "eligibility": _edit_eligibility,
    "notifications": _edit_notifications,
    "review": _edit_review,
}

STEP_FORMS = {
    "basics": cf.BasicsForm,
    "eligibility": cf.EligibilityForm,
    "notifications": cf.NotificationsForm,
}


def _check(request: HttpRequest, campaign: Campaign | None, step: str) -> HttpResponse:
    """Validation as the operator types: the step's input merged into the campaign's values and run
    through the service's own check (lifecycle.campaign_problems); the answer is the errors fragment."""
    form_class = STEP_FORMS.get(step)
    if form_class is None:
        raise Http404
    form = form_class(request.POST)
    if form.is_valid():
        proposed = form.rules() if step == "eligibility" else form.values()
        changes = {"eligibility": proposed} if step == "eligibility" else proposed
        values = _values_of(campaign) | changes
        if all(
            values.get(f) is not None
            for f in ("signup_start_at", "signup_end_at", "event_start_at", "event_end_at", "capacity")
        ):
            problems = lifecycle.campaign_problems(values)
            mine = [p for p in problems if form.field_for(str(p["field"])) is not None]
            for rest in form.add_service_errors(mine):
                form.add_error(None, rest["message"])
    errors = [
        {
            "id": form[name].auto_id if name in form.fields else "",
            "label": form.fields[name].label if name in form.fields else "",
            "messages": list(msgs),
        }
        for name, msgs in form.errors.items()
    ]
    return render(request, "console/campaigns/_check.html", {"errors": errors, "checked": True})


@require_POST
@operator_required(Perm.CAMPAIGN_EDIT)
def campaign_validate(request: HttpRequest, campaign_id: int, step: str) -> HttpResponse:
    return _check(request, _campaign_or_404(campaign_id), step)


@require_POST
@operator_required(Perm.CAMPAIGN_EDIT)
def campaign_new_validate(request: HttpRequest) -> HttpResponse:
    return _check(request, None, "basics")


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/bulk/", campaign_bulk, name="campaign_bulk"),
    path("campaigns/filters/", saved_filter_create, name="campaign_filter_save"),
    path("campaigns/filters/<int:filter_id>/delete/", saved_filter_remove, name="campaign_filter_delete"),
    path("campaigns/new/", campaign_new, name="campaign_new"),
    path("campaigns/new/validate/", campaign_new_validate, name="campaign_new_validate"),
    path("campaigns/<int:campaign_id>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/preview/", campaign_preview, name="campaign_preview"),
    path("campaigns/<int:campaign_id>/edit/<slug:step>/", campaign_edit, name="campaign_edit"),
    path(
        "campaigns/<int:campaign_id>/edit/<slug:step>/validate/", campaign_validate, name="campaign_validate"
    ),
    path("campaigns/<int:campaign_id>/do/<slug:action>/", campaign_action, name="campaign_action"),
]
