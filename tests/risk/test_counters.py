"""Velocity counters against their contract (risk/counters.py, docs/risk.md "Signals"): events of this
entry point under a key in the last minute, hour and day, distinct members, per-campaign counts — all
as of the event's `at`, so a backtest replays recorded time. In the database and in Redis alike."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from yunying.risk.models import Decision
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db

T = datetime(2026, 11, 11, 12, 0, 0, tzinfo=UTC)
IP = "114.80.1.1"
_refs = itertools.count(1)


def _event(at: datetime, *, member: str = "", entry: str = "signup.create", campaign: str = "", ip: str = IP, **values) -> dict:  # fmt: skip
    """Judge one event; its signals as stored on the decision."""
    n = next(_refs)
    verdict = risk_assess(
        RiskInput(entry=entry, subject_type="signup", subject_ref=f"S{n}", member_ref=member, at=at, ip=ip, campaign_ref=campaign, **values)
    )  # fmt: skip
    assert not verdict.fallback
    return Decision.objects.get(pk=verdict.decision_id).signals


@pytest.mark.parametrize(
    ("ago", "window", "counted"),
    [
        (timedelta(seconds=59), "1m", True),
        (timedelta(seconds=61), "1m", False),
        (timedelta(minutes=59, seconds=59), "1h", True),
        (timedelta(hours=1, seconds=1), "1h", False),
        (timedelta(hours=23, minutes=59), "24h", True),
        (timedelta(hours=24, seconds=1), "24h", False),
    ],
    ids=["59s-in-1m", "61s-not-in-1m", "59m59s-in-1h", "1h1s-not-in-1h", "23h59m-in-24h", "24h1s-not-in-24h"],
)
def test_an_earlier_event_counts_in_a_window_as_of_at(store, ago, window, counted):
    # given an event under the same IP `ago` before T
    _event(T - ago, member="A")
    # when the next one is judged at T
    signals = _event(T, member="B")
    # then the window counts both, or only the event itself
    assert signals[f"ip.events_{window}"] == (2 if counted else 1)


def test_the_windows_count_events_of_this_entry_point_including_this_one(store):
    for ago in (timedelta(hours=5), timedelta(minutes=30), timedelta(seconds=30)):
        _event(T - ago, member="A")
    _event(T - timedelta(seconds=10), member="A", entry="sms.send")  # another entry point
    signals = _event(T, member="A")
    assert (signals["ip.events_1m"], signals["ip.events_1h"], signals["ip.events_24h"]) == (2, 3, 4)
    assert signals["ip24.events_24h"] == 4


def test_accounts_are_distinct_members(store):
    # given members A (twice), B, and an event with no member yet, on one IP within the hour; C two hours ago
    _event(T - timedelta(hours=2), member="C")
    _event(T - timedelta(minutes=20), member="A")
    _event(T - timedelta(minutes=10), member="A")
    _event(T - timedelta(minutes=5), member="", entry="sms.send")
    _event(T - timedelta(minutes=1), member="B")
    # when A comes again
    signals = _event(T, member="A")
    # then the hour saw A and B, the day A, B and C
    assert (signals["ip.accounts_1h"], signals["ip.accounts_24h"]) == (2, 3)


def test_neighbours_in_one_block_share_the_block_count_not_the_address_count(store):
    _event(T - timedelta(minutes=1), member="A", ip="114.80.1.2")
    signals = _event(T, member="B", ip="114.80.1.3")
    assert (signals["ip.accounts_1h"], signals["ip24.accounts_1h"]) == (1, 2)


def test_campaign_events_are_counted_per_campaign(store):
    # given member A signing up for campaign 1 twice and campaign 2 once
    _event(T - timedelta(hours=3), member="A", campaign="1")
    _event(T - timedelta(hours=2), member="A", campaign="2")
    _event(T - timedelta(hours=1), member="A", campaign="1")
    _event(T - timedelta(minutes=1), member="B", campaign="1")
    # when A signs up for campaign 1 again
    signals = _event(T, member="A", campaign="1")
    # then A's count for campaign 1 is three (this one included), and the campaign saw four sign-ups
    # from this address; the campaign as a whole is not a velocity key (early warning's job)
    assert signals["member.campaign_events"] == 3
    assert signals["ip.campaign_events"] == 4
    assert not any(name.startswith("campaign.") for name in signals)


def test_no_key_no_count(store):
    signals = _event(T, member="", ip="")
    assert {name: value for name, value in signals.items() if name.startswith(("ip.", "ip24."))} == {
        f"{kind}.{name}": 0
        for kind in ("ip", "ip24")
        for name in ("events_1m", "events_1h", "events_24h", "accounts_1h", "accounts_24h", "campaign_events")
    }


def test_a_replay_of_past_time_counts_as_of_each_event(store):
    # given a day of traffic recorded a month ago, replayed in time order
    start = T - timedelta(days=30)
    seen = [_event(start + timedelta(seconds=20 * i), member=f"M{i % 3}") for i in range(5)]
    # then each event saw the events before it as of its own time, and not the present
    assert [s["ip.events_1m"] for s in seen] == [1, 2, 3, 3, 3]
    assert [s["ip.accounts_1h"] for s in seen] == [1, 2, 3, 3, 3]
    # and the member's age is measured on the recorded clock
    assert [s["member.age_s"] for s in seen] == [0, 0, 0, 60, 60]


def test_an_event_later_than_at_is_not_counted(store):
    # given an event recorded at T
    _event(T, member="A")
    # when an event of a minute earlier is judged (a backtest replaying it)
    signals = _event(T - timedelta(seconds=30), member="B")
    # then the later event is not in its windows
    assert (signals["ip.events_1m"], signals["ip.accounts_24h"]) == (1, 1)


def test_absent_keys_give_zero(store):
    # given an event with no device, phone, identity, address or payer (docs/risk.md: absent keys give 0)
    signals = _event(T, member="A", ip=IP)
    # then their counts are there, and zero, so a rule can say "none"
    for kind in ("device", "phone", "identity", "address", "payer"):
        for name in (
            "events_1m",
            "events_1h",
            "events_24h",
            "accounts_1h",
            "accounts_24h",
            "campaign_events",
        ):
            assert signals[f"{kind}.{name}"] == 0, f"{kind}.{name}"
    assert signals["ip.events_1m"] == 1


def test_an_ipv4_mapped_address_is_one_key_with_its_ipv4_address(store):
    _event(T - timedelta(seconds=5), member="A", ip="::ffff:114.80.1.1")
    assert _event(T, member="B", ip="114.80.1.1")["ip.accounts_1h"] == 2
