"""The console's campaign forms: they parse what the operator typed into the values the campaign
services take (the same dict the API builds from its schema) and put the services' field errors back
on the fields. No rule lives here: what makes a campaign valid is checked by campaigns.services."""

from __future__ import annotations

import contextlib
import re
from datetime import date
from decimal import Decimal
from typing import Any, get_args

from django import forms
from django.utils.translation import gettext_lazy as _

from yunying.analytics.selectors import segment_list
from yunying.campaigns.definition_messages import VALUE_ERRORS
from yunying.campaigns.models import AdmissionMode, CampaignStatus, CampaignType, Channel, ReviewMode
from yunying.campaigns.questions import QuestionType
from yunying.campaigns.services.lifecycle import NOTIFY_CHANNELS
from yunying.console.fields import (
    AsciiDecimalField,
    AsciiIntegerField,
    LocalDateField,
    LocalDateTimeField,
)
from yunying.core.validation_messages import validation_message
from yunying.loyalty.tiers import levels as tier_levels
from yunying.members.models import Gender

# The labels operators read, from the models' own (translated) choices: one source.
TYPE_LABELS = dict(CampaignType.choices)
STATUS_LABELS = dict(CampaignStatus.choices)
STATUS_BADGES = {
    CampaignStatus.DRAFT: "text-bg-secondary",
    CampaignStatus.PUBLISHED: "text-bg-success",
    CampaignStatus.CLOSED: "text-bg-warning",
    CampaignStatus.FINISHED: "text-bg-dark",
    CampaignStatus.CANCELLED: "text-bg-danger",
}
REVIEW_LABELS = dict(ReviewMode.choices)
ADMISSION_LABELS = dict(AdmissionMode.choices)
CHANNEL_LABELS = dict(Channel.choices)
NOTIFY_LABELS = {"sms": _("SMS"), "email": _("E-mail"), "push": _("Push notification")}
QUESTION_TYPE_LABELS = {
    "text": _("Text"),
    "single_choice": _("Single choice"),
    "multi_choice": _("Multiple choice"),
    "phone": _("Phone number"),
    "address": _("Address"),
    "date": _("Date"),
    "consent": _("Consent"),
}
GENDER_LABELS = dict(Gender.choices)


def _choices(values, labels) -> list[tuple[str, Any]]:
    return [(str(v), labels.get(v, str(v))) for v in values]


def label_of(labels: dict, value: str) -> str:
    return str(labels.get(value, value))


class ErrorsFromService:
    """Put a service's FieldErrors ({"field": "a.b.c", "message": …}) on this form's fields."""

    # service field path (first part) → form field; unknown ones become errors of the whole form
    service_fields: dict[str, str] = {}

    def add_service_errors(self, errors: list[dict]) -> list[dict]:
        """Add what belongs here; return the errors this form has no field for."""
        rest = []
        for error in errors:
            name = self.field_for(str(error.get("field", "")))
            if name is None:
                rest.append(error)
            else:
                message = service_message(error.get("message", ""))
                if name not in self.errors or message not in self.errors[name]:
                    self.add_error(name if name in self.fields else None, message)
        return rest

    def field_for(self, path: str) -> str | None:
        head = path.split(".")[0]
        for prefix, name in sorted(self.service_fields.items(), key=lambda kv: -len(kv[0])):
            if path == prefix or path.startswith(prefix + "."):
                return name
        return head if head in self.fields else None


# ---- step 1: basics -------------------------------------------------------------------------------


