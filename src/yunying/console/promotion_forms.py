"""The promotion editor's form: what an operator types (money in yuan, discounts in 折, ladders as
rows, lists as text) read into promotions.terms' raw values, checked by `promotion_validate`, and its
field errors put back next to the fields they belong to, with the input kept.

The form only converts units; every rule of what a promotion may say is promotion_validate's."""

from __future__ import annotations

import re
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.console.fields import AsciiIntegerField, LocalDateTimeField
from yunying.console.paging import ID_MAX
from yunying.promotions.models import (
    COUPON_KINDS,
    CouponIssuer,
    IssueEvent,
    Promotion,
    PromotionKind,
)
from yunying.promotions.terms import LADDER_KINDS, MAX_STEPS, PromotionSpec, promotion_validate, yuan_to_fen

STEP_ROWS = 5  # ladder rows on the page (the engine takes up to MAX_STEPS)
assert STEP_ROWS <= MAX_STEPS
NUMBER_MAX_LENGTH = 20  # longer "numbers" are typing accidents (and int() of 5,000 digits refuses)

LAYER_CHOICES = [
    ("1", _("Item price (单品价)")),
    ("2", _("Shop 满减/满折")),
    ("3", _("Shop coupon")),
    ("4", _("Platform coupon")),
]


# States as the console says them (the models' labels are shared words: "Active" reads 有效 elsewhere).
PROMOTION_STATE_TEXT = {
    "draft": pgettext_lazy("promotion state", "Draft"),
    "active": pgettext_lazy("promotion state", "Active"),
    "paused": pgettext_lazy("promotion state", "Paused"),
    "ended": pgettext_lazy("promotion state", "Ended"),
}
COUPON_STATE_TEXT = {
    "available": pgettext_lazy("coupon state", "Available"),
    "used": pgettext_lazy("coupon state", "Used"),
    "expired": pgettext_lazy("coupon state", "Expired"),
    "void": pgettext_lazy("coupon state", "Withdrawn"),
}


def zhe_to_permille(text: str) -> int | None:
    """ "8.5" 折 → 850 permille, "9" → 900, "8.55" → 855; None for anything else (Unicode digits,
    negative, three decimals). The range (1–999) is promotion_validate's."""
    text = (text or "").strip().removesuffix("折").strip()
    if not text or not text.isascii() or not re.fullmatch(r"[0-9]{1,2}(\.[0-9]{1,2})?", text):
        return None
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


def permille_to_zhe(permille: int | None) -> str:
    if permille is None:
        return ""
    return f"{Decimal(permille) / 100:f}".rstrip("0").rstrip(".") if permille else "0"


def fen_to_yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    whole, part = divmod(int(fen), 100)
    return f"{whole}" if part == 0 else f"{whole}.{part:02d}"


def _number(**kwargs) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=NUMBER_MAX_LENGTH,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        **kwargs,
    )


def _list(**kwargs) -> forms.CharField:
    return forms.CharField(
        required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 2}), **kwargs
    )


