"""Member tiers (L1): every member has a level from the start; upgrades at once; downgrades by the
programme's policy; growth follows orders and their refunds; the level's multiplier and history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.commerce.helpers import ingest, order_payload
from yunying.commerce.services import order_refund
from yunying.commerce.validation import RefundInput
from yunying.core.errors import ValidationFailed
from yunying.core.permissions import SYSTEM, Actor, Role
from yunying.loyalty.models import DowngradePolicy, GrowthPosting, MemberTier, TierChange, TierLevel
from yunying.loyalty.tiers import (
    LevelSpec,
    level_for,
    member_level,
    programme_save,
    tier_evaluate,
    tier_points_multiplier_permille,
    tier_progress,
)
from yunying.members.models import Member
from yunying.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db
STRATEGY = Actor(kind="user", id=1, label="director", role=Role.STRATEGY)
LEVELS = [
    LevelSpec("普通", 0),
    LevelSpec("银卡", 100, points_multiplier_permille=1200),
    LevelSpec("金卡", 500, discount_permille=950, points_multiplier_permille=1500),
    LevelSpec("钻石", 2000, discount_permille=900, points_multiplier_permille=2000, priority_service=True),
]


def save(policy=DowngradePolicy.BY_VALUE, basis="growth", cycle_months=12, specs=LEVELS):
    return programme_save(
        basis=basis, period_days=365, downgrade_policy=policy, cycle_months=cycle_months, growth_per_yuan=1,
        level_specs=specs, actor=STRATEGY,
    )  # fmt: skip


def grow(member, points, key, *, at=None):
    GrowthPosting.objects.create(
        member=member,
        business_key=key,
        points=points,
        source="manual",
        at=at or timezone.now() - timedelta(hours=1),
    )


@pytest.fixture
def member():
    return Member.objects.create(external_id="t-1")


def test_ruoyi_1026_a_new_member_at_zero_growth_has_the_base_level(member):
    """ruoyi-vue-pro#1026: members with 0 growth got no level at all."""
    save()
    assert member_level(member.pk).name == "普通"
    assert tier_evaluate(member.pk).name == "普通"
    progress = tier_progress(member.pk)
    assert (progress.value, progress.next_level.name, progress.missing, progress.percent) == (
        0,
        "银卡",
        100,
        0,
    )


@pytest.mark.parametrize(
    ("value", "level"),
    [(0, "普通"), (99, "普通"), (100, "银卡"), (499, "银卡"), (500, "金卡"), (10**9, "钻石")],
)
def test_the_level_a_value_earns(value, level):
    save()
    assert level_for(value, list(TierLevel.objects.order_by("rank"))).name == level


def test_an_order_upgrades_at_once_and_its_refund_takes_growth_back(member):
    save()
    ingest(order_payload("T-1", member={"external_id": "t-1"}))  # ¥149.97 → 149 growth
    assert member_level(member.pk).name == "银卡"
    assert TierChange.objects.get().why == "upgrade"
    order_refund(
        external_id="T-1",
        refund=RefundInput(
            external_id="R-1",
            line_no=1,
            amount_fen=9000,
            quantity=None,
            reason="",
            occurred_at=timezone.now(),
        ),
        actor=SYSTEM,
    )
    assert sum(GrowthPosting.objects.values_list("points", flat=True)) == 59
    assert member_level(member.pk).name == "银卡"  # the order's transaction never downgrades
    assert tier_evaluate(member.pk).name == "普通"  # the job does (by value)


# (policy, value after the drop, days since the level was reached, expected level)
DOWNGRADES = [
    (DowngradePolicy.BY_VALUE, 0, 1, "普通"),
    (DowngradePolicy.BY_VALUE, 150, 1, "银卡"),
    (DowngradePolicy.ONE_LEVEL, 0, 1, "钻石"),  # the cycle has not ended
    (DowngradePolicy.ONE_LEVEL, 0, 400, "金卡"),  # one level only
    (DowngradePolicy.END_OF_CYCLE, 0, 1, "钻石"),
    (DowngradePolicy.END_OF_CYCLE, 150, 400, "银卡"),  # straight to what the value earns
    (DowngradePolicy.END_OF_CYCLE, 2500, 400, "钻石"),  # kept
]


@pytest.mark.parametrize(("policy", "value", "days", "expected"), DOWNGRADES)
def test_downgrades_follow_the_policy(member, policy, value, days, expected):
    save(policy=policy)
    start = timezone.now() - timedelta(days=days)
    grow(member, 2000, "reach", at=start - timedelta(hours=1))
    tier_evaluate(member.pk, now=start)
    assert member_level(member.pk).name == "钻石"
    GrowthPosting.objects.filter(business_key="reach").update(at=timezone.now() - timedelta(days=800))
    if value:
        grow(member, value, "now")
    assert tier_evaluate(member.pk).name == expected


def test_one_level_at_a_time_waits_a_cycle_between_drops(member):
    save(policy=DowngradePolicy.ONE_LEVEL, cycle_months=1)
    start = timezone.now() - timedelta(days=100)
    grow(member, 2000, "reach", at=start - timedelta(hours=1))
    tier_evaluate(member.pk, now=start)
    GrowthPosting.objects.filter(business_key="reach").update(at=start - timedelta(days=800))
    assert tier_evaluate(member.pk, now=start + timedelta(days=40)).name == "金卡"
    assert tier_evaluate(member.pk, now=start + timedelta(days=50)).name == "金卡"  # same cycle
    assert tier_evaluate(member.pk, now=start + timedelta(days=80)).name == "银卡"
    assert list(TierChange.objects.values_list("why", flat=True).order_by("pk")) == [
        "upgrade",
        "downgrade",
        "downgrade",
    ]


