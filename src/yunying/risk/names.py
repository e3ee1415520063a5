"""The names a rule set may use: entry points and signals (docs/risk.md "Signals"). Plain data, no
Django, so `rules.ruleset_validate` can refuse a misspelt signal that would never fire.
tests/risk/test_names.py holds it equal to what the engine computes."""

from __future__ import annotations

ENTRY_POINTS = (
    "member.register",
    "sms.send",
    "signup.create",
    "coupon.claim",
    "referral.reward",
    "order.ingest",
)

# Velocity counters: "<kind>.<name>" for each kind of key an event can have.
COUNTER_KINDS = (
    "ip", "ip24", "device", "phone", "phone_block", "identity", "address", "building", "payer", "member", "virtual",
)  # fmt: skip
COUNTER_NAMES = ("events_1m", "events_1h", "events_24h", "accounts_1h", "accounts_24h", "campaign_events")

EVENT_SIGNALS = (
    "entry", "channel", "campaign", "fill_ms", "ua_kind", "ip_class", "carrier_class", "amount_fen",
    "graph.component_size", "graph.small_first_orders", "graph.invite_cycle", "graph.invited",
    "member.age_s", "member.registration_score",
    "ip24.other_accounts_1h", "building.other_accounts_24h", "virtual.wave_factor",
)  # fmt: skip
SIGNALS = frozenset(EVENT_SIGNALS) | {f"{kind}.{name}" for kind in COUNTER_KINDS for name in COUNTER_NAMES}