class PromotionForm(forms.Form):
    base_version = AsciiIntegerField(widget=forms.HiddenInput, required=False, min_value=0, max_value=ID_MAX)
    name = forms.CharField(label=_("Promotion name"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=PromotionKind.choices)
    starts_at = LocalDateTimeField(label=_("Starts"), required=False)
    ends_at = LocalDateTimeField(
        label=_("Ends"), required=False, help_text=_("Empty: runs until it is ended.")
    )
    # the kind's terms, as operators write them
    price_yuan = _number(label=_("Price (¥)"), help_text=_("The unit price during the promotion."))
    zhe = _number(
        label=_("Discount (折)"),
        help_text=_(
            "8.5 means 8.5折, 15 percent off. For a member price, empty or 0: the member's level discount."
        ),
    )
    min_tier_rank = _number(label=_("Lowest member level (rank)"), help_text=_("0 or empty: everyone."))
    repeat = forms.BooleanField(label=_("Every threshold (每满): repeat the first step"), required=False)
    threshold_yuan = _number(label=_("Threshold (¥)"), help_text=_("0 or empty: no threshold (无门槛)."))
    off_yuan = _number(label=_("Amount off (¥)"))
    cap_yuan = _number(label=_("At most off (¥)"), help_text=_("0 or empty: no cap."))
    gift_sku = forms.CharField(label=_("Gift SKU"), max_length=64, required=False)
    gift_quantity = _number(label=_("Gift quantity"))
    # scope and stacking
    skus = _list(label=_("Only these SKUs"), help_text=_("Comma or newline separated. Empty: every SKU."))
    categories = _list(label=_("Only these categories"), help_text=_("Empty: every category."))
    exclude_skus = _list(label=_("Except these SKUs"))
    exclude_categories = _list(label=_("Except these categories"))
    channels = forms.CharField(
        label=_("Channels"),
        required=False,
        max_length=2000,
        help_text=_("Comma separated, e.g. app, mini. Empty: every channel."),
    )
    priority = _number(label=_("Priority"), help_text=_("0–1000; higher first among offers of one layer."))
    exclusive = forms.BooleanField(
        label=_("Not combined with any other offer (不与其他优惠同享)"), required=False
    )
    not_with = forms.MultipleChoiceField(
        label=_("Does not combine with"),
        choices=LAYER_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    campaign_id = _number(label=_("Campaign id"), help_text=_("For the campaign's budget; empty: none."))
    use_limit = _number(label=_("Use limit (orders)"), help_text=_("Empty: no limit."))
    # coupon templates
    issuer = forms.ChoiceField(label=_("Issued by"), choices=CouponIssuer.choices, required=False)
    claimable = forms.BooleanField(label=_("Members may claim it in the coupon centre"), required=False)
    issue_limit = _number(label=_("Coupons to hand out in all"), help_text=_("Empty: no limit."))
    per_member_limit = _number(label=_("Coupons one member may hold"), help_text=_("Empty: 1."))
    valid_days = _number(label=_("Valid for (days from issue)"))
    coupon_valid_from = LocalDateTimeField(label=_("Or valid from"), required=False)
    coupon_valid_until = LocalDateTimeField(label=_("Valid until"), required=False)
    issue_on = forms.MultipleChoiceField(
        label=_("Hand out automatically on"),
        choices=IssueEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    points_price = _number(label=_("Price in points"), help_text=_("Empty: not for sale for points."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for index in range(STEP_ROWS):
            self.fields[f"step_{index}_threshold"] = _number(label=_("Threshold"))
            self.fields[f"step_{index}_value"] = _number(label=_("Value"))
        self.spec: PromotionSpec | None = None
        self.step_errors: dict[int, str] = {}

    # -- rows for the template ------------------------------------------------------------------
    def step_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "number": index + 1,
                "threshold": self[f"step_{index}_threshold"],
                "value": self[f"step_{index}_value"],
                "error": self.step_errors.get(index, ""),
            }
            for index in range(STEP_ROWS)
        ]

    @property
    def kind_value(self) -> str:
        return (
            self.data.get("kind") if self.is_bound else self.initial.get("kind")
        ) or PromotionKind.SPEND_OFF

    # -- reading and checking -------------------------------------------------------------------
    def _money(self, raw: dict, name: str, key: str, unit_errors: dict, *, zero_if_blank=False) -> None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            if zero_if_blank:
                raw[key] = 0
            return
        fen = yuan_to_fen(text)
        if fen is None:
            unit_errors[name] = _("Write an amount in yuan, e.g. 199 or 199.5.")
        else:
            raw[key] = fen

    def clean(self) -> dict:
        data = super().clean()
        refused = set(self._errors or ())  # fields Django refused (a date, a length): their error stands
        kind = data.get("kind", "")
        raw: dict[str, Any] = {
            "name": data.get("name", ""),
            "kind": kind,
            "starts_at": data.get("starts_at"),
            "ends_at": data.get("ends_at"),
            "channels": data.get("channels", ""),
            "exclusive": data.get("exclusive", False),
            "not_with": [int(layer) for layer in data.get("not_with", [])],
            "issuer": data.get("issuer") or CouponIssuer.SHOP,
            "claimable": data.get("claimable", False),
            "coupon_valid_from": data.get("coupon_valid_from"),
            "coupon_valid_until": data.get("coupon_valid_until"),
            "issue_on": data.get("issue_on", []),
            "repeat": data.get("repeat", False),
            "gift_sku": data.get("gift_sku", ""),
        }
        for key in ("skus", "categories", "exclude_skus", "exclude_categories"):
            raw[key] = data.get(key, "")
        for key in (
            "min_tier_rank", "gift_quantity", "priority", "campaign_id", "use_limit", "issue_limit",
            "per_member_limit", "valid_days", "points_price",
        ):  # fmt: skip
            raw[key] = (data.get(key) or "").strip()
        unit_errors: dict[str, str] = {}
        self._money(raw, "price_yuan", "price_fen", unit_errors)
        self._money(raw, "threshold_yuan", "threshold_fen", unit_errors)
        self._money(raw, "off_yuan", "off_fen", unit_errors)
        self._money(raw, "cap_yuan", "cap_fen", unit_errors)
        zhe = (data.get("zhe") or "").strip()
        if zhe:
            permille = zhe_to_permille(zhe)
            if permille is None:
                unit_errors["zhe"] = _("Write the discount in 折, e.g. 8.5 or 9.")
            else:
                raw["permille"] = permille
        elif kind == PromotionKind.MEMBER_PRICE:
            raw["permille"] = 0  # the member's level discount
        rows = self._steps(raw, kind, unit_errors)
        _spec, errors = promotion_validate(raw)
        for name, message in unit_errors.items():
            if name in self.fields:
                self.add_error(name, message)
        if self.step_errors:
            self.add_error(None, forms.ValidationError(_("Check the steps marked below."), code="steps"))
        for error in errors:
            self._place(error, rows, unit_errors, refused)
        self.spec = _spec if not self.errors else None
        return data

    def _steps(self, raw: dict, kind: str, unit_errors: dict) -> list[int]:
        """The ladder's filled rows as (threshold, value) in the engine's units; returns the row
        index of each step passed on (an error on steps.N names the Nth of them)."""
        steps, rows = [], []
        for index in range(STEP_ROWS):
            threshold_text = (self.cleaned_data.get(f"step_{index}_threshold") or "").strip()
            value_text = (self.cleaned_data.get(f"step_{index}_value") or "").strip()
            if not threshold_text and not value_text:
                continue
            if kind == PromotionKind.ITEMS_PERCENT:
                threshold = threshold_text  # a count of items: promotion_validate reads it
            else:
                threshold = yuan_to_fen(threshold_text) if threshold_text else ""
            if kind == PromotionKind.SPEND_OFF:
                value = yuan_to_fen(value_text) if value_text else ""
            else:
                value = zhe_to_permille(value_text) if value_text else ""
            if threshold is None or value is None:
                self.step_errors[index] = str(
                    _("Thresholds in yuan (or items for N件M折); values in yuan off, or in 折.")
                )
                unit_errors.setdefault("steps", "")
                continue
            steps.append([threshold, value])
            rows.append(index)
        if kind in LADDER_KINDS:
            raw["steps"] = steps if "steps" not in unit_errors else [[1, 1]]
        return rows

    # where promotion_validate's field names show on this form
    _FIELD = {
        "price_fen": "price_yuan",
        "permille": "zhe",
        "threshold_fen": "threshold_yuan",
        "off_fen": "off_yuan",
        "cap_fen": "cap_yuan",
    }

    def _place(self, error: dict, rows: list[int], unit_errors: dict, refused: set) -> None:
        field = error["field"] or ""
        message = error["message"]
        if field.startswith("steps"):
            if "steps" in unit_errors:
                return  # the rows' own unit errors say it better
            _, _sep, number = field.partition(".")
            if number.isdigit() and int(number) < len(rows):
                self.step_errors[rows[int(number)]] = str(message)
            self.add_error(None, forms.ValidationError(message, code="steps"))
            return
        name = self._FIELD.get(field, field)
        if name in unit_errors or name in refused:
            return
        self.add_error(name if name in self.fields else None, message)

    def steps_error(self) -> list[str]:
        return [str(e.message) for e in self.non_field_errors().as_data() if e.code == "steps"]

    def other_errors(self) -> list[str]:
        return [str(e.message) for e in self.non_field_errors().as_data() if e.code != "steps"]


def initial_of(promotion: Promotion | None) -> dict[str, Any]:
    """The form's values for a saved promotion (or a new one's defaults)."""
    if promotion is None:
        return {
            "kind": PromotionKind.SPEND_OFF,
            "issuer": CouponIssuer.SHOP,
            "per_member_limit": "1",
            "priority": "0",
        }
    spec = {key: getattr(promotion, key) for key in PromotionSpec.__dataclass_fields__}
    terms, scope = promotion.terms, promotion.scope
    values: dict[str, Any] = {
        **{key: value for key, value in spec.items() if key not in ("scope", "terms")},
        "base_version": promotion.version,
        "channels": ", ".join(promotion.channels),
        "not_with": [str(layer) for layer in promotion.not_with],
        "price_yuan": fen_to_yuan(terms.get("price_fen")),
        "zhe": permille_to_zhe(terms.get("permille")) if "permille" in terms else "",
        "min_tier_rank": terms.get("min_tier_rank", ""),
        "repeat": terms.get("repeat", False),
        "threshold_yuan": fen_to_yuan(terms.get("threshold_fen")) if terms.get("threshold_fen") else "",
        "off_yuan": fen_to_yuan(terms.get("off_fen")),
        "cap_yuan": fen_to_yuan(terms.get("cap_fen")) if terms.get("cap_fen") else "",
        "gift_sku": terms.get("gift_sku", ""),
        "gift_quantity": terms.get("gift_quantity", ""),
    }
    for key in ("skus", "categories", "exclude_skus", "exclude_categories"):
        values[key] = "\n".join(scope.get(key, []))
    for key in ("campaign_id", "use_limit", "issue_limit", "valid_days", "points_price"):
        values[key] = "" if spec[key] is None else str(spec[key])
    for index, (threshold, value) in enumerate(terms.get("steps", [])[:STEP_ROWS]):
        items = promotion.kind == PromotionKind.ITEMS_PERCENT
        values[f"step_{index}_threshold"] = str(threshold) if items else fen_to_yuan(threshold)
        values[f"step_{index}_value"] = (
            fen_to_yuan(value) if promotion.kind == PromotionKind.SPEND_OFF else permille_to_zhe(value)
        )
    return values


def unsaved_promotion(spec: PromotionSpec, saved: Promotion | None) -> Promotion:
    """The promotion as the form says, not saved: for the preview (in place of the saved one)."""
    promotion = Promotion(**asdict(spec))
    if saved is not None:
        promotion.pk = saved.pk
        promotion.used_count = saved.used_count
        promotion.state = saved.state
    return promotion


def is_coupon_kind(kind: str) -> bool:
    return kind in COUPON_KINDS