def test_changes_are_kept_and_the_member_is_told(member):
    """The notice is queued in the change's own transaction (no on_commit callback runs here): a crash
    after the commit cannot lose it (faults review)."""
    save()
    grow(member, 600, "g")
    tier_evaluate(member.pk)
    change = TierChange.objects.get()
    assert (change.from_level.name, change.to_level.name, change.value) == ("普通", "金卡", 600)
    message = OutboxMessage.objects.get(member_id=member.pk)
    assert message.template == "loyalty.tier_changed"


def test_the_levels_multiplier_applies_to_order_points(member):
    save()
    grow(member, 600, "g")
    tier_evaluate(member.pk)
    assert tier_points_multiplier_permille(member.pk) == 1500


@pytest.mark.parametrize(
    "specs",
    [
        [LevelSpec("a", 5)],  # the base level's threshold is 0
        [LevelSpec("a", 0), LevelSpec("b", 0)],  # thresholds rise
        [LevelSpec("a", 0), LevelSpec("", 10)],
        [LevelSpec("a", 0, discount_permille=0)],
        [],
    ],
)
def test_a_programme_that_makes_no_sense_is_refused(specs):
    with pytest.raises(ValidationFailed):
        save(specs=specs)


def test_only_strategy_configures_tiers():
    from yunying.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        programme_save(
            basis="growth", period_days=365, downgrade_policy="by_value", cycle_months=12, growth_per_yuan=1,
            level_specs=LEVELS, actor=Actor(kind="user", id=2, label="ops", role=Role.EXECUTION),
        )  # fmt: skip
    assert refused.value.code == "core.permission_denied"


def test_removing_top_levels_moves_their_members_down(member):
    save()
    grow(member, 3000, "g")
    tier_evaluate(member.pk)
    save(specs=LEVELS[:2])
    assert MemberTier.objects.get(member=member).level.name == "银卡"


@hsettings(max_examples=30, deadline=None)
@given(values=st.lists(st.integers(min_value=-500, max_value=3000), min_size=1, max_size=6))
def test_property_by_value_the_level_is_always_what_the_value_earns(values):
    """Under BY_VALUE, after any sequence of growth changes, the level is the highest whose threshold
    the value reaches, and the history ends where the member is."""
    save()
    member = Member.objects.create(external_id=f"p-{Member.objects.count()}")
    for n, value in enumerate(values):
        grow(member, value, f"p-{member.pk}-{n}")
        level = tier_evaluate(member.pk)
        total = max(0, sum(values[: n + 1]))
        assert level.name == level_for(total, list(TierLevel.objects.order_by("rank"))).name
    last = TierChange.objects.filter(member=member).order_by("-pk").first()
    assert last is None or last.to_level == member_level(member.pk)


def test_a_members_only_campaign_admits_the_level_and_above():
    """Exclusive campaigns (a level's benefit): eligibility.min_tier_rank refuses lower levels."""
    from tests.campaigns.factories import CampaignFactory
    from tests.campaigns.helpers import sign_up
    from tests.members.factories import mobile
    from yunying.core.errors import DomainError
    from yunying.members.services import member_find

    save()
    sign_up(CampaignFactory(status="published"), mobile(41))  # a known member, on the base level
    campaign = CampaignFactory(status="published", capacity=10, eligibility={"min_tier_rank": 2})
    with pytest.raises(DomainError) as refused:
        sign_up(campaign, mobile(41))
    assert [r["code"] for r in refused.value.data["reasons"]] == ["eligibility.min_tier"]
    member = member_find(phone=mobile(41))
    grow(member, 600, "gold")  # 金卡 is rank 2
    tier_evaluate(member.pk)
    assert sign_up(campaign, mobile(41)).status == "confirmed"


def test_the_birthday_gift_is_the_levels_once_a_year():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from yunying.loyalty.models import PointAccount
    from yunying.loyalty.tiers import birthday_gifts_due

    specs = [LevelSpec("普通", 0, birthday_points=10), LevelSpec("金卡", 500, birthday_points=300)]
    save(specs=specs)
    gold = Member.objects.create(external_id="bd-gold", birth_date=date(1990, 6, 1))
    plain = Member.objects.create(external_id="bd-plain", birth_date=date(1991, 6, 1))
    leap = Member.objects.create(external_id="bd-leap", birth_date=date(2000, 2, 29))
    grow(gold, 600, "bd")
    tier_evaluate(gold.pk)
    june_first = datetime(2026, 6, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert birthday_gifts_due(june_first) == {"birthday_gifts": 2}
    assert birthday_gifts_due(june_first) == {}  # once a year
    assert PointAccount.objects.get(member=gold).balance == 300
    assert PointAccount.objects.get(member=plain).balance == 10
    assert birthday_gifts_due(datetime(2026, 2, 28, 9, tzinfo=ZoneInfo("Asia/Shanghai"))) == {
        "birthday_gifts": 1
    }
    assert PointAccount.objects.get(member=leap).balance == 10


def test_evaluating_a_member_locks_their_tier_row_not_the_shared_level(member):
    """FOR UPDATE with select_related locked the joined level row too: every order of every member on
    a level ran one at a time (faults review). Only the member's own row is locked."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    save()
    tier_evaluate(member.pk)
    with CaptureQueriesContext(connection) as queries:
        tier_evaluate(member.pk)
    locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    if connection.vendor == "postgresql":
        assert locking and all('FOR UPDATE OF "loyalty_membertier"' in sql for sql in locking), locking
    else:
        assert locking == []  # SQLite has no row locks: the write lock serialises
