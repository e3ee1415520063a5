"""The member pages' forms. They only parse what the browser sent into the shapes the services take;
every rule (answers, profile, codes) is the services' own, so the pages and the API judge alike."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yunying.campaigns.questions import Question
from yunying.members.models import Gender
from yunying.members.regions import CITIES, PROVINCES

CHECK = {"class": "form-check-input"}  # each box of a choice list (the field tag styles single widgets)
PHONE_ATTRS = {"type": "tel", "inputmode": "tel", "autocomplete": "tel", "maxlength": "32"}


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone number"), max_length=32, widget=forms.TextInput(PHONE_ATTRS)
    )


class CodeForm(forms.Form):
    phone = forms.CharField(max_length=32, widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("6-digit code from the SMS"),
        max_length=12,
        widget=forms.TextInput(
            {
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "maxlength": "12",
                "pattern": "[0-9０-９ ]*",
            }
        ),
    )


class ConsentForm(forms.Form):
    version = forms.CharField(max_length=20, widget=forms.HiddenInput)
    accept = forms.BooleanField(
        label=_("I have read the privacy notice and agree to it"),
        error_messages={"required": _("Tick this box to continue: we collect nothing before you agree.")},
    )
    # Separate and unticked (M3): neither is needed to sign up.
    marketing = forms.BooleanField(
        required=False, label=_("Send me news and offers (optional; you can change this any time)")
    )
    analytics = forms.BooleanField(
        required=False,
        label=_("Use how I use the service to improve it (analytics; optional)"),
    )
    sensitive = forms.BooleanField(
        required=False,
        label=_("I agree that campaigns may ask for sensitive personal information (optional)"),
        help_text=_("For example health details for a sports event; only when a campaign asks for them."),
    )


class ConsentChangeForm(forms.Form):
    """One tap on the privacy page: grant or withdraw one purpose."""

    purpose = forms.CharField(max_length=20)
    granted = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


class IdentityCheckForm(forms.Form):
    """The real-name check: name and identity number as on the card (members.identity checks them)."""

    name = forms.CharField(max_length=40, strip=True)
    number = forms.CharField(max_length=24, strip=True)


class ProfileQuestionsForm(forms.Form):
    """The pending questions of a moment (members.profiling), one field each (q<id>). Nothing is
    required: an empty answer is not stored; "skip" declines the questions shown."""

    def __init__(self, *args, questions: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = self._field(question)

    @staticmethod
    def _field(question) -> forms.Field:
        common = {"label": question.prompt, "required": False, "help_text": question.why}
        if question.kind == "choice":
            if question.target == "gender":
                options = [(Gender.MALE.value, Gender.MALE.label), (Gender.FEMALE.value, Gender.FEMALE.label)]
            else:
                options = [(c, c) for c in question.choices]
            return forms.ChoiceField(choices=options, widget=forms.RadioSelect(CHECK), **common)
        if question.kind == "date":
            return forms.CharField(max_length=10, widget=forms.DateInput({"type": "date"}), **common)
        if question.kind == "region":
            return forms.ChoiceField(choices=region_choices(), **common)
        return forms.CharField(max_length=200, **common)

    def answers(self) -> dict[int, str]:
        """{question id: raw answer} of the questions answered (blank ones left out)."""
        return {
            q.pk: str(self.cleaned_data.get(f"q{q.pk}") or "")
            for q in self.questions
            if self.cleaned_data.get(f"q{q.pk}")
        }


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, withdraw my sign-up"),
        error_messages={"required": _("Tick this box to confirm.")},
    )


def region_choices() -> list:
    """Provinces, each followed by its larger cities (GB/T 2260), as grouped options."""
    groups: list = [("", _("Choose…"))]
    for code, name in PROVINCES.items():
        cities = [
            (c, f"{name} · {label}") for c, label in CITIES.items() if c[:2] == code[:2] and label != name
        ]
        groups.append((name, [(code, name), *cities]))
    return groups


def _choices_widget(question: Question, *, multiple: bool) -> forms.Widget:
    options = [(o.value, o.label) for o in question.options]
    if multiple:
        return forms.CheckboxSelectMultiple(CHECK, choices=options)
    if len(options) <= 6:
        return forms.RadioSelect(CHECK, choices=options)
    return forms.Select(choices=[("", _("Choose…")), *options])


class _AnyField(forms.Field):
    """Takes the widget's value as it is (a list for checkboxes): the answer rules judge it."""


