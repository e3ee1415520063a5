"""Budget top-ups (dynamic budgets): another console user approves what one asked for (two-person
rule), never the requester, nor an API key or a command that could stand for them."""

from __future__ import annotations

import pytest

from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Actor, Role
from yunying.promotions.models import Budget
from yunying.promotions.services import budget_create, topup_decide, topup_request

pytestmark = pytest.mark.django_db
ASKER = Actor(kind="user", id=21, label="运营小李", role=Role.STRATEGY)
SECOND = Actor(kind="user", id=22, label="运营总监", role=Role.STRATEGY)


def test_a_top_up_is_approved_by_another_console_user_only():
    budget = budget_create(scope="channel", channel="app", base_fen=10000, actor=SYSTEM)
    topup = topup_request(budget_id=budget.pk, amount_fen=5000, reason="爆单", actor=ASKER)
    stand_ins = [ASKER, Actor(kind="api_key", id=22, label="key", role=Role.STRATEGY), SYSTEM]
    for actor in stand_ins:
        with pytest.raises(DomainError) as refused:
            topup_decide(topup_id=topup.pk, approve=True, actor=actor)
        assert refused.value.code == "promotion.same_person"
    assert Budget.objects.get(pk=budget.pk).topup_fen == 0
    # when
    topup_decide(topup_id=topup.pk, approve=True, actor=SECOND)
    # then
    assert Budget.objects.get(pk=budget.pk).topup_fen == 5000
