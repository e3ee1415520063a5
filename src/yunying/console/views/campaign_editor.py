"""The step-by-step campaign editor (issue 9): basics, the sign-up form builder, eligibility rules
checked as the operator types, notifications, then review with the member page in a phone frame.

Each step saves the draft through campaigns.services.lifecycle (campaign_create / campaign_update);
a refusal comes back on the fields it names."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yunying.campaigns.models import Campaign, CampaignStatus
from yunying.campaigns.services import lifecycle
from yunying.console import campaign_forms as cf
from yunying.console.access import operator_required
from yunying.console.once import once_token, submit_once
from yunying.console.views.campaign_common import (
    action_forms,
    apply_errors,
    campaign_actions,
    campaign_or_404,
    campaign_summary,
    changed_values,
    field_label,
    go_to,
    page_context,
    values_of,
)
from yunying.core.errors import DomainError
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm

STEPS = [
    ("basics", gettext_lazy("Basics")),
    ("form", gettext_lazy("Sign-up form")),
    ("eligibility", gettext_lazy("Eligibility")),
    ("notifications", gettext_lazy("Notifications")),
    ("review", gettext_lazy("Review and publish")),
]
STEP_KEYS = [key for key, _label in STEPS]


# ---- the editor -----------------------------------------------------------------------------------


def _step_context(request, campaign: Campaign | None, step: str, **extra) -> dict[str, Any]:
    index = STEP_KEYS.index(step)
    return page_context(
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
    return go_to(request, reverse("console:campaign_edit", args=[campaign.pk, target]))


@operator_required(Perm.CAMPAIGN_EDIT)
def campaign_new(request: HttpRequest) -> HttpResponse:
    """Step 1 of a new campaign: its basics make the draft."""
    form = cf.BasicsForm(request.POST or None, initial=_basics_initial(None))
    if request.method == "POST" and form.is_valid():
        try:
            campaign_id = submit_once(
                request, lambda: lifecycle.campaign_create(actor=request.actor, values=form.values()).pk
            )
        except DomainError as err:
            apply_errors(form, err)
        else:
            return _after_save(request, campaign_or_404(campaign_id), "basics")
    status = 200 if request.method != "POST" or not form.errors else 422
    context = _step_context(
        request, None, "basics", form=form, validate_url=reverse("console:campaign_new_validate")
    )
    return render(
        request,
        "console/campaigns/editor.html",
        {**context, "once_token": once_token(request)},
        status=status,
    )


@operator_required(Perm.CAMPAIGN_EDIT)
def campaign_edit(request: HttpRequest, campaign_id: int, step: str) -> HttpResponse:
    if step not in STEP_KEYS:
        raise Http404
    campaign = campaign_or_404(campaign_id)
    return EDIT_STEPS[step](request, campaign)


def _save(request, campaign: Campaign, form, changes: dict[str, Any], step: str) -> HttpResponse | None:
    """Send the step's changes through campaign_update; None when refused (errors now on the form)."""
    changes = changed_values(campaign, changes)
    if not changes:
        return _after_save(request, campaign, step)
    try:
        campaign = lifecycle.campaign_update(campaign_id=campaign.pk, actor=request.actor, changes=changes)
    except DomainError as err:
        apply_errors(form, err)
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
    # isdecimal and ASCII: "²".isdigit() is true but int("²") fails (a 500 the review found)
    if (
        name not in ("up", "down", "remove")
        or not (number.isascii() and number.isdecimal())
        or int(number) >= len(rows)
    ):
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
            typed = _question_rows(formset)
            rows = _builder_op(op, typed)
            if rows is None:  # a button this page does not have: show the rows again, save nothing
                rows = typed
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
            if ascii_digits(n) and int(n) < len(self.formset.forms):
                self.formset.forms[int(n)].add_service_errors([{"field": name, "message": message}])
                return
        self.formset.non_form_errors().append(cf.service_message(message))

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
            f"{field_label(str(e['field']))}: {cf.service_message(e['message'])}"
            for e in lifecycle.campaign_publish_problems(campaign)
        ]
    return _render_step(
        request,
        campaign,
        "review",
        problems=problems,
        actions=campaign_actions(request, campaign),
        **action_forms(),
        **campaign_summary(campaign),
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
        values = values_of(campaign) | changes
        if all(
            values.get(f) is not None
            for f in ("signup_start_at", "signup_end_at", "event_start_at", "event_end_at", "capacity")
        ):
            problems = lifecycle.campaign_problems(values)
            mine = [p for p in problems if form.field_for(str(p["field"])) is not None]
            for rest in form.add_service_errors(mine):
                form.add_error(None, cf.service_message(rest["message"]))
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
    return _check(request, campaign_or_404(campaign_id), step)


@require_POST
@operator_required(Perm.CAMPAIGN_EDIT)
def campaign_new_validate(request: HttpRequest) -> HttpResponse:
    return _check(request, None, "basics")


urlpatterns = [
    path("campaigns/new/", campaign_new, name="campaign_new"),
    path("campaigns/new/validate/", campaign_new_validate, name="campaign_new_validate"),
    path("campaigns/<int:campaign_id>/edit/<slug:step>/", campaign_edit, name="campaign_edit"),
    path(
        "campaigns/<int:campaign_id>/edit/<slug:step>/validate/", campaign_validate, name="campaign_validate"
    ),
]
