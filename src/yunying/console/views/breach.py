"""数据泄露应急 (S6): the breach incidents and their runbook. The list opens an incident; the incident
page shows each step's clock (time left to its deadline, or overdue: rendered here and kept current
by console/breach_clock.js), assigns and completes steps, adds affected members (a count and masked
samples only), edits and sends the member notice, plans and issues the compensation, and links the
regulator report (printable, and as text). Reading needs breach.view, every action breach.manage;
privacy.breach does the work (validated, audited)."""

from __future__ import annotations

import re
from datetime import datetime

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunying.console.access import forbidden, operator_required
from yunying.console.fields import AsciiIntegerField, LocalDateTimeField
from yunying.console.paging import ID_MAX
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.privacy import breach
from yunying.privacy import breach_compensation as compensation
from yunying.privacy.breach_errors import BreachError
from yunying.privacy.breach_report import breach_report_draft, breach_report_facts
from yunying.privacy.models import CompensationKind, DataKind

ACCESS_FIELDS = [
    ("phone", gettext_lazy("Phone number")),
    ("name", gettext_lazy("Full name")),
    ("address", gettext_lazy("Address")),
    ("identity", gettext_lazy("Identity number")),
    ("email", gettext_lazy("E-mail address")),
    ("birth_date", gettext_lazy("Birth date")),
    ("answers", gettext_lazy("Sign-up answers")),
]


class OpenForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("What happened (title)"), max_length=200)
    is_drill = forms.BooleanField(
        label=gettext_lazy("This is a drill"),
        required=False,
        help_text=gettext_lazy(
            "A drill runs every step, but its notices stay in the outbox and reach no member, and its "
            "compensation issues nothing."
        ),
    )
    discovered_at = LocalDateTimeField(
        label=gettext_lazy("Discovered at"),
        help_text=gettext_lazy("The runbook's deadlines count from this time; at most a year ago."),
    )
    data_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Data exposed"), choices=DataKind.choices, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(
        label=gettext_lazy("Details of the incident"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    scope = forms.CharField(
        label=gettext_lazy("Scope (what, where, how far)"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    contact = forms.CharField(
        label=gettext_lazy("Contact for members and the regulator"), required=False, max_length=200
    )


class FactsForm(forms.Form):
    cause = forms.CharField(
        label=gettext_lazy("Cause"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    measures = forms.CharField(
        label=gettext_lazy("Measures taken"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    scope = forms.CharField(
        label=gettext_lazy("Scope (what, where, how far)"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    contact = forms.CharField(
        label=gettext_lazy("Contact for members and the regulator"), required=False, max_length=200
    )


class AffectedForm(forms.Form):
    access_actor = forms.CharField(
        label=gettext_lazy("Accessed by (operator name, or user:ID)"), required=False, max_length=150
    )
    # Bounded years: 0001-01-01 in Beijing time is before year 1 in UTC, an OverflowError in the query.
    since = LocalDateTimeField(label=gettext_lazy("Accessed from"), required=False)
    until = LocalDateTimeField(label=gettext_lazy("Accessed until"), required=False)
    fields = forms.MultipleChoiceField(
        label=gettext_lazy("Fields read"),
        required=False,
        choices=ACCESS_FIELDS,
        widget=forms.CheckboxSelectMultiple,
    )
    campaign_id = AsciiIntegerField(
        label=gettext_lazy("Or everyone who signed up for campaign (id)"),
        required=False,
        min_value=1,
        max_value=ID_MAX,
    )
    member_ids = forms.CharField(
        label=gettext_lazy("Or these member ids"), required=False, max_length=200000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Separated by spaces, commas or new lines."),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", _("The window must end after it starts."))
        return data

    def clean_member_ids(self) -> list[int]:
        parts = [p for p in re.split(r"[\s,，;；]+", self.cleaned_data["member_ids"]) if p]
        if not all(ascii_digits(p) and len(p) <= 19 and 1 <= int(p) <= ID_MAX for p in parts):
            raise forms.ValidationError(_("Give member ids as numbers."))
        return sorted({int(p) for p in parts})

    def criteria(self) -> breach.AccessCriteria:
        data = self.cleaned_data
        who = data["access_actor"].strip()
        kind, _sep, number = who.partition(":")
        by_id = bool(_sep) and ascii_digits(number) and len(number) <= 18
        return breach.AccessCriteria(
            actor_kind=kind if by_id else "",
            actor_id=int(number) if by_id else None,
            actor_label="" if by_id else who,
            since=data["since"],
            until=data["until"],
            fields=tuple(data["fields"]),
        )


class NoticeForm(forms.Form):
    notice_happened = forms.CharField(
        label=gettext_lazy("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    notice_data = forms.CharField(
        label=gettext_lazy("Which data"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    notice_measures = forms.CharField(
        label=gettext_lazy("What we did"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    notice_advice = forms.CharField(
        label=gettext_lazy("What the member should do"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notice_contact = forms.CharField(
        label=gettext_lazy("Contact"), max_length=2000, widget=forms.Textarea(attrs={"rows": 1})
    )


class PlanForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Compensation"),
        choices=[c for c in CompensationKind.choices if c[0]],
        widget=forms.RadioSelect,
    )
    promotion_id = AsciiIntegerField(
        label=gettext_lazy("Coupon (promotion id)"), required=False, min_value=1, max_value=ID_MAX
    )
    days = AsciiIntegerField(
        label=gettext_lazy("Extension (days)"), required=False, min_value=1, max_value=3650
    )


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=gettext_lazy("Assignee"), coerce=int)

    def __init__(self, *args, operators, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "—"), *operators]


class DoneForm(forms.Form):
    notes = forms.CharField(
        label=gettext_lazy("What was done"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReportForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Report text"),
        required=False,
        max_length=50000,
        widget=forms.Textarea(attrs={"rows": 24}),
    )


# ---------------------------------------------------------------------------------------------------


def duration_text(seconds: int) -> str:
    """A span as operators read it at a glance: "2 d 3 h", "5 h 07 min", "12 min" (the script formats alike)."""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


def clock_words() -> dict[str, str]:
    """The words the clock script formats with, translated here (the same as duration_text's)."""
    return {
        "left": _("%(t)s left") % {"t": "{t}"},
        "overdue": _("Overdue by %(t)s") % {"t": "{t}"},
        "dh": _("%(d)d d %(h)d h"),
        "hm": _("%(h)d h %(m)02d min"),
        "m": _("%(m)d min"),
    }


def _skipped_text(erased: int, unknown: int) -> str:
    """Why some members named were left out ("" when none were)."""
    parts = []
    if erased:
        parts.append(_("%(n)d skipped: erased at their request.") % {"n": erased})
    if unknown:
        parts.append(_("%(n)d skipped: no such member any more.") % {"n": unknown})
    return " ".join(parts)


def _refused_text(refused: DomainError) -> str:
    if isinstance(refused, ValidationFailed):
        return " ".join(e["message"] for e in refused.errors)
    return refused.message


def _steps(incident, now: datetime) -> list[dict]:
    rows = []
    for step in incident.steps.all():
        clock = breach.step_clock(step, now)
        rows.append({"step": step, "clock": clock, "left": duration_text(clock.seconds_left)})
    return rows


@operator_required(Perm.BREACH_VIEW)
@require_http_methods(["GET", "POST"])
def incident_list(request: HttpRequest) -> HttpResponse:
    form = OpenForm(initial={"discovered_at": timezone.localtime().replace(second=0, microsecond=0)})
    status = 200
    if request.method == "POST":
        if not request.actor.can(Perm.BREACH_MANAGE):
            return forbidden(request, permission=str(Perm.BREACH_MANAGE))
        form = OpenForm(request.POST)
        if form.is_valid():
            try:
                incident = breach.breach_open(actor=request.actor, **form.cleaned_data)
            except DomainError as refused:
                form.add_error(None, _refused_text(refused))
            else:
                messages.success(request, _("Incident opened: the runbook's clock is running."))
                return redirect("console:breach_detail", incident_id=incident.pk)
        status = 422
    now = timezone.now()
    incidents = []
    for incident in breach.breach_list():
        pending = [row for row in _steps(incident, now) if row["step"].done_at is None]
        incidents.append({"incident": incident, "next": pending[0] if pending else None})
    context = {
        "section": "breach", "incidents": incidents, "form": form, "clock_words": clock_words(),
        "can_manage": request.actor.can(Perm.BREACH_MANAGE),
    }  # fmt: skip
    return render(request, "console/breach/list.html", context, status=status)


@operator_required(Perm.BREACH_VIEW)
@require_GET
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _detail(request, incident_id)


def _detail(
    request, incident_id: int, *, affected_form=None, preview=None, status: int = 200
) -> HttpResponse:
    try:
        incident = breach.breach_get(incident_id)
    except DomainError as missing:
        raise Http404 from missing
    now = timezone.now()
    operators = breach.breach_operators()
    context = {
        "section": "breach",
        "clock_words": clock_words(),
        "incident": incident,
        "kinds": [DataKind(k).label for k in incident.data_kinds if k in DataKind.values],
        "steps": [
            {
                **row,
                "assign": AssignForm(operators=operators, initial={"assignee": row["step"].assignee_id}),
                "done": DoneForm(prefix=f"s{row['step'].pk}"),
            }
            for row in _steps(incident, now)
        ],
        "now": now,
        "summary": breach.breach_affected_summary(incident),
        "affected_form": affected_form or AffectedForm(),
        "preview": preview,
        "facts_form": FactsForm(initial={f: getattr(incident, f) for f in FactsForm.base_fields}),
        "notice_form": NoticeForm(initial={f: getattr(incident, f) for f in NoticeForm.base_fields}),
        "notice_preview": breach.breach_notice_text(incident),
        "plan_form": PlanForm(
            initial={
                "kind": incident.compensation_kind or None,
                "promotion_id": incident.compensation_promotion_id,
                "days": incident.compensation_days,
            }
        ),
        "can_manage": request.actor.can(Perm.BREACH_MANAGE),
        "is_open": incident.status == "open",
        "blockers": breach.breach_close_blockers(incident),
    }
    return render(request, "console/breach/detail.html", context, status=status)


def _back(incident_id: int, anchor: str = "") -> HttpResponse:
    response = redirect("console:breach_detail", incident_id=incident_id)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _form_refused(request: HttpRequest, form: forms.Form) -> None:
    problems = [
        f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".lstrip(": ")
        for f, e in form.errors.items()
    ]
    messages.error(request, " ".join(problems))


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def step_assign(request: HttpRequest, incident_id: int, step_id: int) -> HttpResponse:
    form = AssignForm(request.POST, operators=breach.breach_operators())
    if not form.is_valid():
        _form_refused(request, form)
        return _back(incident_id, f"step-{step_id}")
    try:
        step = breach.breach_step_assign(
            incident_id=incident_id,
            step_id=step_id,
            assignee_id=form.cleaned_data["assignee"],
            actor=request.actor,
        )
    except DomainError as refused:
        messages.error(request, _refused_text(refused))
    else:
        messages.success(
            request,
            _("%(step)s assigned to %(who)s.")
            % {"step": step.get_kind_display(), "who": step.assignee_label},
        )
    return _back(incident_id, f"step-{step_id}")


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def step_done(request: HttpRequest, incident_id: int, step_id: int) -> HttpResponse:
    form = DoneForm(request.POST, prefix=f"s{step_id}")
    if not form.is_valid():
        _form_refused(request, form)
        return _back(incident_id, f"step-{step_id}")
    try:
        step = breach.breach_step_done(
            incident_id=incident_id, step_id=step_id, notes=form.cleaned_data["notes"], actor=request.actor
        )
    except DomainError as refused:
        messages.error(request, _refused_text(refused))
    else:
        if step.late:
            messages.warning(
                request, _("%(step)s done, after its deadline.") % {"step": step.get_kind_display()}
            )
        else:
            messages.success(request, _("%(step)s done in time.") % {"step": step.get_kind_display()})
    return _back(incident_id, f"step-{step_id}")


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def facts_save(request: HttpRequest, incident_id: int) -> HttpResponse:
    form = FactsForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(incident_id, "facts")
    try:
        breach.breach_update(incident_id=incident_id, facts=form.cleaned_data, actor=request.actor)
    except DomainError as refused:
        messages.error(request, _refused_text(refused))
    else:
        messages.success(request, _("Findings saved."))
    return _back(incident_id, "facts")


def _refused_on_fields(form: forms.Form, refused: DomainError) -> None:
    """Put a refusal's field errors on the form's fields (the rest on the whole form)."""
    if refused.code == BreachError.MEMBERS_UNKNOWN:
        form.add_error("member_ids", refused.message)
        return
    errors = refused.errors if isinstance(refused, ValidationFailed) else [{"message": refused.message}]
    for error in errors:
        field = error.get("field")
        form.add_error(field if field in form.fields else None, error["message"])


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def affected_add(request: HttpRequest, incident_id: int) -> HttpResponse:
    # A refusal re-renders the page with the form as typed and the error on its field (422).
    form = AffectedForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident_id, affected_form=form, status=422)
    criteria = {
        "incident_id": incident_id, "access": form.criteria(), "campaign_id": form.cleaned_data["campaign_id"],
        "member_ids": form.cleaned_data["member_ids"], "actor": request.actor,
    }  # fmt: skip
    try:
        if "preview" in request.POST:  # what the criteria would add, stored nowhere: the form stays filled
            preview = breach.breach_affected_preview(**criteria)
            return _detail(request, incident_id, affected_form=form, preview=preview)
        added = breach.breach_affected_add(**criteria)
    except DomainError as refused:
        if refused.code in (BreachError.NOT_FOUND, BreachError.CLOSED):
            messages.error(request, _refused_text(refused))
            return _back(incident_id, "affected")
        _refused_on_fields(form, refused)
        return _detail(request, incident_id, affected_form=form, status=422)
    text = _("Members added: %(n)d.") % {"n": added.added}
    skipped = _skipped_text(added.erased, added.unknown)
    if skipped:
        messages.warning(request, f"{text} {skipped}")
    else:
        messages.success(request, text)
    return _back(incident_id, "affected")


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def notice_save(request: HttpRequest, incident_id: int) -> HttpResponse:
    form = NoticeForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(incident_id, "notice")
    try:
        breach.breach_notice_update(incident_id=incident_id, parts=form.cleaned_data, actor=request.actor)
    except DomainError as refused:
        messages.error(request, _refused_text(refused))
    else:
        messages.success(request, _("Notice saved."))
    return _back(incident_id, "notice")


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def notice_send(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        sent = breach.breach_notice_send(incident_id=incident_id, actor=request.actor)
    except DomainError as refused:
        messages.error(request, _refused_text(refused))
    else:
        text = _("Notice queued for %(queued)d members (%(total)d notified in all).") % {
            "queued": sent.queued,
            "total": sent.total,
        }
        if sent.skipped:
            messages.warning(request, f"{text} {_skipped_text(sent.skipped, 0)}")
        else:
            messages.success(request, text)
    return _back(incident_id, "notice")


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def compensation_plan(request: HttpRequest, incident_id: int) -> HttpResponse:
    form = PlanForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(incident_id, "compensation")
    try:
        compensation.breach_compensation_plan(
            incident_id=incident_id, actor=request.actor, **form.cleaned_data
        )
    except DomainError as refused:
        messages.error(request, _refused_text(refused))
    else:
        messages.success(request, _("Compensation chosen."))
    return _back(incident_id, "compensation")


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def compensate(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        result = compensation.breach_compensate(incident_id=incident_id, actor=request.actor, batch_size=1000)
    except DomainError as refused:
        messages.error(request, _refused_text(refused))
        return _back(incident_id, "compensation")
    text = _("Compensation given to %(issued)d members; %(refused)d could not receive it; %(remaining)d remain.") % {
        "issued": result.issued, "refused": result.refused, "remaining": result.remaining,
    }  # fmt: skip
    if result.skipped:
        text = f"{text} {_skipped_text(result.skipped, 0)}"
    if result.stopped:
        from yunying.core.errors import message_for

        messages.warning(request, f"{text} {message_for(result.stopped)}")
    elif result.skipped:
        messages.warning(request, text)
    else:
        messages.success(request, text)
    return _back(incident_id, "compensation")


@operator_required(Perm.BREACH_MANAGE)
@require_POST
def incident_close(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        breach.breach_close(incident_id=incident_id, actor=request.actor)
    except DomainError as refused:
        messages.error(request, _refused_text(refused))
    else:
        messages.success(request, _("Incident closed."))
    return _back(incident_id)


@operator_required(Perm.BREACH_VIEW)
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        incident = breach.breach_get(incident_id)
    except DomainError as missing:
        raise Http404 from missing
    draft = breach_report_draft(incident)
    if request.method == "POST":
        if not request.actor.can(Perm.BREACH_MANAGE):
            return forbidden(request, permission=str(Perm.BREACH_MANAGE))
        form = ReportForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["text"]
            try:
                breach.breach_report_save(
                    incident_id=incident_id,
                    text="" if text.strip() == draft.strip() else text,
                    actor=request.actor,
                )
            except DomainError as refused:
                messages.error(request, _refused_text(refused))
            else:
                messages.success(request, _("Report saved."))
        return redirect("console:breach_report", incident_id=incident_id)
    text = incident.report_text or draft
    if request.GET.get("format") == "text":
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="breach-{incident.pk}-report.txt"'
        return response
    context = {
        "section": "breach",
        "incident": incident,
        "facts": breach_report_facts(incident),
        "text": text,
        "edited": bool(incident.report_text),
        "form": ReportForm(initial={"text": text}),
        "can_manage": request.actor.can(Perm.BREACH_MANAGE),
    }
    return render(request, "console/breach/report.html", context)


urlpatterns = [
    path("breach/", incident_list, name="breach_list"),
    path("breach/<int:incident_id>/", incident_detail, name="breach_detail"),
    path("breach/<int:incident_id>/steps/<int:step_id>/assign/", step_assign, name="breach_step_assign"),
    path("breach/<int:incident_id>/steps/<int:step_id>/done/", step_done, name="breach_step_done"),
    path("breach/<int:incident_id>/facts/", facts_save, name="breach_facts"),
    path("breach/<int:incident_id>/affected/", affected_add, name="breach_affected"),
    path("breach/<int:incident_id>/notice/", notice_save, name="breach_notice"),
    path("breach/<int:incident_id>/notice/send/", notice_send, name="breach_notice_send"),
    path("breach/<int:incident_id>/compensation/", compensation_plan, name="breach_compensation"),
    path("breach/<int:incident_id>/compensate/", compensate, name="breach_compensate"),
    path("breach/<int:incident_id>/close/", incident_close, name="breach_close"),
    path("breach/<int:incident_id>/report/", report, name="breach_report"),
]
