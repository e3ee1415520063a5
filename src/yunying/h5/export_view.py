"""The member's data export (PIPL art. 45) as a page a member reads on a phone: each holding's data as
label: value rows and small cards, in the member's words. The JSON download stays the raw export;
this only decides how a value reads.

- a key reads as its label (KEY_LABELS; a key inside a named object may have its own, "utm.source");
  a key with no label reads as itself;
- an amount in fen (a key ending in `_fen`) reads as ¥ yuan with two decimals;
- an ISO date-time reads in local time (settings.TIME_ZONE), as the other member pages show it;
- a yes/no reads as 是/否; a code reads as its model choice's label (ENUMS, per holding), else as
  itself;
- a list of objects reads as compact cards, a list of plain values as one line.

A value renders as a node the template walks (h5/_export_node.html):
{"kind": "text", "text"} | {"kind": "rows", "rows": [{"label", "node"}]} |
{"kind": "cards", "items": [rows nodes]} | {"kind": "empty"}."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db.models import TextChoices
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yunying.analytics.models import Lifecycle
from yunying.campaigns.messages import TEMPLATES as CAMPAIGN_MESSAGES
from yunying.campaigns.models import Channel, SignupStatus
from yunying.commerce.models import OrderStatus
from yunying.h5.templatetags.h5_tags import yuan
from yunying.loyalty.models import (
    EntryKind,
    PostingKind,
    PostingSource,
    PromoterState,
    ReferralStatus,
    StatementState,
)
from yunying.members.models import ConsentPurpose, Gender, IdentityCheckResult
from yunying.members.regions import region_label
from yunying.notify.models import OutboxStatus
from yunying.privacy.rights_selectors import ACTION_WORDS, ENTRY_WORDS
from yunying.promotions.models import CouponSource, CouponState
from yunying.risk.models import CaseStatus

DATE_TIME = "Y-m-d H:i"  # as the member pages' |date:"Y-m-d H:i"
_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The keys the holdings' export functions emit (src/yunying/*/personal_data.py), the access log's and
# the consent's. "parent.key" names a key inside the object (or list of objects) under `parent`.
KEY_LABELS: dict[str, Any] = {
    # analytics.profile
    "rfm": gettext_lazy("Your buying pattern"),
    "recency_days": gettext_lazy("Days since your last order"),
    "frequency": gettext_lazy("Number of orders"),
    "monetary_fen": gettext_lazy("Total spent"),
    "lifecycle": gettext_lazy("Member stage"),
    "segments": gettext_lazy("Member groups"),
    # campaigns.signups
    "signups": gettext_lazy("Your sign-ups"),
    "refused": gettext_lazy("Refused sign-ups"),
    "signup": gettext_lazy("Sign-up number"),
    "campaign": gettext_lazy("Campaign"),
    "answers": gettext_lazy("Your answers"),
    "status_reason": gettext_lazy("Reason"),
    "attended_at": gettext_lazy("Checked in at"),
    "refusal": gettext_lazy("Why it was refused"),
    "reasons": gettext_lazy("Reasons"),
    # commerce.orders
    "order": gettext_lazy("Order number"),
    "paid_at": gettext_lazy("Paid at"),
    "total_fen": gettext_lazy("Total amount"),
    "refunded_fen": gettext_lazy("Amount refunded"),
    "lines": gettext_lazy("Items"),
    "sku": gettext_lazy("Item code"),
    "category": gettext_lazy("Category"),
    "quantity": gettext_lazy("Quantity"),
    "paid_fen": gettext_lazy("Amount paid"),
    # loyalty.points, loyalty.tier, loyalty.referrals, loyalty.brokerage
    "balance": gettext_lazy("Points balance"),
    "pending": gettext_lazy("Points on the way"),
    "debt": gettext_lazy("Points owed"),
    "postings": gettext_lazy("Points history"),
    "kind": gettext_lazy("Type"),
    "points": gettext_lazy("Points"),
    "memo": gettext_lazy("Note"),
    "checkins": gettext_lazy("Daily check-ins"),
    "tasks": gettext_lazy("Tasks done"),
    "level": gettext_lazy("Member level"),
    "changes": gettext_lazy("Level history"),
    "why": gettext_lazy("Level change"),
    "value": gettext_lazy("Value counted"),
    "invited": gettext_lazy("Friends you invited"),
    "invited.member": gettext_lazy("Friend (member number)"),
    "inviter_points": gettext_lazy("Points you earned"),
    "invited_by": gettext_lazy("Invited by (member number)"),
    "invited_by.member": gettext_lazy("Inviter (member number)"),
    "promoter": gettext_lazy("Promoter account"),
    "code": gettext_lazy("Promoter code"),
    "balance_fen": gettext_lazy("Commission balance"),
    "entries": gettext_lazy("Commissions"),
    "amount_fen": gettext_lazy("Amount"),
    "statements": gettext_lazy("Monthly statements"),
    "month": gettext_lazy("Month"),
    "paid_reference": gettext_lazy("Payout reference"),
    "bound_to": gettext_lazy("Promoters you are linked to"),
    # members.*
    "phone": gettext_lazy("Phone"),
    "name": gettext_lazy("Name"),
    "email": gettext_lazy("E-mail"),
    "birth_date": gettext_lazy("Birth date"),
    "gender": gettext_lazy("Gender"),
    "region_code": gettext_lazy("Region"),
    "language": gettext_lazy("Language"),
    "source_channel": gettext_lazy("Where you joined"),
    "utm": gettext_lazy("The link you came from"),
    "utm.source": gettext_lazy("Link source"),
    "utm.medium": gettext_lazy("Link medium"),
    "utm.campaign": gettext_lazy("Link campaign"),
    "invite_code": gettext_lazy("Your invitation code"),
    "registered_at": gettext_lazy("Joined at"),
    "result": gettext_lazy("Real-name check"),
    "checked_at": gettext_lazy("Checked at"),
    "records": gettext_lazy("Privacy policies you accepted"),
    "policy_version": gettext_lazy("Privacy policy version"),
    "marketing": gettext_lazy("Marketing messages"),
    "sensitive": gettext_lazy("Sensitive information"),
    "accepted_at": gettext_lazy("Accepted at"),
    "events": gettext_lazy("Consent history"),
    "history": gettext_lazy("Consent history"),
    "current": gettext_lazy("Your consent now"),
    "purpose": gettext_lazy("Purpose"),
    "granted": gettext_lazy("Agreed"),
    "attributes": gettext_lazy("Your answers"),
    "declined": gettext_lazy("Questions you chose not to answer"),
    "tag": gettext_lazy("Label"),
    "added_at": gettext_lazy("Added at"),
    # notify.messages
    "template": gettext_lazy("Message type"),
    "sent_at": gettext_lazy("Sent at"),
    # promotions.coupons
    "promotion": gettext_lazy("Coupon"),
    "state": gettext_lazy("Status"),
    "issued_at": gettext_lazy("Received at"),
    "used_at": gettext_lazy("Used at"),
    "valid_until": gettext_lazy("Valid until"),
    # risk.decisions
    "entry": gettext_lazy("What was checked"),
    "action": gettext_lazy("Automatic decision"),
    "review": gettext_lazy("Human review result"),
    # the access log
    "by": gettext_lazy("Who saw it"),
    "fields": gettext_lazy("What they saw"),
    # shared
    "status": gettext_lazy("Status"),
    "channel": gettext_lazy("Through"),
    "source": gettext_lazy("Source"),
    "at": gettext_lazy("Time"),
    "created_at": gettext_lazy("Created at"),
}

# Codes without a TextChoices in their model (free CharFields), in the member's words.
CONSENT_CHANNEL_WORDS = {
    "h5": gettext_lazy("Member pages"),
    "api": gettext_lazy("Our online shop"),
    "console": gettext_lazy("Our staff, on your request"),
    "migration": gettext_lazy("Carried over from the old system"),
}
MESSAGE_CHANNEL_WORDS = {
    "sms": gettext_lazy("SMS"),
    "email": gettext_lazy("E-mail"),
    "push": gettext_lazy("App notification"),
}
MESSAGE_WORDS = {  # a message by its subject: the campaigns' own, and the other apps' in brief
    **{key: subject for key, (subject, _body) in CAMPAIGN_MESSAGES.items()},
    "loyalty.tier_changed": gettext_lazy("Member level changed"),
    "privacy.breach_notice": gettext_lazy("Notice about your personal data"),
    "risk.review_decided": gettext_lazy("Result of the human review you asked for"),
    "risk.warning": gettext_lazy("Security warning"),
    "segment.marketing": gettext_lazy("Offers and news"),
}
TIER_CHANGE_WORDS = {"upgrade": gettext_lazy("Level up"), "downgrade": gettext_lazy("Level down")}
DECISION_ACTION_WORDS = {"allow": gettext_lazy("Allowed"), **ACTION_WORDS}
LANGUAGE_WORDS = dict(settings.LANGUAGES)

Words = type[TextChoices] | Mapping[str, Any] | Callable[[str], str]

# Which codes read as which choices, per holding (the access log and the consent under their own
# keys); "parent.key" as in KEY_LABELS.
ENUMS: dict[str, dict[str, Words]] = {
    "analytics.profile": {"lifecycle": Lifecycle},
    "campaigns.signups": {"status": SignupStatus, "channel": Channel},
    "commerce.orders": {"status": OrderStatus, "channel": Channel},
    "loyalty.points": {"kind": PostingKind, "source": PostingSource},
    "loyalty.tier": {"why": TIER_CHANGE_WORDS},
    "loyalty.referrals": {"status": ReferralStatus},
    "loyalty.brokerage": {"promoter.state": PromoterState, "statements.state": StatementState, "kind": EntryKind},
    "members.profile": {
        "gender": Gender, "source_channel": Channel, "language": LANGUAGE_WORDS, "region_code": region_label,
    },
    "members.identity": {"result": IdentityCheckResult},
    "members.consent": {"purpose": ConsentPurpose, "channel": CONSENT_CHANNEL_WORDS},
    "notify.messages": {"status": OutboxStatus, "channel": MESSAGE_CHANNEL_WORDS, "template": MESSAGE_WORDS},
    "promotions.coupons": {"state": CouponState, "source": CouponSource},
    "risk.decisions": {"entry": ENTRY_WORDS, "action": DECISION_ACTION_WORDS, "review": CaseStatus},
    "consent": {"purpose": ConsentPurpose, "channel": CONSENT_CHANNEL_WORDS},
}  # fmt: skip

# Lists of plain tuples (Django values_list) and the keys of their columns.
TUPLE_COLUMNS = {
    "invited": ("member", "status", "inviter_points"),
    "invited_by": ("member", "status"),
}


def key_label(key: str, parent: str = "") -> str:
    """The member's words for `key` (inside `parent`), else the key itself."""
    label = KEY_LABELS.get(f"{parent}.{key}") or KEY_LABELS.get(key)
    return str(label) if label is not None else key


