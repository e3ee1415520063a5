"""The segment builder's form: common conditions as fields, turned into the rule data that
analytics.rules validates (one flat all/any group); anything richer (nested groups, "not") in the
advanced JSON box, which then stands for the whole rule."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.analytics.models import Lifecycle
from yunying.analytics.selectors import segment_list
from yunying.console.fields import AsciiDecimalField, AsciiIntegerField, LocalDateField

GENDER_CHOICES = [("male", _("Male")), ("female", _("Female")), ("unknown", _("Unknown"))]
SCORE_CHOICES = [("", "—")] + [(str(n), str(n)) for n in range(1, 6)]
FEN_PER_YUAN = 100


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,，;；]+", text or "") if w]


def _range(field: str, low, high) -> list[dict]:
    if low is None and high is None:
        return []
    return [
        {
            "field": field,
            **({"min": low} if low is not None else {}),
            **({"max": high} if high is not None else {}),
        }
    ]


class SegmentForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("what something is called", "Name"), max_length=60)
    description = forms.CharField(label=_("About this segment"), max_length=200, required=False)
    tag_name = forms.CharField(
        label=_("Rule-based tag"),
        max_length=40,
        required=False,
        help_text=_("Optional: members of this segment carry this tag after each recompute."),
    )
    match = forms.ChoiceField(
        label=_("Members must match"),
        choices=[("all", _("all of the conditions")), ("any", _("any of the conditions"))],
        initial="all",
    )
    lifecycle = forms.MultipleChoiceField(
        label=_("Lifecycle stage"),
        required=False,
        choices=Lifecycle.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    r_min = forms.TypedChoiceField(
        label=_("R score at least"), required=False, choices=SCORE_CHOICES, coerce=int, empty_value=None
    )
    f_min = forms.TypedChoiceField(
        label=_("F score at least"), required=False, choices=SCORE_CHOICES, coerce=int, empty_value=None
    )
    m_min = forms.TypedChoiceField(
        label=_("M score at least"), required=False, choices=SCORE_CHOICES, coerce=int, empty_value=None
    )
    days_min = AsciiIntegerField(
        label=_("Days since last order, at least"), required=False, min_value=0, max_value=36600
    )
    days_max = AsciiIntegerField(
        label=_("Days since last order, at most"), required=False, min_value=0, max_value=36600
    )
    orders_min = AsciiIntegerField(label=_("Orders, at least"), required=False, min_value=0, max_value=10**9)
    orders_max = AsciiIntegerField(label=_("Orders, at most"), required=False, min_value=0, max_value=10**9)
    net_min_yuan = AsciiDecimalField(
        label=_("Net paid at least (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    age_min = AsciiIntegerField(label=_("Age at least"), required=False, min_value=0, max_value=150)
    age_max = AsciiIntegerField(label=_("Age at most"), required=False, min_value=0, max_value=150)
    regions = forms.CharField(
        label=_("Regions"),
        required=False,
        max_length=2000,
        help_text=_("Code prefixes: 33 is Zhejiang, 3301 Hangzhou, or a 6-digit code; separated by spaces."),
    )
    genders = forms.MultipleChoiceField(
        label=_("Gender"), required=False, choices=GENDER_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    channels = forms.CharField(label=_("Source channels"), required=False, max_length=500)
    tags = forms.CharField(label=_("Has any of these tags"), required=False, max_length=500)
    registered_since = LocalDateField(label=_("Registered on or after"), required=False)
    in_segments = forms.TypedMultipleChoiceField(
        label=_("In segment"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    rules_json = forms.CharField(
        label=_("Advanced: the rule as JSON"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace", "spellcheck": "false"}),
        help_text=_("When filled, it is the whole rule and the fields above are ignored (docs/segments.md)."),
    )

    def __init__(self, *args, exclude_segment: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["in_segments"].choices = [
            (s.pk, s.name) for s in segment_list() if s.pk != exclude_segment
        ]

    def clean_rules_json(self):
        text = self.cleaned_data["rules_json"].strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise forms.ValidationError(_("This is not valid JSON.")) from None

    def rules(self) -> dict[str, Any]:
        """The rule data (analytics.rules); call after is_valid()."""
        data = self.cleaned_data
        if data.get("rules_json") is not None:
            return data["rules_json"]
        conditions: list[dict] = []
        if data.get("lifecycle"):
            conditions.append({"field": "lifecycle", "values": list(data["lifecycle"])})
        for score in ("r", "f", "m"):
            if data.get(f"{score}_min") is not None:
                conditions.append({"field": f"{score}_score", "min": data[f"{score}_min"]})
        conditions += _range("days_since_last_order", data.get("days_min"), data.get("days_max"))
        conditions += _range("order_count", data.get("orders_min"), data.get("orders_max"))
        if data.get("net_min_yuan") is not None:
            fen = int((data["net_min_yuan"] * FEN_PER_YUAN).to_integral_value())
            conditions.append({"field": "net_paid_fen", "min": fen})
        conditions += _range("age", data.get("age_min"), data.get("age_max"))
        for field, key in (("region", "regions"), ("source_channel", "channels"), ("tag", "tags")):
            if _words(data.get(key, "")):
                conditions.append({"field": field, "values": _words(data[key])})
        if data.get("genders"):
            conditions.append({"field": "gender", "values": list(data["genders"])})
        if data.get("registered_since"):
            conditions.append({"field": "registered", "since": data["registered_since"].isoformat()})
        conditions += [{"field": "segment", "segment_id": pk} for pk in data.get("in_segments") or []]
        return {"match": data.get("match") or "all", "conditions": conditions}

    @staticmethod
    def initial_for(segment) -> dict[str, Any]:
        """The form's fields for a saved segment; a rule the fields cannot show goes to the JSON box."""
        initial: dict[str, Any] = {
            "name": segment.name,
            "description": segment.description,
            "tag_name": segment.tag.name if segment.tag_id else "",
        }
        rules = segment.rules or {}
        fields = _fields_for(rules)
        if fields is None:
            initial["rules_json"] = json.dumps(rules, ensure_ascii=False, indent=1)
        else:
            initial.update(fields)
        return initial


