"""What the campaign services put in the outbox (C5, C9): a message on every sign-up status, a
reminder before the event for confirmed members, withdrawn with the sign-up."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.services.admission import signup_confirm, signup_reject, signup_withdraw
from yunying.campaigns.services.lifecycle import campaign_cancel
from yunying.core.permissions import SYSTEM
from yunying.notify.delivery import outbox_deliver_due
from yunying.notify.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db

P, C = OutboxStatus.PENDING, OutboxStatus.CANCELLED


def _messages(signup) -> set[tuple[str, str, str]]:
    """(template, channel, status) of every message about this sign-up."""
    return set(
        OutboxMessage.objects.filter(ref=f"signup:{signup.pk}").values_list("template", "channel", "status")
    )


@pytest.mark.parametrize(
    ("campaign_kwargs", "template"),
    [
        pytest.param({"review_mode": "manual"}, "signup_pending_review", id="manual-review"),
        pytest.param({"admission_mode": "lottery"}, "signup_registered", id="lottery"),
        pytest.param(
            {"capacity": 1, "seats_taken": 1, "waitlist_enabled": True}, "signup_waitlisted", id="waitlisted"
        ),
    ],
)
def test_a_sign_up_not_yet_confirmed_gets_its_status_message_and_no_reminder(campaign_kwargs, template):
    # given
    campaign = CampaignFactory(status="published", **campaign_kwargs)
    # when
    signup = sign_up(campaign, mobile(1))
    # then
    assert _messages(signup) == {(template, "sms", P)}


def test_a_confirmed_sign_up_gets_a_confirmation_now_and_a_reminder_before_the_event(open_campaign):
    # given
    before = timezone.now()
    # when
    signup = sign_up(open_campaign, mobile(1))
    # then
    assert _messages(signup) == {("signup_confirmed", "sms", P), ("event_reminder", "sms", P)}
    confirmed = OutboxMessage.objects.get(template="signup_confirmed")
    reminder = OutboxMessage.objects.get(template="event_reminder")
    assert before <= confirmed.due_at <= timezone.now()
    assert reminder.due_at == open_campaign.event_start_at - timedelta(
        hours=open_campaign.reminder_hours_before
    )
    assert confirmed.member_id == reminder.member_id == signup.member_id
    # references only: the text is rendered when it goes out (tests/notify/test_send_time.py)
    assert confirmed.context == reminder.context == {"campaign_id": open_campaign.pk, "signup_id": signup.pk}


def test_a_sign_up_rolled_back_takes_its_messages_with_it(open_campaign):
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        sign_up(open_campaign, mobile(1))
        raise RuntimeError("a later step of the same request failed")
    # then
    assert not OutboxMessage.objects.exists()


def test_only_the_confirmation_goes_out_now_the_reminder_when_due(open_campaign, notify_dir):
    # given
    sign_up(open_campaign, mobile(1))
    reminder = OutboxMessage.objects.get(template="event_reminder")
    # when
    now_report = outbox_deliver_due()
    due_report = outbox_deliver_due(now=reminder.due_at)
    # then
    assert (now_report.sent, due_report.sent) == (1, 1)
    lines = [json.loads(x) for x in (notify_dir / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["address"] for line in lines] == [mobile(1), mobile(1)]
    assert all(open_campaign.title in line["body"] for line in lines)
    assert lines[0]["subject"] != lines[1]["subject"]  # a confirmation, then a reminder


def test_no_reminder_when_the_event_starts_sooner_than_the_reminder_lead_time():
    # given: the event starts in 2 hours, reminders go 24 hours before
    now = timezone.now()
    campaign = CampaignFactory(
        status="published",
        signup_end_at=now + timedelta(hours=1),
        event_start_at=now + timedelta(hours=2),
        event_end_at=now + timedelta(hours=4),
    )
    # when
    signup = sign_up(campaign, mobile(1))
    # then
    assert _messages(signup) == {("signup_confirmed", "sms", P)}


def test_every_notify_channel_of_the_campaign_gets_its_message():
    # given
    campaign = CampaignFactory(status="published", notify_channels=["sms", "email", "push"])
    # when
    signup = sign_up(campaign, mobile(1))
    # then
    assert _messages(signup) == {
        (template, channel, P)
        for template in ("signup_confirmed", "event_reminder")
        for channel in ("sms", "email", "push")
    }


def test_approving_a_reviewed_sign_up_confirms_it_and_schedules_the_reminder():
    # given
    campaign = CampaignFactory(status="published", review_mode="manual")
    signup = sign_up(campaign, mobile(1))
    # when
    signup_confirm(campaign_id=campaign.pk, signup_id=signup.pk, actor=SYSTEM)
    # then
    assert _messages(signup) == {
        ("signup_pending_review", "sms", P),
        ("signup_confirmed", "sms", P),
        ("event_reminder", "sms", P),
    }


@pytest.mark.parametrize(
    ("leave", "template"),
    [
        pytest.param(signup_withdraw, "signup_withdrawn", id="withdraw"),
        pytest.param(signup_reject, "signup_rejected", id="reject"),
    ],
)
def test_leaving_cancels_the_pending_reminder_and_says_why(leave, template, open_campaign, notify_dir):
    # given
    signup = sign_up(open_campaign, mobile(1))
    # when
    leave(campaign_id=open_campaign.pk, signup_id=signup.pk, actor=SYSTEM, reason="临时有事")
    # then
    assert _messages(signup) == {
        ("signup_confirmed", "sms", P),  # it happened; the member still hears about it first
        ("event_reminder", "sms", C),
        (template, "sms", P),
    }
    outbox_deliver_due(now=open_campaign.event_start_at)  # long past the reminder's time
    lines = [json.loads(x) for x in (notify_dir / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    assert open_campaign.title in lines[1]["body"] and "临时有事" in lines[1]["body"]


def test_a_waitlisted_member_is_told_when_promoted_into_a_freed_seat():
    # given
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    leaving = sign_up(campaign, mobile(1))
    waiting = sign_up(campaign, mobile(2))
    assert (leaving.status, waiting.status) == ("confirmed", "waitlisted")
    assert _messages(waiting) == {("signup_waitlisted", "sms", P)}
    # when
    signup_withdraw(campaign_id=campaign.pk, signup_id=leaving.pk, actor=SYSTEM, reason="行程冲突")
    # then
    assert _messages(waiting) == {
        ("signup_waitlisted", "sms", P),
        ("signup_promoted", "sms", P),
        ("event_reminder", "sms", P),
    }
    promoted = OutboxMessage.objects.get(template="signup_promoted")
    assert promoted.member_id == waiting.member_id


def test_cancelling_the_campaign_tells_every_live_sign_up_and_withdraws_their_reminders():
    # given
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    confirmed = sign_up(campaign, mobile(1))
    waitlisted = sign_up(campaign, mobile(2))
    gone = sign_up(campaign, mobile(3))
    signup_withdraw(campaign_id=campaign.pk, signup_id=gone.pk, actor=SYSTEM, reason="不去了")
    gone_before = _messages(gone)
    # when
    campaign_cancel(campaign_id=campaign.pk, actor=SYSTEM, reason="场地临时关闭")
    # then
    for signup in (confirmed, waitlisted):
        told = OutboxMessage.objects.get(ref=f"signup:{signup.pk}", template="campaign_cancelled")
        assert (told.status, told.member_id) == (P, signup.member_id)
        assert told.context == {"campaign_id": campaign.pk, "signup_id": signup.pk, "reason": "场地临时关闭"}
    assert not OutboxMessage.objects.filter(template="event_reminder", status=P).exists()
    assert _messages(gone) == gone_before  # a withdrawn sign-up hears nothing more


def test_a_campaign_without_notify_channels_enqueues_nothing():
    # given
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True, notify_channels=[])
    first = sign_up(campaign, mobile(1))
    sign_up(campaign, mobile(2))
    # when
    signup_withdraw(campaign_id=campaign.pk, signup_id=first.pk, actor=SYSTEM, reason="临时有事")
    campaign_cancel(campaign_id=campaign.pk, actor=SYSTEM, reason="场地临时关闭")
    # then
    assert not OutboxMessage.objects.exists()
