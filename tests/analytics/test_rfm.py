"""RFM scores and lifecycle labels against a small case computed by hand (docs/segments.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.analytics.factories import member, order
from yunying.analytics import rfm
from yunying.analytics.models import LifecycleSnapshot, MemberRfm
from yunying.analytics.selectors import lifecycle_counts, lifecycle_history, rfm_grid
from yunying.analytics.services import rfm_recompute

# Microseconds on purpose: the epoch read must not trip over them on SQLite.
NOW = datetime(2026, 12, 4, 12, 0, 0, 250000, tzinfo=UTC)

# name: (registered days ago, [(paid days ago, total fen, refunded fen, status)])
CASE = {
    "A": (400, [(2, 10000, 0, "paid"), (10, 5000, 1000, "partially_refunded"), (1, 99999, 0, "cancelled")]),
    "B": (200, [(100, 3000, 0, "paid")]),
    "C": (300, [(d, 1000, 0, "paid") for d in (1, 4, 8, 12, 16, 20)]),
    "D": (400, [(200, 2000, 0, "paid"), (250, 2000, 0, "paid")]),
    "E": (400, [(60, 2500, 0, "paid"), (90, 2500, 0, "paid")]),
    "F": (5, []),
    "G": (365, []),
    "H": (60, []),
    "I": (10, [(3, 800, 0, "paid")]),
}

# Worked by hand: six buyers (n = 6), score = 1 + 5 * (rank - 1) // 6, ties share the lower rank.
# R by last order, oldest first: D B E I A C -> 1 1 2 3 4 5.
# F by orders: B I (1) rank 1, A D E (2) rank 3, C (6) rank 6 -> B I 1, A D E 2, C 5.
# M by net fen: I 800, B 3000, D 4000, E 5000, C 6000, A 14000 (cancelled left out, refund taken
# off) -> 1 1 2 3 4 5.
EXPECTED = {
    #      recency freq  net    R  F  M  label
    "A": (2, 2, 14000, 4, 2, 5, "active"),
    "B": (100, 1, 3000, 1, 1, 1, "potential"),
    "C": (1, 6, 6000, 5, 5, 4, "high_frequency"),
    "D": (200, 2, 4000, 1, 2, 2, "dormant"),
    "E": (60, 2, 5000, 2, 2, 3, "at_risk"),
    "F": (None, 0, 0, 0, 0, 0, "new"),
    "G": (None, 0, 0, 0, 0, 0, "dormant"),
    "H": (None, 0, 0, 0, 0, 0, "potential"),
    "I": (3, 1, 800, 3, 1, 1, "new"),
}


@pytest.fixture
def case(db):
    ids = {}
    for name, (registered, orders) in CASE.items():
        who = member(now=NOW, registered_days_ago=registered)
        ids[name] = who.pk
        for days_ago, total, refunded, status in orders:
            order(who, now=NOW, days_ago=days_ago, total_fen=total, refunded_fen=refunded, status=status)
    return ids


def test_rfm_and_lifecycle_match_the_hand_computed_case(case):
    # when
    run = rfm_recompute(now=NOW)
    # then
    assert run.members == 9
    assert run.orders == 14  # the cancelled order is not read
    got = {
        name: (
            row.recency_days,
            row.frequency,
            row.monetary_fen,
            row.r_score,
            row.f_score,
            row.m_score,
            row.lifecycle,
        )
        for name, pk in case.items()
        for row in [MemberRfm.objects.get(member_id=pk)]
    }
    assert got == EXPECTED
    a = MemberRfm.objects.get(member_id=case["A"])
    assert a.computed_at == NOW


def test_the_last_paid_time_round_trips_to_the_second(case):
    rfm_recompute(now=NOW)
    a = MemberRfm.objects.get(member_id=case["A"])
    assert a.last_paid_at == datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)


def test_the_day_snapshot_counts_each_label_and_a_rerun_replaces_it(case):
    rfm_recompute(now=NOW)
    rfm_recompute(now=NOW)  # same day again: the same rows, not twice
    snapshot = dict(LifecycleSnapshot.objects.filter(day=date(2026, 12, 4)).values_list("lifecycle", "count"))
    assert snapshot == {
        "new": 2,
        "active": 1,
        "high_frequency": 1,
        "potential": 2,
        "at_risk": 1,
        "dormant": 2,
    }
    assert lifecycle_counts() == {k: v for k, v in snapshot.items() if v}
    assert MemberRfm.objects.count() == 9
    history = lifecycle_history()
    assert history["days"] == ["2026-12-04"]
    assert history["series"]["dormant"] == [2]


def test_rfm_grid_sums_members_and_net_fen_per_r_and_f(case):
    rfm_recompute(now=NOW)
    grid = {(c["r_score"], c["f_score"]): (c["members"], c["monetary_fen"]) for c in rfm_grid()}
    assert grid == {
        (4, 2): (1, 14000),
        (1, 1): (1, 3000),
        (5, 5): (1, 6000),
        (1, 2): (1, 4000),
        (2, 2): (1, 5000),
        (3, 1): (1, 800),
    }


@pytest.mark.parametrize(
    ("thresholds", "expected_c"),
    [
        ({"high_frequency_orders": 7}, "active"),  # six orders are no longer high-frequency
        ({"active_days": 0}, "at_risk"),  # nothing recent enough to be active
    ],
    ids=["hf-threshold", "active-window"],
)
def test_thresholds_are_configurable(case, settings, thresholds, expected_c):
    settings.LIFECYCLE_THRESHOLDS = {**settings.LIFECYCLE_THRESHOLDS, **thresholds}
    rfm_recompute(now=NOW)
    assert MemberRfm.objects.get(member_id=case["C"]).lifecycle == expected_c


def test_compute_is_pure_over_arrow():
    import pyarrow as pa

    now_s = int(NOW.timestamp())
    orders = pa.table(
        {"member_id": [1, 1], "paid_epoch": [now_s - 86400, now_s - 3 * 86400], "net_fen": [5, 7]}
    )
    members = pa.table({"member_id": [1, 2], "created_epoch": [now_s - 400 * 86400, now_s]})
    out = rfm.rfm_compute(
        orders,
        members,
        now=NOW,
        thresholds={
            "new_days": 30,
            "active_days": 30,
            "high_frequency_orders": 5,
            "at_risk_orders": 2,
            "dormant_days": 180,
        },
    ).to_pylist()
    assert [
        (r["member_id"], r["frequency"], r["monetary_fen"], r["recency_days"], r["lifecycle"]) for r in out
    ] == [
        (1, 2, 12, 1, "active"),
        (2, 0, 0, None, "new"),
    ]