def _fields_for(rules: dict) -> dict[str, Any] | None:
    """The builder's fields for a flat rule, or None when it has nested groups, "not", or a kind
    twice (the JSON box shows those)."""
    fields: dict[str, Any] = {"match": rules.get("match", "all"), "in_segments": []}
    seen = set()
    for c in rules.get("conditions", []):
        kind = c.get("field")
        if "conditions" in c or c.get("negate") or (kind in seen and kind != "segment"):
            return None
        seen.add(kind)
        if kind == "lifecycle":
            fields["lifecycle"] = c["values"]
        elif kind in ("r_score", "f_score", "m_score") and "max" not in c:
            fields[f"{kind[0]}_min"] = c.get("min")
        elif kind == "days_since_last_order":
            fields["days_min"], fields["days_max"] = c.get("min"), c.get("max")
        elif kind == "order_count":
            fields["orders_min"], fields["orders_max"] = c.get("min"), c.get("max")
        elif kind == "net_paid_fen" and "max" not in c:
            fields["net_min_yuan"] = Decimal(c["min"]) / FEN_PER_YUAN
        elif kind == "age":
            fields["age_min"], fields["age_max"] = c.get("min"), c.get("max")
        elif kind in ("region", "source_channel", "tag"):
            fields[{"region": "regions", "source_channel": "channels", "tag": "tags"}[kind]] = " ".join(
                c["values"]
            )
        elif kind == "gender":
            fields["genders"] = c["values"]
        elif kind == "registered" and "until" not in c:
            fields["registered_since"] = c.get("since")
        elif kind == "segment":
            fields["in_segments"].append(c["segment_id"])
        else:
            return None
    return fields


class MessageForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=80)
    body = forms.CharField(label=_("Message"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=[("sms", _("SMS")), ("email", _("E-mail"))],
        initial=["sms"],
        widget=forms.CheckboxSelectMultiple,
    )