def code_label(words: Words | None, value: str) -> str:
    """A code's label from its choices (TextChoices, a mapping or a look-up), else the code."""
    if words is None:
        return value
    if isinstance(words, type) and issubclass(words, TextChoices):
        try:
            return str(words(value).label)
        except ValueError:
            return value
    if isinstance(words, Mapping):
        label = words.get(value)
        return str(label) if label is not None else value
    return str(words(value) or value)


def local_time(value: datetime) -> str:
    """A date-time as the member pages show it: local time (settings.TIME_ZONE), minutes."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return dateformat.format(timezone.localtime(value), DATE_TIME)


def value_text(key: str, value: Any, *, parent: str = "", enums: Mapping[str, Words] | None = None) -> str:
    """One plain value as the member reads it."""
    enums = enums or {}
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key.endswith("_fen") and isinstance(value, int):
        return f"¥{yuan(value)}"
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        words = enums.get(f"{parent}.{key}") or enums.get(key)
        if words is not None:
            return code_label(words, value)
        if _ISO_DATE_TIME.match(value):
            parsed = parse_datetime(value)
            if parsed is not None:
                return local_time(parsed)
        return value
    return str(value)


def value_node(key: str, value: Any, *, parent: str = "", enums: Mapping[str, Words] | None = None) -> dict:
    """Any exported value as a node the template walks (see the module docstring)."""
    enums = enums or {}
    if isinstance(value, Mapping):
        if all(v is None or v == "" for v in value.values()):  # {} or nothing filled in ("utm")
            return {"kind": "empty"}
        return {
            "kind": "rows",
            "rows": [
                {"label": key_label(k, key), "node": value_node(k, v, parent=key, enums=enums)}
                for k, v in value.items()
            ],
        }
    if isinstance(value, list | tuple):
        if not value:
            return {"kind": "empty"}
        columns = TUPLE_COLUMNS.get(key)
        if columns and all(isinstance(v, list | tuple) for v in value):
            value = [dict(zip(columns, v, strict=False)) for v in value]
        if any(isinstance(v, Mapping | list | tuple) for v in value):
            return {"kind": "cards", "items": [value_node(key, v, parent=parent, enums=enums) for v in value]}
        return {
            "kind": "text",
            "text": "、".join(value_text(key, v, parent=parent, enums=enums) for v in value),
        }
    return {"kind": "text", "text": value_text(key, value, parent=parent, enums=enums)}


def export_view(data: Mapping[str, Any]) -> dict:
    """The export (privacy.rights.data_export_build) as the page shows it: a section per holding,
    the access log and the consent, every value in the member's words."""
    holdings = [
        {
            "key": key,
            "label": held["label"],
            "purpose": held["purpose"],
            "retention": held["retention"],
            "shared_with": held["shared_with"],
            "node": value_node(key, held["data"], enums=ENUMS.get(key)),
        }
        for key, held in data["holdings"].items()
    ]
    access = [{**row, "at": value_text("at", row["at"])} for row in data.get("access_log", [])]
    consent = data.get("consent", {})
    return {
        "holdings": holdings,
        "access_log": access,
        "consent_current": [
            {"label": code_label(ConsentPurpose, purpose), "granted": granted}
            for purpose, granted in consent.get("current", {}).items()
        ],
        "consent_history": value_node("history", consent.get("history", []), enums=ENUMS["consent"]),
    }
