"""A failing engine against its contract (services.risk_assess): it never raises; it answers REVIEW
with the reason engine_unavailable, raises an alert, and a sign-up made meanwhile is held for a person
(pending review), never lost and never waved through. The faults are real: a live rule set that cannot
be judged with, stored past validation; the counters' table gone."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Campaign, Signup
from yunying.core.models import Alert
from yunying.risk.models import Decision, Hit, RuleVersion
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db


def _broken_rules():
    # given a live version whose content cannot be judged (written past rule_version_create's check)
    RuleVersion.objects.create(number=7, rules={"thresholds": {}, "rules": "not a list"}, state="live", author="x", reason="x")  # fmt: skip


def _dropped_counters():
    # given the counters' table gone (inside this test's transaction, so it comes back after)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(Hit._meta.db_table)}")


FAULTS = pytest.mark.parametrize(
    "fault", [_broken_rules, _dropped_counters], ids=["invalid-live-rules", "no-hit-table"]
)


@FAULTS
def test_a_failing_engine_answers_review_and_raises_an_alert(fault):
    fault()
    # when an event is judged
    verdict = risk_assess(RiskInput(entry="signup.create", subject_type="signup", subject_ref="S1", member_ref="M1", ip="47.92.1.1"))  # fmt: skip
    # then the answer is review, marked as a fallback, with the reason engine_unavailable
    assert verdict.action == "review"
    assert verdict.fallback is True
    assert [r["rule"] for r in verdict.reasons] == ["engine_unavailable"]
    assert not verdict.refuses
    # and an alert says so, naming the entry point
    alert = Alert.objects.get(code="risk.engine_unavailable")
    assert alert.data["entry"] == "signup.create"
    assert not Decision.objects.exists()  # the failed attempt's writes were rolled back


@FAULTS
def test_a_sign_up_is_not_lost_to_a_failing_engine(fault):
    # given a first-come campaign that would confirm at once
    campaign = CampaignFactory(status="published")
    fault()
    # when a member signs up
    signup = sign_up(campaign, mobile(1))
    # then the sign-up exists, held for a person, and takes no seat yet
    assert Signup.objects.get(pk=signup.pk).status == "pending_review"
    assert signup.status_note == "risk review"
    assert Campaign.objects.get(pk=campaign.pk).seats_taken == 0
    assert Alert.objects.filter(code="risk.engine_unavailable").count() == 1


def test_the_engine_works_again_once_the_fault_is_gone():
    _broken_rules()
    assert risk_assess(RiskInput(entry="sms.send", subject_type="sms", subject_ref="x")).fallback
    RuleVersion.objects.filter(number=7).update(state="retired")
    verdict = risk_assess(RiskInput(entry="sms.send", subject_type="sms", subject_ref="y"))
    assert (verdict.action, verdict.fallback) == ("allow", False)
