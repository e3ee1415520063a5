"""The built-in rule set (version 0): what runs until an operator makes a version of their own, and
where a new version starts. The reasoning for each rule is in docs/risk.md "The rules".

Scores add up; one signal alone rarely reaches review (60): a fast form, a virtual-operator number or
a datacentre address each happens to honest members. Two together, or a shared device across many
accounts, do. Labels are English msgids, shown translated (gettext_noop marks them for the catalogue).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop as _

SIGNUP_ENTRIES = ["signup.create", "member.register", "coupon.claim", "referral.reward"]
ALL_ACCOUNT_ENTRIES = [*SIGNUP_ENTRIES, "order.ingest"]

BUILT_IN = {
    "thresholds": {"challenge": 40, "review": 60, "block": 90},
    "rules": [
        {
            "key": "scripted_client",
            "label": _("The request came from a script or a headless browser"),
            "when": {"signal": "ua_kind", "op": "==", "value": "scripted"},
            "points": 45,
            "entries": SIGNUP_ENTRIES,
        },
        {
            "key": "inhuman_fill",
            "label": _("The form was filled faster than a person can read it"),
            "when": {
                "all": [
                    {"signal": "fill_ms", "op": "<", "value": 1500},
                    {"signal": "member.campaign_events", "op": "<=", "value": 1},
                ]
            },
            "points": 35,
            "entries": ["signup.create", "member.register"],
        },
        {
            "key": "fast_fill",
            "label": _("The form was filled very fast"),
            "when": {
                "all": [
                    {"signal": "fill_ms", "op": ">=", "value": 1500},
                    {"signal": "fill_ms", "op": "<", "value": 3000},
                    {"signal": "member.campaign_events", "op": "<=", "value": 1},
                ]
            },
            "points": 20,
            "entries": ["signup.create", "member.register"],
        },
        {
            "key": "datacentre_ip",
            "label": _("The address belongs to a data centre, not a home or a phone network"),
            "when": {"signal": "ip_class", "op": "==", "value": "datacentre"},
            "points": 30,
            "entries": ALL_ACCOUNT_ENTRIES,
        },
        {
            "key": "virtual_number",
            "label": _("A virtual-operator phone number"),
            "when": {"signal": "carrier_class", "op": "==", "value": "virtual"},
            "points": 15,
            "entries": SIGNUP_ENTRIES,
        },
        {
            "key": "device_many_accounts",
            "label": _("Many accounts on one device"),
            "when": {"signal": "device.accounts_24h", "op": ">=", "value": 5},
            "points": 50,
            "entries": ALL_ACCOUNT_ENTRIES,
        },
        {
            "key": "device_shared",
            "label": _("Several accounts on one device"),
            "when": {
                "all": [
                    {"signal": "device.accounts_24h", "op": ">=", "value": 3},
                    {"signal": "device.accounts_24h", "op": "<", "value": 5},
                ]
            },
            "points": 15,
            "entries": ALL_ACCOUNT_ENTRIES,
        },
        {
            "key": "ip_block_burst",
            "label": _("Many new accounts from one network block within the hour"),
            "when": {
                "all": [
                    {"signal": "ip24.accounts_1h", "op": ">=", "value": 8},
                    {"signal": "ip_class", "op": "==", "value": "datacentre"},
                ]
            },
            "points": 30,
            "entries": ALL_ACCOUNT_ENTRIES,
        },
        {
            "key": "ip_block_rotation",
            "label": _("Many accounts rotating through the addresses of one network block"),
            "when": {
                "all": [
                    {"signal": "ip24.other_accounts_1h", "op": ">=", "value": 8},
                    {"signal": "ip_class", "op": "!=", "value": "mobile"},
                ]
            },
            "points": 65,
            "entries": ALL_ACCOUNT_ENTRIES,
        },
        {
            "key": "fresh_virtual",
            "label": _("A virtual-operator number on an account made within the hour"),
            "when": {
                "all": [
                    {"signal": "carrier_class", "op": "==", "value": "virtual"},
                    {"signal": "member.age_s", "op": "<", "value": 3600},
                ]
            },
            "points": 25,
            "entries": ["signup.create", "coupon.claim", "referral.reward"],
        },
        {
            "key": "virtual_wave",
            "label": _("A virtual-operator number registered in a wave of them"),
            "when": {
                "all": [
                    {"signal": "virtual.events_1h", "op": ">=", "value": 10},
                    {"signal": "virtual.wave_factor", "op": ">=", "value": 4},
                ]
            },
            "points": 30,
            "entries": ["member.register", "sms.send"],
        },
        {
            "key": "flagged_virtual",
            "label": _("A virtual-operator number whose account was flagged before"),
            "when": {
                "all": [
                    {"signal": "carrier_class", "op": "==", "value": "virtual"},
                    {"signal": "member.registration_score", "op": ">=", "value": 40},
                ]
            },
            "points": 30,
            "entries": ["signup.create", "coupon.claim", "referral.reward"],
        },
        {
            "key": "phone_run",
            "label": _("Accounts whose phone numbers run in sequence"),
            "when": {"signal": "phone_block.accounts_24h", "op": ">=", "value": 3},
            "points": 45,
            "entries": [*SIGNUP_ENTRIES, "sms.send"],
        },
        {
            "key": "phone_run_long",
            "label": _("Many accounts whose phone numbers run in sequence"),
            "when": {"signal": "phone_block.accounts_24h", "op": ">=", "value": 6},
            "points": 25,
            "entries": [*SIGNUP_ENTRIES, "sms.send"],
        },
        {
            "key": "fresh_shared_device",
            "label": _("A new account on a device other new accounts use"),
            "when": {
                "all": [
                    {"signal": "device.accounts_24h", "op": ">=", "value": 2},
                    {"signal": "member.age_s", "op": "<", "value": 600},
                ]
            },
            "points": 40,
            "entries": ["signup.create", "coupon.claim"],
        },
        {
            "key": "fresh_building_neighbours",
            "label": _("A new account at a building where other new accounts use neighbouring doors"),
            "when": {
                "all": [
                    {"signal": "building.other_accounts_24h", "op": ">=", "value": 2},
                    {"signal": "member.age_s", "op": "<", "value": 600},
                ]
            },
            "points": 45,
            "entries": ["signup.create", "coupon.claim"],
        },
        {
            "key": "building_many_accounts",
            "label": _("Many accounts at one building's addresses"),
            "when": {"signal": "building.accounts_24h", "op": ">=", "value": 5},
            "points": 30,
            "entries": ["signup.create", "coupon.claim", "member.register"],
        },
        {
            "key": "ring",
            "label": _("Part of a group of accounts sharing devices, payers or addresses"),
            "when": {"signal": "graph.component_size", "op": ">=", "value": 6},
            "points": 45,
            "entries": ALL_ACCOUNT_ENTRIES,
        },
        {
            "key": "payer_shared",
            "label": _("One payment account pays for several members"),
            "when": {"signal": "payer.accounts_24h", "op": ">=", "value": 3},
            "points": 40,
            "entries": ["order.ingest"],
        },
        {
            "key": "small_first_orders",
            "label": _("A group whose members each placed one tiny first order"),
            "when": {"signal": "graph.small_first_orders", "op": ">=", "value": 3},
            "points": 40,
            "entries": ALL_ACCOUNT_ENTRIES,
        },
        {
            "key": "address_variants",
            "label": _("Many accounts ship to one building"),
            "when": {"signal": "building.accounts_24h", "op": ">=", "value": 5},
            "points": 25,
            "entries": ["order.ingest", "coupon.claim"],
        },
        {
            "key": "invite_cycle",
            "label": _("Members invited each other in a circle"),
            "when": {"signal": "graph.invite_cycle", "op": "==", "value": True},
            "points": 60,
            "entries": ALL_ACCOUNT_ENTRIES,
        },
        {
            "key": "phone_burst",
            "label": _("Many verification codes asked for one number"),
            "when": {"signal": "phone.events_1h", "op": ">=", "value": 6},
            "points": 60,
            "action": "block",  # a review would send the code anyway (docs/risk.md): this one must not
            "entries": ["sms.send"],
        },
        {
            "key": "ip_sms_burst",
            "label": _("Many verification codes asked from one address"),
            "when": {
                "all": [
                    {"signal": "ip.events_1h", "op": ">=", "value": 20},
                    {"signal": "ip_class", "op": "!=", "value": "mobile"},
                ]
            },
            "points": 40,
            "entries": ["sms.send"],
        },
    ],
}
