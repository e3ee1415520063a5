"""Allow and block lists against their contract (services._listed, docs/risk.md "Lists and
precedence"): a block on any key blocks, except that an allow on the phone or identity (a person
vouched for) wins over a device or IP block; an allow alone allows, keeping the score; expired entries
count for nothing; IP entries match by network, IPv6 too. Entries keep hashes, never clear values."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from yunying.core.errors import DomainError
from yunying.core.permissions import Actor, Role
from yunying.risk.models import ListEntry
from yunying.risk.services import list_entry_add, risk_assess
from yunying.risk.signals import RiskInput, keyed_hash

pytestmark = pytest.mark.django_db

OPERATOR = Actor(kind="user", id=1, label="risk operator", role=Role.STRATEGY)
PHONE = "13800138000"
IDENTITY = "11010519491231002X"
DEVICE = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
HOME_IP = "114.80.1.1"
_refs = itertools.count(1)


def _add(kind: str, value: str, verdict: str, *, expired: bool = False) -> ListEntry:
    expires_at = timezone.now() - timedelta(minutes=1) if expired else None
    return list_entry_add(
        kind=kind, value=value, verdict=verdict, note="test", actor=OPERATOR, expires_at=expires_at
    )


def _assess(
    *, ip: str = HOME_IP, phone: str | None = PHONE, identity: str | None = None, device: str = DEVICE
):
    n = next(_refs)
    return risk_assess(
        RiskInput(
            entry="signup.create",
            subject_type="signup",
            subject_ref=f"S{n}",
            member_ref=f"M{n}",
            ip=ip,
            device_id=device,
            phone=phone,
            identity_number=identity,
            user_agent="Mozilla/5.0 (iPhone) Mobile Safari",
        )
    )


def _list_reason(verdict) -> tuple[str, str] | None:
    for reason in verdict.reasons:
        if reason["rule"].startswith("list."):
            return reason["rule"], reason["signals"]["list"]
    return None


# (id, entries [(kind, value, verdict, expired)], input overrides, action, (reason, kind))
PRECEDENCE = [
    ("phone-block+device-allow", [("phone", PHONE, "block", False), ("device", DEVICE, "allow", False)], {}, "block", ("list.block", "phone")),
    ("phone-allow+device-block", [("phone", PHONE, "allow", False), ("device", DEVICE, "block", False)], {}, "allow", ("list.allow", "phone")),
    ("identity-allow+ip-range-block", [("identity", IDENTITY, "allow", False), ("ip", "114.80.0.0/16", "block", False)], {"identity": IDENTITY}, "allow", ("list.allow", "identity")),
    ("phone-allow+ip-block", [("phone", PHONE, "allow", False), ("ip", HOME_IP, "block", False)], {}, "allow", ("list.allow", "phone")),
    ("phone-block+identity-allow", [("phone", PHONE, "block", False), ("identity", IDENTITY, "allow", False)], {"identity": IDENTITY}, "block", ("list.block", "phone")),
    ("identity-block+phone-allow", [("identity", IDENTITY, "block", False), ("phone", PHONE, "allow", False)], {"identity": IDENTITY}, "block", ("list.block", "identity")),
    ("ip-range-block-alone", [("ip", "114.80.0.0/16", "block", False)], {}, "block", ("list.block", "ip")),
    ("device-block+ip-allow", [("device", DEVICE, "block", False), ("ip", HOME_IP, "allow", False)], {}, "block", ("list.block", "device")),
    ("ip-block+device-allow", [("ip", HOME_IP, "block", False), ("device", DEVICE, "allow", False)], {}, "block", ("list.block", "ip")),
    ("device-allow-alone", [("device", DEVICE, "allow", False)], {}, "allow", ("list.allow", "device")),
    ("expired-phone-block", [("phone", PHONE, "block", True)], {}, "allow", None),
    ("expired-phone-allow+device-block", [("phone", PHONE, "allow", True), ("device", DEVICE, "block", False)], {}, "block", ("list.block", "device")),
    ("expired-ip-block", [("ip", "114.80.0.0/16", "block", True)], {}, "allow", None),
    ("ip-block-other-network", [("ip", "114.81.0.0/16", "block", False)], {}, "allow", None),
    ("ip-single-block-neighbour", [("ip", "114.80.1.2", "block", False)], {}, "allow", None),
    ("ip-single-block-exact", [("ip", "114.80.1.1", "block", False)], {}, "block", ("list.block", "ip")),
    ("ipv4-block-mapped-ipv6-address", [("ip", "114.80.0.0/16", "block", False)], {"ip": "::ffff:114.80.1.1"}, "block", ("list.block", "ip")),
    ("ipv6-range-block", [("ip", "240e:3b0:1::/48", "block", False)], {"ip": "240e:3b0:1:2::9"}, "block", ("list.block", "ip")),
    ("ipv6-range-other", [("ip", "240e:3b0:1::/48", "block", False)], {"ip": "240e:3b0:2::9"}, "allow", None),
    ("ipv6-subscriber-64", [("ip", "240e:3b0:1:2::/64", "block", False)], {"ip": "240e:3b0:1:2:aa::1"}, "block", ("list.block", "ip")),
    ("phone-block-other-number", [("phone", "13900139000", "block", False)], {}, "allow", None),
    ("ipv4-mapped-entry-blocks-the-ipv4-client", [("ip", "::ffff:114.80.1.1", "block", False)], {"ip": "114.80.1.1"}, "block", ("list.block", "ip")),
    ("ipv4-mapped-range-blocks-a-mapped-client", [("ip", "::ffff:114.80.0.0/112", "block", False)], {"ip": "::ffff:114.80.9.9"}, "block", ("list.block", "ip")),
    ("phone-block-spelt-otherwise", [("phone", "+86 138-0013-8000", "block", False)], {"phone": "１３８００１３８０００"}, "block", ("list.block", "phone")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("entries", "given", "action", "reason"),
    [row[1:] for row in PRECEDENCE],
    ids=[row[0] for row in PRECEDENCE],
)
def test_list_precedence(entries, given, action, reason):
    # given the list entries
    for kind, value, verdict, expired in entries:
        _add(kind, value, verdict, expired=expired)
    # when an event with those keys is judged
    verdict = _assess(**given)
    # then the list entry the precedence names decides (or the rules, which allow this event)
    assert verdict.action == action
    assert _list_reason(verdict) == reason


def test_an_allow_keeps_the_score():
    # given a vouched-for phone signing up from a data centre (30 points of rules)
    _add("phone", PHONE, "allow")
    # when judged / then it is allowed, with the score the rules gave and their reasons beside the list's
    verdict = _assess(ip="47.92.1.1")
    assert verdict.action == "allow"
    assert verdict.score == 30
    assert [r["rule"] for r in verdict.reasons] == ["list.allow", "datacentre_ip"]


def test_a_block_blocks_an_event_the_rules_would_allow():
    _add("device", DEVICE, "block")
    verdict = _assess()
    assert (verdict.action, verdict.score) == ("block", 0)


# ---------------------------------------------------------------- adding entries


@pytest.mark.parametrize(
    ("kind", "value", "note", "problem"),
    [
        ("phone", "010-12345678", "x", "not a mainland mobile number"),
        ("phone", "1380013800", "x", "not a mainland mobile number"),
        ("ip", "10.0.0.0/7", "x", "wider"),
        ("ip", "0.0.0.0/0", "x", "wider"),
        ("ip", "2400::/16", "x", "wider"),
        ("ip", "not-an-ip", "x", "not an IP"),
        ("identity", "12345", "x", "not an identity number"),
        ("device", "00000000-0000-0000-0000-000000000000", "x", "not a usable device id"),
        ("device", "unknown", "x", "not a usable device id"),
        ("phone", PHONE, "", "a note"),
        ("phone", PHONE, "   ", "a note"),
        ("email", "a@b.c", "x", "kind"),
        ("ip", "fe80::1%eth0", "x", "not an IP"),
        ("phone", "١٣٨٠٠١٣٨٠٠٠", "x", "not a mainland mobile number"),
    ],
    ids=["landline", "ten-digits", "ipv4-wider-than-8", "everything", "ipv6-wider-than-32", "garbage-ip", "short-identity", "zeroed-idfa", "unknown-device", "no-note", "blank-note", "unknown-kind", "scoped-ipv6", "arabic-indic-digits"],
)  # fmt: skip
def test_list_entry_add_refuses(kind, value, note, problem):
    with pytest.raises(DomainError) as refused:
        list_entry_add(kind=kind, value=value, verdict="block", note=note, actor=OPERATOR)
    assert refused.value.code == "risk.list_entry_invalid"
    assert problem in refused.value.data["problem"]
    assert not ListEntry.objects.exists()


@pytest.mark.parametrize(
    ("kind", "value", "normalised", "clear_parts"),
    [
        ("phone", "+86 138 0013 8000", PHONE, [PHONE, "00138000", "0013"]),
        ("identity", "11010519491231002x", IDENTITY, [IDENTITY, "19491231", "110105"]),
        ("device", DEVICE, DEVICE, [DEVICE, "8246-4BA4", "76104861E7DC"]),
    ],
    ids=["phone", "identity", "device"],
)
def test_a_person_s_entry_is_stored_as_a_hash(kind, value, normalised, clear_parts):
    # when an operator lists a phone, identity number or device
    entry = list_entry_add(kind=kind, value=value, verdict="block", note="fraud ring", actor=OPERATOR)
    # then the row holds the keyed hash and a masked hint, never the value
    entry.refresh_from_db()
    assert entry.value == keyed_hash(kind, normalised)
    for part in clear_parts:
        assert part not in entry.value
        assert part not in entry.hint
        assert part not in entry.note
    assert entry.hint


def test_a_second_entry_for_one_value_replaces_the_first():
    _add("phone", PHONE, "block")
    _add("phone", f"+86{PHONE}", "allow")
    assert list(ListEntry.objects.values_list("kind", "verdict")) == [("phone", "allow")]


def test_an_ip_entry_is_stored_as_its_network():
    entry = list_entry_add(kind="ip", value="114.80.1.77/24", verdict="block", note="x", actor=OPERATOR)
    assert entry.value == "114.80.1.0/24"
