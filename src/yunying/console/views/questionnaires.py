"""Profile questionnaires (M2): list, create and edit the short questionnaires members are asked after
sign-up, after their first order or in the member centre. Each question says which profile field or
attribute it fills and which consent purpose needs the answer; members.profiling judges every rule
(a question without a purpose is refused there) and audits the save as the operator."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yunying.console.access import operator_required
from yunying.console.fields import AsciiIntegerField
from yunying.console.paging import ID_MAX
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.members.models import ConsentPurpose, QuestionKind, QuestionnaireMoment
from yunying.members.profiling import (
    ATTR_PREFIX,
    FIELD_KINDS,
    MAX_QUESTIONS,
    QuestionSpec,
    questionnaire_get,
    questionnaire_list,
    questionnaire_save,
)

ATTRIBUTE = "attr"
TARGET_LABELS = {
    "gender": gettext_lazy("Profile: gender"),
    "birth_date": gettext_lazy("Profile: birth date"),
    "region_code": gettext_lazy("Profile: region"),
    ATTRIBUTE: gettext_lazy("Profile attribute (name it below)"),
}
EXTRA_ROWS = 3


class QuestionnaireForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Questionnaire name"), max_length=80)
    moment = forms.ChoiceField(label=gettext_lazy("Asked"), choices=QuestionnaireMoment.choices)
    active = forms.BooleanField(
        label=gettext_lazy("Active (members are asked)"), required=False, initial=True
    )


class QuestionForm(forms.Form):
    id = AsciiIntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=ID_MAX)
    prompt = forms.CharField(label=gettext_lazy("Question"), max_length=200, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=QuestionKind.choices)
    target = forms.ChoiceField(label=gettext_lazy("Fills"), choices=list(TARGET_LABELS.items()))
    attribute = forms.CharField(
        label=gettext_lazy("Attribute name"), max_length=40, required=False,
        help_text=gettext_lazy("Lower-case letters, digits and _, e.g. coffee_taste."),
    )  # fmt: skip
    purpose = forms.ChoiceField(
        label=gettext_lazy("Purpose that needs the answer"),
        choices=[("", "—"), *ConsentPurpose.choices],
        required=False,
    )
    why = forms.CharField(
        label=gettext_lazy("What it is used for (shown to the member)"), max_length=200, required=False
    )
    choices = forms.CharField(
        label=gettext_lazy("Options, one a line (choice questions)"), required=False,
        widget=forms.Textarea({"rows": 2}),
    )  # fmt: skip
    DELETE = forms.BooleanField(label=gettext_lazy("Remove"), required=False)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("id") or data.get("prompt") or data.get("why") or data.get("attribute"))

    def spec(self) -> QuestionSpec:
        data = self.cleaned_data
        target = data["target"]
        if target == ATTRIBUTE:
            target = f"{ATTR_PREFIX}{data.get('attribute', '').strip()}"
        return QuestionSpec(
            id=data.get("id"),
            kind=data["kind"],
            prompt=data.get("prompt", ""),
            target=target,
            purpose=data.get("purpose", ""),
            why=data.get("why", ""),
            choices=(data.get("choices") or "").splitlines(),
        )


QuestionFormSet = forms.formset_factory(
    QuestionForm, extra=0, max_num=MAX_QUESTIONS + EXTRA_ROWS, absolute_max=30
)
# Where a service error on a question's field is shown on its row.
FIELD_ON_ROW = {
    "target": "target",
    "kind": "kind",
    "prompt": "prompt",
    "purpose": "purpose",
    "why": "why",
    "choices": "choices",
}


@operator_required(Perm.PROFILING_EDIT)
@require_GET
def questionnaire_list_view(request: HttpRequest) -> HttpResponse:
    context = {
        "section": "questionnaires",
        "questionnaires": questionnaire_list(),
        "moment_labels": dict(QuestionnaireMoment.choices),
    }
    return render(request, "console/questionnaires/list.html", context)


def _initial_rows(questionnaire) -> list[dict]:
    rows = []
    for question in questionnaire.questions.all():
        is_field = question.target in FIELD_KINDS
        rows.append(
            {
                "id": question.pk, "prompt": question.prompt, "kind": question.kind,
                "target": question.target if is_field else ATTRIBUTE,
                "attribute": "" if is_field else question.target[len(ATTR_PREFIX) :],
                "purpose": question.purpose, "why": question.why, "choices": "\n".join(question.choices),
            }
        )  # fmt: skip
    return rows


@operator_required(Perm.PROFILING_EDIT)
@require_http_methods(["GET", "POST"])
def questionnaire_edit_view(request: HttpRequest, questionnaire_id: int | None = None) -> HttpResponse:
    questionnaire = None
    if questionnaire_id is not None:
        if questionnaire_id > ID_MAX:
            messages.error(request, _("Not found."))
            return redirect("console:questionnaire_list")
        try:
            questionnaire = questionnaire_get(questionnaire_id)
        except DomainError as missing:
            messages.error(request, missing.message)
            return redirect("console:questionnaire_list")
    if request.method == "POST":
        form = QuestionnaireForm(request.POST)
        rows = QuestionFormSet(request.POST, prefix="q")
        if form.is_valid() and rows.is_valid():
            saved = _save(request, form, rows, questionnaire_id)
            if saved is not None:
                messages.success(request, _("Questionnaire “%(name)s” saved.") % {"name": saved.name})
                return redirect("console:questionnaire_list")
    else:
        if questionnaire is None:
            form = QuestionnaireForm()
            initial = []
        else:
            form = QuestionnaireForm(
                initial={
                    "name": questionnaire.name,
                    "moment": questionnaire.moment,
                    "active": questionnaire.active,
                }
            )
            initial = _initial_rows(questionnaire)
        blank = {"kind": QuestionKind.TEXT, "target": ATTRIBUTE}
        rows = QuestionFormSet(initial=initial + [blank] * EXTRA_ROWS, prefix="q")
    context = {"section": "questionnaires", "form": form, "rows": rows, "questionnaire": questionnaire}
    return render(request, "console/questionnaires/edit.html", context)


def _save(request: HttpRequest, form: QuestionnaireForm, rows, questionnaire_id: int | None):
    """Call the service with the rows kept; place each refusal on the row and field it names."""
    kept = [row for row in rows.forms if not row.cleaned_data.get("DELETE") and not row.is_blank()]
    try:
        return questionnaire_save(
            actor=request.actor,
            questionnaire_id=questionnaire_id,
            name=form.cleaned_data["name"],
            moment=form.cleaned_data["moment"],
            active=form.cleaned_data["active"],
            questions=[row.spec() for row in kept],
        )
    except ValidationFailed as failed:
        for error in failed.errors:
            parts = error["field"].split(".")
            if (
                len(parts) == 3
                and parts[0] == "questions"
                and ascii_digits(parts[1])
                and int(parts[1]) < len(kept)
            ):
                row = kept[int(parts[1])]
                field = (
                    "attribute"
                    if parts[2] == "target" and row.cleaned_data["target"] == ATTRIBUTE
                    else parts[2]
                )
                row.add_error(
                    FIELD_ON_ROW.get(field, field) if field in row.fields else None, error["message"]
                )
            elif error["field"] in form.fields:
                form.add_error(error["field"], error["message"])
            else:
                form.add_error(None, error["message"])
    except DomainError as err:
        form.add_error(None, err.message)
    return None


urlpatterns = [
    path("questionnaires/", questionnaire_list_view, name="questionnaire_list"),
    path("questionnaires/new/", questionnaire_edit_view, name="questionnaire_create"),
    path("questionnaires/<int:questionnaire_id>/", questionnaire_edit_view, name="questionnaire_edit"),
]