class SignupForm(forms.Form):
    """A campaign's questions, plus the profile facts its eligibility rules read (birth date, gender,
    region), so a refusal can name every reason from what the member stated. No field here has a
    rule of its own: answers_validate and member_prepare judge, as for the API."""

    form_fill_ms = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)
    utm_source = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    utm_medium = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    utm_campaign = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, questions: list[Question], profile: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.profile = profile
        for name in profile:
            self.fields[f"profile_{name}"] = self._profile_field(name)
        for question in questions:
            for name, field in self._question_fields(question):
                self.fields[name] = field

    @staticmethod
    def _profile_field(name: str) -> forms.Field:
        if name == "birth_date":
            return forms.CharField(
                required=False, label=_("Date of birth"), widget=forms.DateInput({"type": "date"})
            )
        if name == "gender":
            choices = [(Gender.FEMALE, _("Female")), (Gender.MALE, _("Male"))]
            return forms.CharField(
                required=False, label=_("Gender"), widget=forms.RadioSelect(CHECK, choices=choices)
            )
        return forms.CharField(
            required=False, label=_("Where you live"), widget=forms.Select(choices=region_choices())
        )

    @staticmethod
    def _question_fields(q: Question) -> list[tuple[str, forms.Field]]:
        # No rule here (required=False): the answer rules decide. The mark and aria-required tell.
        label = f"{q.label} *" if q.required else q.label
        common = {"required": False, "label": label, "help_text": q.help_text}
        if q.type == "text":
            widget = (
                forms.Textarea({"rows": 3, "maxlength": q.max_length})
                if q.max_length > 200
                else forms.TextInput({"maxlength": q.max_length})
            )
            fields = [(q.key, forms.CharField(strip=False, widget=widget, **common))]
        elif q.type in ("single_choice", "multi_choice"):
            widget = _choices_widget(q, multiple=q.type == "multi_choice")
            fields = [(q.key, _AnyField(widget=widget, **common))]
        elif q.type == "phone":
            fields = [(q.key, forms.CharField(widget=forms.TextInput(PHONE_ATTRS), **common))]
        elif q.type == "date":
            attrs = {"type": "date"}
            if q.min_date:
                attrs["min"] = q.min_date.isoformat()
            if q.max_date:
                attrs["max"] = q.max_date.isoformat()
            fields = [(q.key, forms.CharField(widget=forms.DateInput(attrs), **common))]
        elif q.type == "address":
            region = forms.CharField(widget=forms.Select(choices=region_choices()), **common)
            detail = forms.CharField(
                required=False,
                strip=False,
                label=_("Street address"),
                widget=forms.TextInput({"autocomplete": "street-address", "maxlength": 200}),
            )
            fields = [(f"{q.key}__region", region), (f"{q.key}__detail", detail)]
        else:
            fields = [(q.key, forms.BooleanField(**common))]  # consent
        if q.required:
            fields[0][1].widget.attrs["aria-required"] = "true"
        return fields

    def answers(self) -> dict[str, Any]:
        """The answers in the API's shapes (blank ones left out, as a client would)."""
        data = self.cleaned_data
        answers: dict[str, Any] = {}
        for q in self.questions:
            if q.type == "address":
                region, detail = data.get(f"{q.key}__region") or "", data.get(f"{q.key}__detail") or ""
                if region or detail.strip():
                    answers[q.key] = {"region_code": region, "detail": detail}
                continue
            value = data.get(q.key)
            if q.type == "consent":
                answers[q.key] = bool(value)
            elif value not in (None, "", []):
                answers[q.key] = value
        return answers

    def profile_values(self) -> dict[str, Any]:
        """Birth date, gender, region as stated; an unreadable date is reported by the caller."""
        data = self.cleaned_data
        values: dict[str, Any] = {}
        if data.get("profile_birth_date"):
            values["birth_date"] = date.fromisoformat(data["profile_birth_date"])
        if data.get("profile_gender"):
            values["gender"] = data["profile_gender"]
        if data.get("profile_region_code"):
            values["region_code"] = data["profile_region_code"]
        return values

    def field_for(self, path: str) -> str | None:
        """The form field a service's error path ("answers.q1", "birth_date") points at."""
        key = path.removeprefix("answers.")
        if key in self.fields:
            return key
        if f"{key}__region" in self.fields:
            return f"{key}__region"
        if f"profile_{key}" in self.fields:
            return f"profile_{key}"
        return None

    def profile_fields(self) -> list[forms.BoundField]:
        return [self[f"profile_{name}"] for name in self.profile]

    def question_rows(self) -> list[tuple[Question, list[forms.BoundField]]]:
        """Each question with its fields (an address has two), in the form's order."""
        rows = []
        for q in self.questions:
            names = [f"{q.key}__region", f"{q.key}__detail"] if q.type == "address" else [q.key]
            rows.append((q, [self[name] for name in names]))
        return rows
