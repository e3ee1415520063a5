"""Signals in words, for the console (risk.names holds the keys a rule set uses; docs/risk.md what each
means). A counter's label is its key's and its measure's: "同一 IP 段（/24）· 1 小时内的账号数"."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yunying.risk.names import SIGNALS

EVENT_SIGNAL_LABELS = {
    "entry": gettext_lazy("Entry point"),
    "channel": gettext_lazy("Channel"),
    "campaign": gettext_lazy("Campaign"),
    "fill_ms": gettext_lazy("Form-fill time (ms)"),
    "ua_kind": gettext_lazy("Kind of client"),
    "ip_class": gettext_lazy("Kind of IP address"),
    "carrier_class": gettext_lazy("Kind of phone number"),
    "amount_fen": gettext_lazy("Amount (fen)"),
    "graph.component_size": gettext_lazy(
        "Linked accounts (shared device, payer, address, identity, invites)"
    ),
    "graph.small_first_orders": gettext_lazy("Linked accounts whose first order was at most ¥10"),
    "graph.invite_cycle": gettext_lazy("Invitations lead back to this member"),
    "graph.invited": gettext_lazy("Invited by another member"),
    "member.age_s": gettext_lazy("Seconds since the member was first seen"),
    "member.registration_score": gettext_lazy("Highest registration risk score, last 30 days"),
    "ip24.other_accounts_1h": gettext_lazy("Other accounts from the same IP block, last hour"),
    "building.other_accounts_24h": gettext_lazy("Other accounts at the same building, last 24 hours"),
    "virtual.wave_factor": gettext_lazy("Virtual-operator registrations: this hour against the day"),
}
COUNTER_KIND_LABELS = {
    "ip": gettext_lazy("Same IP address"),
    "ip24": gettext_lazy("Same IP block (/24)"),
    "device": gettext_lazy("Same device"),
    "phone": gettext_lazy("Same phone number"),
    "phone_block": gettext_lazy("Same phone number block"),
    "identity": gettext_lazy("Same identity number"),
    "address": gettext_lazy("Same address"),
    "building": gettext_lazy("Same building"),
    "payer": gettext_lazy("Same payer account"),
    "member": gettext_lazy("Same member"),
    "virtual": gettext_lazy("Virtual-operator numbers, platform-wide"),
}
COUNTER_NAME_LABELS = {
    "events_1m": gettext_lazy("events in the last minute"),
    "events_1h": gettext_lazy("events in the last hour"),
    "events_24h": gettext_lazy("events in the last 24 hours"),
    "accounts_1h": gettext_lazy("accounts in the last hour"),
    "accounts_24h": gettext_lazy("accounts in the last 24 hours"),
    "campaign_events": gettext_lazy("events for this campaign today"),
}


def signal_label(name: str) -> str:
    """The signal in words; the key itself for a name no rule set can use (an old decision's)."""
    if name in EVENT_SIGNAL_LABELS:
        return str(EVENT_SIGNAL_LABELS[name])
    kind, _dot, measure = name.partition(".")
    if name in SIGNALS and kind in COUNTER_KIND_LABELS and measure in COUNTER_NAME_LABELS:
        return _("%(key)s · %(measure)s") % {
            "key": COUNTER_KIND_LABELS[kind],
            "measure": COUNTER_NAME_LABELS[measure],
        }
    return name
