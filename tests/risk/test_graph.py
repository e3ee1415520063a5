"""The shared-attribute graph against its contract (risk/graph.py, docs/risk.md "Signals"): members
join one component through a shared device, payer, address or identity number (never an IP); its size
counts members; an invite cycle is seen by the member closing it; small first orders count once per
member."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from yunying.risk.models import Decision
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db

T = datetime(2026, 11, 11, 12, 0, 0, tzinfo=UTC)
_refs = itertools.count(1)


def _event(member: str, *, entry: str = "signup.create", **values) -> dict:
    n = next(_refs)
    verdict = risk_assess(
        RiskInput(entry=entry, subject_type="order" if entry == "order.ingest" else "signup", subject_ref=f"S{n}",
                  member_ref=member, at=T + timedelta(seconds=n), **values)
    )  # fmt: skip
    assert not verdict.fallback
    return Decision.objects.get(pk=verdict.decision_id).signals


def _size(member: str, **values) -> int:
    return _event(member, **values)["graph.component_size"]


DEVICE_1, DEVICE_2 = "6D92078A-8246-4BA4-AE5B-76104861E7DC", "a1b2c3d4e5f6a7b8"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"device_id": DEVICE_1}, {"device_id": f" {DEVICE_1} "}),
        ({"payer": "alipay:2088000000000001"}, {"payer": "ALIPAY:2088000000000001"}),
        ({"address": "上海市张江路88号3-2-501"}, {"address": "上海市 张江路 88號 3幢2单元501室"}),
        ({"identity_number": "11010519491231002x"}, {"identity_number": "11010519491231002X"}),
    ],
    ids=["device", "payer", "address-variant", "identity"],
)
def test_a_shared_attribute_links_two_members(first, second):
    # given member A with an attribute
    assert _size("A", **first) == 1
    # when member B comes with the same attribute (spelt otherwise)
    # then they are one component of two members
    assert _size("B", **second) == 2


def test_a_shared_ip_links_no_one():
    _size("A", ip="114.80.1.1")
    assert _size("B", ip="114.80.1.1") == 1


def test_an_unusable_device_links_no_one():
    _size("A", device_id="00000000-0000-0000-0000-000000000000")
    assert _size("B", device_id="00000000-0000-0000-0000-000000000000") == 1


def test_components_merge_through_a_member_with_attributes_of_both():
    # given A and B on device 1, C and D on payer p
    _size("A", device_id=DEVICE_1)
    _size("B", device_id=DEVICE_1)
    _size("C", payer="p-1", entry="order.ingest", amount_fen=5000)
    assert _size("D", payer="p-1", entry="order.ingest", amount_fen=5000) == 2
    # when E shows up on device 1 and pays with p
    assert _size("E", device_id=DEVICE_1, payer="p-1", entry="order.ingest", amount_fen=5000) == 5
    # then everyone reads the merged component
    assert _size("A") == 5
    assert _size("C") == 5


def test_the_size_counts_members_not_attributes():
    signals = _event(
        "A", device_id=DEVICE_1, payer="p-1", address="上海市张江路88号", identity_number="11010519491231002X"
    )
    assert signals["graph.component_size"] == 1
    assert _size("A", device_id=DEVICE_2) == 1  # the same member again is still one


def test_an_event_without_a_member_is_not_in_the_graph():
    signals = _event("", device_id=DEVICE_1)
    assert signals["graph.component_size"] == 0
    assert _size("A", device_id=DEVICE_1) == 1


def test_an_invite_cycle_is_seen_by_the_member_closing_it():
    # given A invited B and B invited C
    assert _event("A", entry="referral.reward")["graph.invite_cycle"] is False
    assert _event("B", entry="referral.reward", invited_by="A")["graph.invite_cycle"] is False
    assert _event("C", entry="referral.reward", invited_by="B")["graph.invite_cycle"] is False
    # when A is invited by C
    closing = _event("A", entry="referral.reward", invited_by="C")
    # then A's event sees the cycle, and the three are one component
    assert closing["graph.invite_cycle"] is True
    assert closing["graph.component_size"] == 3
    assert "invite_cycle" in {r["rule"] for r in Decision.objects.latest("pk").reasons}


def test_an_invite_chain_is_not_a_cycle():
    seen = [_event(member, entry="referral.reward", invited_by=inviter) for member, inviter in (("A", ""), ("B", "A"), ("C", "B"), ("D", "C"))]  # fmt: skip
    assert [s["graph.invite_cycle"] for s in seen] == [False] * 4
    assert seen[-1]["graph.component_size"] == 4


def test_a_cycle_further_up_is_not_this_member_s():
    # B and C invited each other; D was invited by B
    _event("B", entry="referral.reward", invited_by="C")
    assert _event("C", entry="referral.reward", invited_by="B")["graph.invite_cycle"] is True
    assert _event("D", entry="referral.reward", invited_by="B")["graph.invite_cycle"] is False


def test_a_member_inviting_itself_is_no_edge():
    signals = _event("A", entry="referral.reward", invited_by="A")
    assert (signals["graph.invite_cycle"], signals["graph.component_size"]) == (False, 1)


def _order(member: str, fen: int, payer: str = "p-1") -> int:
    return _event(member, entry="order.ingest", payer=payer, amount_fen=fen)["graph.small_first_orders"]


def test_small_first_orders_count_once_per_member():
    # A's first order is ¥5, then another small one: one small first order
    assert _order("A", 500) == 1
    assert _order("A", 800) == 1
    # B (same payer) first orders ¥50, later ¥1: its first order was not small
    assert _order("B", 5000) == 1
    assert _order("B", 100) == 1
    # C's first order is exactly ¥10: small
    assert _order("C", 1000) == 2
    # D's first is ¥10.01: not small
    assert _order("D", 1001) == 2


def test_a_sign_up_before_the_first_order_does_not_make_one():
    _event("A", device_id=DEVICE_1)
    assert _event("A", device_id=DEVICE_1)["graph.small_first_orders"] == 0
    assert _order("A", 100) == 1
