"""Two operators pressing "send" or "issue" at once (a double click, two tabs): each affected member
gets one notice and one coupon. SQLite and PostgreSQL, one connection per thread."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.members.factories import MemberFactory
from tests.promotions.helpers import promotion_make
from tests.rush import at_once
from yunying.core.permissions import Actor, Role
from yunying.notify.models import OutboxMessage
from yunying.privacy import breach
from yunying.privacy import breach_compensation as compensation
from yunying.promotions.models import Coupon

pytestmark = pytest.mark.django_db(transaction=True)
LEAD = Actor(kind="user", id=None, label="lead", role=Role.STRATEGY)
N = 4


def _rush(call) -> list:
    return at_once([call] * N)


def _incident(members: int):
    incident = breach.breach_open(
        title="Leak", discovered_at=timezone.now() - timedelta(minutes=5), data_kinds=["phone"],
        is_drill=False, actor=LEAD,
    )  # fmt: skip
    ids = [MemberFactory().pk for _ in range(members)]
    breach.breach_affected_add(incident_id=incident.pk, member_ids=ids, actor=LEAD)
    return incident, ids


def test_sending_at_once_messages_each_member_once():
    incident, ids = _incident(6)
    outcomes = _rush(lambda: breach.breach_notice_send(incident_id=incident.pk, actor=LEAD))
    assert sum(o.queued for o in outcomes if not isinstance(o, str)) == 6, outcomes
    assert sorted(OutboxMessage.objects.values_list("member_id", flat=True)) == sorted(ids)


def test_compensating_at_once_issues_one_coupon_each():
    coupon = promotion_make("coupon_off", threshold_fen=0, off_fen=500, per_member_limit=3)
    incident, ids = _incident(6)
    compensation.breach_compensation_plan(
        incident_id=incident.pk, kind="coupon", promotion_id=coupon.pk, actor=LEAD
    )
    outcomes = _rush(lambda: compensation.breach_compensate(incident_id=incident.pk, actor=LEAD))
    assert sum(o.issued for o in outcomes if not isinstance(o, str)) == 6, outcomes
    assert sorted(Coupon.objects.values_list("member_id", flat=True)) == sorted(ids)
