"""Campaign lifecycle (C1, C12): the transition table, publish checks, rules locked once published."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest
from django.db import connection
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.conftest import window
from tests.members.factories import mobile
from yunying.campaigns.jobs import campaigns_advance_due
from yunying.campaigns.models import CampaignStatus
from yunying.campaigns.services import lifecycle
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM

pytestmark = pytest.mark.django_db

ALLOWED = {
    ("draft", "published"),
    ("draft", "cancelled"),
    ("published", "closed"),
    ("published", "cancelled"),
    ("closed", "finished"),
    ("closed", "cancelled"),
}


def _move(campaign_id, to):
    if to == "published":
        return lifecycle.campaign_publish(campaign_id=campaign_id, actor=SYSTEM)
    if to == "closed":
        return lifecycle.campaign_close(campaign_id=campaign_id, actor=SYSTEM)
    if to == "finished":
        return lifecycle.campaign_finish(campaign_id=campaign_id, actor=SYSTEM)
    if to == "draft":
        pytest.skip("no action moves a campaign back to draft")
    return lifecycle.campaign_cancel(campaign_id=campaign_id, actor=SYSTEM, reason="预算调整")


@pytest.mark.parametrize(
    ("source", "target"),
    [pytest.param(s, t, id=f"{s}->{t}") for s, t in product(CampaignStatus.values, repeat=2) if t != "draft"],
)
def test_only_the_allowed_transitions_happen(source, target):
    # given
    campaign = CampaignFactory(status=source)
    # when / then
    if (source, target) in ALLOWED:
        assert _move(campaign.pk, target).status == target
    else:
        with pytest.raises(DomainError) as refused:
            _move(campaign.pk, target)
        assert refused.value.code == "campaign.invalid_transition"
        campaign.refresh_from_db()
        assert campaign.status == source


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        pytest.param({"rules_text": ""}, ["rules_text"], id="no-rules"),
        pytest.param({"channels": []}, ["channels"], id="no-channels"),
        pytest.param(
            {
                "signup_start_at": timezone.now() - timedelta(days=3),
                "signup_end_at": timezone.now() - timedelta(days=1),
            },
            ["signup_end_at"],
            id="window-over",
        ),
    ],
)
def test_publish_refuses_an_incomplete_campaign(changes, missing):
    campaign = CampaignFactory(**changes)
    with pytest.raises(DomainError) as refused:
        lifecycle.campaign_publish(campaign_id=campaign.pk, actor=SYSTEM)
    assert refused.value.code == "campaign.incomplete"
    assert refused.value.data["missing"] == missing


def _values(**overrides):
    return {
        "title": "春季新品体验官",
        "type": "product_launch",
        "capacity": 5,
        "rules_text": "规则",
        **window(),
        **overrides,
    }


def test_create_validates_every_field_at_once():
    now = timezone.now()
    with pytest.raises(DomainError) as refused:
        lifecycle.campaign_create(
            actor=SYSTEM,
            values=_values(
                signup_end_at=now - timedelta(days=3),
                event_end_at=now,
                channels=["fax"],
                notify_channels=["pigeon"],
            ),
        )
    fields = {e["field"] for e in refused.value.data["errors"]}
    assert fields == {"signup_end_at", "event_end_at", "channels", "notify_channels"}


def test_draft_edits_freely():
    campaign = lifecycle.campaign_create(actor=SYSTEM, values=_values())
    edited = lifecycle.campaign_update(
        campaign_id=campaign.pk, actor=SYSTEM, changes={"rules_text": "新规则", "capacity": 3}
    )
    assert (edited.rules_text, edited.capacity) == ("新规则", 3)


@pytest.mark.parametrize(
    ("changes", "locked"),
    [
        pytest.param({"rules_text": "悄悄改规则"}, ["rules_text"], id="rules"),
        pytest.param({"eligibility": {"min_age": 30}}, ["eligibility"], id="eligibility"),
        pytest.param({"capacity": 5}, ["capacity"], id="capacity-down"),
        pytest.param({"admission_mode": "lottery", "title": "ok"}, ["admission_mode"], id="mixed"),
    ],
)
def test_published_rules_are_locked_never_silently_changed(changes, locked):
    # given
    campaign = CampaignFactory(status="published", capacity=10)
    # when
    with pytest.raises(DomainError) as refused:
        lifecycle.campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes=changes)
    # then: refused as a whole, naming the locked fields; nothing changed
    assert refused.value.code == "campaign.rules_locked"
    assert refused.value.data["fields"] == locked
    before = campaign.title, campaign.capacity, campaign.rules_text
    campaign.refresh_from_db()
    assert (campaign.title, campaign.capacity, campaign.rules_text) == before


def test_published_campaign_takes_cosmetic_edits_and_a_later_deadline():
    campaign = CampaignFactory(status="published")
    later = campaign.signup_end_at + timedelta(hours=6)
    edited = lifecycle.campaign_update(
        campaign_id=campaign.pk, actor=SYSTEM, changes={"title": "改个标题", "signup_end_at": later}
    )
    assert (edited.title, edited.signup_end_at) == ("改个标题", later)


def test_more_capacity_promotes_the_waiting_list_in_order():
    # given: 1 seat, 3 waiting
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    signups = [sign_up(campaign, mobile(n)) for n in range(4)]
    # when
    campaign = lifecycle.campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"capacity": 3})
    # then
    for signup in signups:
        signup.refresh_from_db()
    assert [s.status for s in signups] == ["confirmed", "confirmed", "confirmed", "waitlisted"]
    assert campaign.seats_taken == 3


def test_finished_campaign_refuses_every_edit():
    campaign = CampaignFactory(status="finished")
    with pytest.raises(DomainError) as refused:
        lifecycle.campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"title": "x"})
    assert refused.value.code == "campaign.rules_locked"


def test_cancel_needs_a_reason():
    campaign = CampaignFactory(status="published")
    with pytest.raises(DomainError) as refused:
        lifecycle.campaign_cancel(campaign_id=campaign.pk, actor=SYSTEM, reason=" ")
    assert refused.value.code == "campaign.reason_required"


def test_automation_closes_ended_windows_draws_lotteries_and_finishes_past_events():
    # given
    now = timezone.now()
    ended = dict(signup_start_at=now - timedelta(days=3), signup_end_at=now - timedelta(minutes=1))
    first_come = CampaignFactory(status="published", **ended)
    lottery = CampaignFactory(status="published", admission_mode="lottery", **ended)
    over = CampaignFactory(
        status="closed", event_start_at=now - timedelta(days=1), event_end_at=now - timedelta(hours=1)
    )
    still_open = CampaignFactory(status="published")
    # when
    result = campaigns_advance_due(actor=SYSTEM, now=now)
    # then
    assert result == {"closed": 2, "drawn": 1, "finished": 1}
    for campaign in (first_come, lottery, over, still_open):
        campaign.refresh_from_db()
    assert (first_come.status, lottery.status, over.status, still_open.status) == (
        "closed",
        "closed",
        "finished",
        "published",
    )
    assert hasattr(lottery, "lottery_draw")


def test_re_sending_the_same_rules_in_another_spelling_is_not_a_change():
    # given: rules stored sparsely, as the factory and older clients write them
    campaign = CampaignFactory(status="published", eligibility={"min_age": 18}, form=[])
    # when: a client re-sends them with every default spelled out
    spelled = {"min_age": 18, "max_age": None, "genders": None, "regions_allow": None, "regions_deny": []}
    edited = lifecycle.campaign_update(
        campaign_id=campaign.pk, actor=SYSTEM, changes={"eligibility": spelled, "title": "新标题"}
    )
    # then
    assert edited.title == "新标题"


@pytest.mark.parametrize("live", [1, 10])
def test_cancelling_costs_the_same_queries_for_one_or_many_sign_ups(live, django_assert_num_queries):
    # given
    campaign = CampaignFactory(status="published", capacity=20)
    for n in range(live):
        sign_up(campaign, mobile(n))
    # when / then: the queries do not grow with the sign-ups
    # the audit row and its chain predecessor read (core.chain); on PostgreSQL also the chain's lock
    with django_assert_num_queries(13 if connection.vendor == "postgresql" else 12):
        lifecycle.campaign_cancel(campaign_id=campaign.pk, actor=SYSTEM, reason="预算调整")
    from yunying.notify.models import OutboxMessage

    assert OutboxMessage.objects.filter(template="campaign_cancelled").count() == live
