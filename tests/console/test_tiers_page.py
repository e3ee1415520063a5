"""The tier programme editor: strategy saves levels and a policy; a nonsensical programme is refused
with every reason and nothing changes; other roles are refused; members per level are counted."""

from __future__ import annotations

import pytest

from yunying.core.permissions import Role
from yunying.loyalty.models import TierLevel, TierProgramme

pytestmark = pytest.mark.django_db


def form(**overrides) -> dict:
    data = {
        "basis": "growth", "period_days": "365", "downgrade_policy": "one_level", "cycle_months": "6",
        "growth_per_yuan": "1",
        "level-0-name": "普通", "level-0-threshold": "0",
        "level-1-name": "银卡", "level-1-threshold": "1000", "level-1-discount_permille": "980",
        "level-2-name": "金卡", "level-2-threshold": "5000", "level-2-points_multiplier_permille": "1500",
        "level-2-priority_service": "on", "level-2-benefits_text": "专属顾问",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_strategy_saves_the_programme(console_as):
    client = console_as(Role.STRATEGY)
    response = client.post("/console/loyalty/tiers/", form())
    assert response.status_code == 302, response.content[:2000]
    assert TierProgramme.objects.get().downgrade_policy == "one_level"
    assert list(TierLevel.objects.values_list("name", "threshold")) == [
        ("普通", 0),
        ("银卡", 1000),
        ("金卡", 5000),
    ]
    gold = TierLevel.objects.get(name="金卡")
    assert (gold.points_multiplier_permille, gold.priority_service, gold.benefits_text) == (
        1500,
        True,
        "专属顾问",
    )
    page = client.get("/console/loyalty/tiers/")
    assert b'id="tier-distribution"' in page.content and "金卡".encode() in page.content


@pytest.mark.parametrize(
    "overrides",
    [
        {"level-1-threshold": "0"},
        {"level-0-threshold": "5"},
        {"period_days": "abc"},
        {"level-1-threshold": "-3"},
    ],
)
def test_a_bad_programme_is_refused_and_nothing_changes(console_as, overrides):
    client = console_as(Role.STRATEGY)
    client.post("/console/loyalty/tiers/", form())
    response = client.post("/console/loyalty/tiers/", form(**overrides, **{"level-2-name": "钻石"}))
    assert response.status_code == 422 and b'id="tier-errors"' in response.content
    assert not TierLevel.objects.filter(name="钻石").exists()


@pytest.mark.parametrize("role", ["execution", "support", "auditor"])
def test_other_roles_are_refused(console_as, role):
    client = console_as(Role(role))
    assert client.get("/console/loyalty/tiers/").status_code == 403
    assert client.post("/console/loyalty/tiers/", form()).status_code == 403
    assert not TierLevel.objects.filter(name="金卡").exists()