class BasicsForm(ErrorsFromService, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    theme = forms.CharField(label=_("Theme"), max_length=200, required=False)
    type = forms.ChoiceField(label=_("Type"))
    description = forms.CharField(
        label=_("Description"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    rules_text = forms.CharField(
        label=_("Rules"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to members before they sign up; required to publish."),
    )
    reward_description = forms.CharField(
        label=_("Reward"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    signup_start_at = LocalDateTimeField(label=_("Sign-up opens"))
    signup_end_at = LocalDateTimeField(label=_("Sign-up closes"))
    event_start_at = LocalDateTimeField(label=_("Event starts"))
    event_end_at = LocalDateTimeField(label=_("Event ends"))
    # Bounded only so a typing slip cannot overflow the column; the service decides what is valid.
    capacity = AsciiIntegerField(label=_("Capacity (seats)"), max_value=10_000_000, min_value=-10_000_000)
    waitlist_enabled = forms.BooleanField(label=_("Waiting list when full"), required=False)
    review_mode = forms.ChoiceField(label=_("Review"))
    admission_mode = forms.ChoiceField(label=_("Admission"))
    channels = forms.MultipleChoiceField(
        label=_("Sign-up channels"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _choices(CampaignType.values, TYPE_LABELS)
        self.fields["review_mode"].choices = _choices(ReviewMode.values, REVIEW_LABELS)
        self.fields["admission_mode"].choices = _choices(AdmissionMode.values, ADMISSION_LABELS)
        self.fields["channels"].choices = _choices(Channel.values, CHANNEL_LABELS)

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


BASICS_FIELDS = list(BasicsForm.base_fields)


# ---- step 2: the sign-up form's questions ---------------------------------------------------------

QUESTION_TYPES = list(get_args(QuestionType))


class QuestionForm(ErrorsFromService, forms.Form):
    key = forms.CharField(
        label=_("Key"), max_length=100, help_text=_("Lower-case letters, digits and _; starts with a letter.")
    )
    label = forms.CharField(label=_("Question"), max_length=1000)
    type = forms.ChoiceField(label=_("Answer type"))
    required = forms.BooleanField(label=_("Answer required"), required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=1000, required=False)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Choice questions: one option a line, as value=label (or just the label)."),
    )
    max_length = AsciiIntegerField(
        label=_("Longest answer (characters)"), required=False, min_value=-(10**9), max_value=10**9
    )
    min_choices = AsciiIntegerField(
        label=_("Fewest choices"), required=False, min_value=-(10**9), max_value=10**9
    )
    max_choices = AsciiIntegerField(
        label=_("Most choices"), required=False, min_value=-(10**9), max_value=10**9
    )
    min_date = LocalDateField(label=_("Earliest date"), required=False)
    max_date = LocalDateField(label=_("Latest date"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _choices(QUESTION_TYPES, QUESTION_TYPE_LABELS)

    def field_for(self, path: str) -> str | None:
        # "form.3.options.0.value" → "options"; "form.3" (the question as a whole) → None (form error)
        parts = path.split(".")
        if len(parts) >= 3 and parts[2] in self.fields:
            return parts[2]
        return "__all__"

    def question(self) -> dict[str, Any]:
        """The question as the service reads it; empty inputs leave the service's defaults."""
        data = self.cleaned_data
        question: dict[str, Any] = {
            "key": data["key"].strip(),
            "label": data["label"].strip(),
            "type": data["type"],
            "required": bool(data.get("required")),
        }
        if data.get("help_text"):
            question["help_text"] = data["help_text"].strip()
        if data.get("options", "").strip():
            question["options"] = options_parse(data["options"])
        for name in ("max_length", "min_choices", "max_choices"):
            if data.get(name) is not None:
                question[name] = data[name]
        for name in ("min_date", "max_date"):
            if data.get(name) is not None:
                question[name] = data[name].isoformat()
        return question

    @staticmethod
    def initial_for(question: dict[str, Any]) -> dict[str, Any]:
        initial = {k: v for k, v in question.items() if k != "options"}
        initial["options"] = options_text(question.get("options") or [])
        for name in ("min_date", "max_date"):
            if isinstance(initial.get(name), str):
                with contextlib.suppress(ValueError):
                    initial[name] = date.fromisoformat(initial[name])
        return initial


def options_parse(text: str) -> list[dict[str, str]]:
    options = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        value, sep, label = line.partition("=")
        value, label = value.strip(), label.strip()
        options.append({"value": value, "label": label} if sep else {"value": line, "label": line})
    return options


def options_text(options: list[dict[str, Any]]) -> str:
    lines = []
    for option in options:
        value, label = str(option.get("value", "")), str(option.get("label", ""))
        lines.append(value if value == label else f"{value}={label}")
    return "\n".join(lines)


QuestionFormSet = forms.formset_factory(QuestionForm, extra=0, max_num=50, absolute_max=60, validate_max=True)


# ---- step 3: eligibility --------------------------------------------------------------------------


def _codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,，;；]+", text or "") if code]


def _yuan(fen: int | None) -> Decimal | None:
    """Integer fen as yuan, exactly, always with two decimals (19990 -> 199.90)."""
    return None if fen is None else Decimal(fen).scaleb(-2)


class EligibilityForm(ErrorsFromService, forms.Form):
    min_age = AsciiIntegerField(label=_("Minimum age"), required=False, min_value=-(10**9), max_value=10**9)
    max_age = AsciiIntegerField(label=_("Maximum age"), required=False, min_value=-(10**9), max_value=10**9)
    genders = forms.MultipleChoiceField(
        label=_("Genders allowed"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: open to every gender."),
    )
    regions_allow = forms.CharField(
        label=_("Only these regions"),
        required=False,
        max_length=5000,
        help_text=_("GB/T 2260 codes (6 digits), separated by spaces or commas; empty: anywhere."),
    )
    regions_deny = forms.CharField(
        label=_("Not these regions"),
        required=False,
        max_length=5000,
        help_text=_("GB/T 2260 codes (6 digits)."),
    )
    limit_count = AsciiIntegerField(
        label=_("At most this many sign-ups"), required=False, min_value=-(10**9), max_value=10**9
    )
    limit_period_days = AsciiIntegerField(
        label=_("…within this many days"),
        required=False,
        min_value=-(10**9),
        max_value=10**9,
        help_text=_("Sign-ups for any campaign; empty: no limit."),
    )
    # Purchases (order facts). Operators think in yuan; the rule stores integer fen (Decimal, no float).
    min_paid_yuan = AsciiDecimalField(
        label=_("Spent at least (yuan)"),
        required=False,
        min_value=-(10**9),
        max_value=10**9,
        decimal_places=2,
        help_text=_("Paid net of refunds; cancelled orders do not count."),
    )
    min_orders = AsciiIntegerField(
        label=_("At least this many orders"), required=False, min_value=-(10**9), max_value=10**9
    )
    purchase_period_days = AsciiIntegerField(
        label=_("…in the last this many days"),
        required=False,
        min_value=-(10**9),
        max_value=10**9,
        help_text=_("Empty: all orders ever."),
    )
    first_order_only = forms.BooleanField(
        label=_("New customers only (no order yet)"),
        required=False,
        help_text=_("Members who already ordered are refused. Not together with the two above."),
    )
    required_answers = forms.CharField(
        label=_("Required answers"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One a line: question key = allowed answers separated by commas, e.g. city = sh, bj"),
    )
    # Segment membership (M5), as at each segment's last recompute.
    segments_in = forms.TypedMultipleChoiceField(
        label=_("Only members of these segments"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: members of any segment or none."),
    )
    segments_not_in = forms.TypedMultipleChoiceField(
        label=_("Not members of these segments"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    min_tier_rank = forms.TypedChoiceField(
        label=_("Only members of this level or higher"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Member levels are set under Member tiers."),
    )

    service_fields = {
        "eligibility.min_tier_rank": "min_tier_rank",
        "eligibility.min_age": "min_age",
        "eligibility.max_age": "max_age",
        "eligibility.genders": "genders",
        "eligibility.regions_allow": "regions_allow",
        "eligibility.regions_deny": "regions_deny",
        "eligibility.participation_limit.count": "limit_count",
        "eligibility.participation_limit.period_days": "limit_period_days",
        "eligibility.participation_limit": "limit_count",
        "eligibility.required_answers": "required_answers",
        "eligibility.min_paid_fen": "min_paid_yuan",
        "eligibility.min_orders": "min_orders",
        "eligibility.purchase_period_days": "purchase_period_days",
        "eligibility.first_order_only": "first_order_only",
        "eligibility.segments_in": "segments_in",
        "eligibility.segments_not_in": "segments_not_in",
        "eligibility": "__all__",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["genders"].choices = _choices(["male", "female", "unknown"], GENDER_LABELS)
        segments = [(s.pk, s.name) for s in segment_list()]
        self.fields["segments_in"].choices = segments
        self.fields["segments_not_in"].choices = segments
        self.fields["min_tier_rank"].choices = [("", _("Any level"))] + [
            (level.rank, level.name) for level in tier_levels() if level.rank > 0
        ]

    def clean_min_paid_yuan(self):
        # The service counts in fen ("1 or more"): say it in the yuan the operator typed.
        value = self.cleaned_data.get("min_paid_yuan")
        if value is not None and value <= 0:
            raise forms.ValidationError(_("Enter an amount above 0."))
        return value

    def rules(self) -> dict[str, Any]:
        """The rules as the service reads them (what EligibilityRules parses)."""
        data = self.cleaned_data
        rules: dict[str, Any] = {}
        for name in ("min_age", "max_age"):
            if data.get(name) is not None:
                rules[name] = data[name]
        if data.get("genders"):
            rules["genders"] = list(data["genders"])
        if _codes(data.get("regions_allow", "")):
            rules["regions_allow"] = _codes(data["regions_allow"])
        if _codes(data.get("regions_deny", "")):
            rules["regions_deny"] = _codes(data["regions_deny"])
        count, days = data.get("limit_count"), data.get("limit_period_days")
        if count is not None or days is not None:
            rules["participation_limit"] = {
                k: v for k, v in (("count", count), ("period_days", days)) if v is not None
            }
        required = []
        for line in (data.get("required_answers") or "").splitlines():
            if not line.strip():
                continue
            question, _sep, allowed = line.partition("=")
            required.append({"question": question.strip(), "allowed": _codes(allowed)})
        if required:
            rules["required_answers"] = required
        if data.get("min_paid_yuan") is not None:
            rules["min_paid_fen"] = int(data["min_paid_yuan"] * 100)  # exact: at most 2 decimal places
        for name in ("min_orders", "purchase_period_days"):
            if data.get(name) is not None:
                rules[name] = data[name]
        if data.get("first_order_only"):
            rules["first_order_only"] = True
        for name in ("segments_in", "segments_not_in"):
            if data.get(name):
                rules[name] = list(data[name])
        if data.get("min_tier_rank"):
            rules["min_tier_rank"] = data["min_tier_rank"]
        return rules

    @staticmethod
    def initial_for(rules: dict[str, Any]) -> dict[str, Any]:
        limit = rules.get("participation_limit") or {}
        return {
            "min_age": rules.get("min_age"),
            "max_age": rules.get("max_age"),
            "genders": rules.get("genders") or [],
            "regions_allow": " ".join(rules.get("regions_allow") or []),
            "regions_deny": " ".join(rules.get("regions_deny") or []),
            "limit_count": limit.get("count"),
            "limit_period_days": limit.get("period_days"),
            "min_paid_yuan": _yuan(rules.get("min_paid_fen")),
            "min_orders": rules.get("min_orders"),
            "purchase_period_days": rules.get("purchase_period_days"),
            "first_order_only": bool(rules.get("first_order_only")),
            "required_answers": "\n".join(
                f"{r.get('question', '')} = {', '.join(r.get('allowed') or [])}"
                for r in rules.get("required_answers") or []
            ),
            "segments_in": rules.get("segments_in") or [],
            "segments_not_in": rules.get("segments_not_in") or [],
            "min_tier_rank": rules.get("min_tier_rank"),
        }


# ---- step 4: notifications ------------------------------------------------------------------------


class NotificationsForm(ErrorsFromService, forms.Form):
    notify_channels = forms.MultipleChoiceField(
        label=_("Tell members by"), required=False, widget=forms.CheckboxSelectMultiple
    )
    # The same bound the API's schema sets (a month), and no more: the column cannot hold 10^20.
    reminder_hours_before = AsciiIntegerField(
        label=_("Reminder, hours before the event"),
        min_value=0,
        max_value=24 * 30,
        help_text=_("0: no reminder."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notify_channels"].choices = _choices(sorted(NOTIFY_CHANNELS), NOTIFY_LABELS)

    def values(self) -> dict[str, Any]:
        return {
            "notify_channels": list(self.cleaned_data["notify_channels"]),
            "reminder_hours_before": self.cleaned_data["reminder_hours_before"],
        }


# ---- the list ----------------------------------------------------------------------------------------


class CampaignFilterForm(forms.Form):
    q = forms.CharField(label=_("Title contains"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("State"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False)
    date_from = LocalDateField(label=_("Running from"), required=False)
    date_to = LocalDateField(label=_("Running until"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        self.fields["status"].choices = anything + _choices(CampaignStatus.values, STATUS_LABELS)
        self.fields["type"].choices = anything + _choices(CampaignType.values, TYPE_LABELS)

    def selector_filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data.get("q") or None,
            "status": data.get("status") or None,
            "type": data.get("type") or None,
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name of this filter"), max_length=60)
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)


class BulkForm(forms.Form):
    ACTIONS = ("close", "cancel", "copy", "delete", "publish")
    action = forms.ChoiceField(label=_("With the ticked campaigns"))
    reason = forms.CharField(label=_("Reason (cancelling)"), required=False, max_length=500)

    def __init__(self, *args, allowed: set[str] | None = None, **kwargs):
        """`allowed`: the actions the operator's role may take (the others are not offered)."""
        super().__init__(*args, **kwargs)
        choices = [
            ("close", _("Close sign-up")),
            ("cancel", _("Cancel (members are told)")),
            ("copy", _("Copy into new drafts")),
            ("delete", _("Delete drafts")),
            ("publish", _("Publish drafts")),
        ]
        self.fields["action"].choices = [c for c in choices if allowed is None or c[0] in allowed]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (members are told)"), required=False, max_length=500)


class ExtendForm(forms.Form):
    signup_end_at = LocalDateTimeField(label=_("New sign-up deadline"))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


# ---- the services' definition messages, in the operator's language -------------------------------
# The campaign definition is parsed by pydantic models in campaigns (questions.py, eligibility.py),
# whose messages are English; the console shows them translated. Only the wording changes here: an
# unknown message is shown as the service wrote it.


def service_message(message: str) -> str:
    """A service's field message in the operator's language (as it came when no translation fits)."""
    text = str(message)
    plain = text.removeprefix("Value error, ")
    if plain in VALUE_ERRORS:
        return str(VALUE_ERRORS[plain])
    return validation_message(text)
