"""Messages render when they go out, from the campaign as it is then (issue 8 §4): a title, an event
time or the channels edited after a notice was queued reach the member; and a batch of campaign
messages still costs a fixed number of queries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Campaign
from yunying.campaigns.services.lifecycle import campaign_update
from yunying.core.permissions import SYSTEM
from yunying.notify.delivery import outbox_deliver_due
from yunying.notify.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


def _bodies(directory, channel="sms") -> list[str]:
    path = directory / f"{channel}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["body"] for line in path.read_text(encoding="utf-8").splitlines()]


def _reminder_due(campaign) -> timezone.datetime:
    return OutboxMessage.objects.filter(template="event_reminder").earliest("due_at").due_at


def test_a_title_edited_after_the_reminder_was_queued_is_the_title_the_member_reads(notify_dir):
    # given: a confirmed sign-up, its confirmation and reminder queued under the old title
    campaign = CampaignFactory(status="published", title="春季新品试用会")
    sign_up(campaign, mobile(1))
    # when: the operator corrects the title, then both messages go out
    campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"title": "春季新品品鉴会"})
    report = outbox_deliver_due(now=_reminder_due(campaign))
    # then
    assert report.sent == 2
    bodies = _bodies(notify_dir)
    assert len(bodies) == 2
    assert all("春季新品品鉴会" in body for body in bodies)
    assert not any("春季新品试用会" in body for body in bodies)


def test_the_event_time_is_read_when_the_reminder_goes_out(notify_dir):
    # given
    campaign = CampaignFactory(status="published")
    sign_up(campaign, mobile(1))
    due = _reminder_due(campaign)
    OutboxMessage.objects.filter(template="signup_confirmed").update(status=OutboxStatus.SENT)
    # when: the event moved by an hour after the reminder was queued (no service allows that on a
    # published campaign today; the rendering must not depend on it)
    moved = campaign.event_start_at + timedelta(hours=1)
    Campaign.objects.filter(pk=campaign.pk).update(event_start_at=moved)
    outbox_deliver_due(now=due)
    # then
    [body] = _bodies(notify_dir)
    assert timezone.localtime(moved).strftime("%Y-%m-%d %H:%M") in body


def test_a_channel_the_campaign_stopped_using_is_not_used_for_queued_messages(notify_dir):
    # given: notices queued by SMS and e-mail
    from django.core import mail

    from yunying.members.services import Profile

    campaign = CampaignFactory(status="published", notify_channels=["sms", "email"])
    sign_up(campaign, mobile(1), profile=Profile(email="li.na@example.com"))
    # when: the campaign now notifies by e-mail only
    campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"notify_channels": ["email"]})
    report = outbox_deliver_due(now=_reminder_due(campaign))
    # then: nothing goes by SMS, and those messages say why they were not sent
    assert (report.sent, report.dropped) == (2, 2)
    assert not _bodies(notify_dir)
    assert len(mail.outbox) == 2
    for message in OutboxMessage.objects.filter(channel="sms"):
        assert (message.status, message.last_error) == (OutboxStatus.CANCELLED, "no longer sent on sms")


def test_a_new_reminder_lead_time_moves_the_queued_reminders(notify_dir):
    # given: a reminder 24 hours before the event
    campaign = CampaignFactory(status="published", reminder_hours_before=24)
    sign_up(campaign, mobile(1))
    # when: the operator wants it 2 hours before instead
    campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"reminder_hours_before": 2})
    # then
    assert _reminder_due(campaign) == campaign.event_start_at - timedelta(hours=2)
    three_hours_before = outbox_deliver_due(now=campaign.event_start_at - timedelta(hours=3))
    assert three_hours_before.sent == 1  # the confirmation; the reminder waits
    assert OutboxMessage.objects.get(template="event_reminder").status == OutboxStatus.PENDING


def test_a_channel_added_after_queueing_carries_the_waiting_messages_too(notify_dir, settings):
    # given: notices queued by SMS for a member with an e-mail address
    from django.core import mail

    from yunying.members.services import Profile

    campaign = CampaignFactory(status="published", notify_channels=["sms"])
    sign_up(campaign, mobile(1), profile=Profile(email="li.na@example.com"))
    # when: the campaign now notifies by SMS and e-mail (twice: the second edit adds nothing)
    for _ in range(2):
        campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"notify_channels": ["email"]})
        campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"notify_channels": ["sms", "email"]})
    # then: each waiting message has one e-mail twin, due when it is
    pairs = sorted(OutboxMessage.objects.values_list("template", "channel", "due_at"))
    assert [(t, c) for t, c, _ in pairs] == [
        ("event_reminder", "email"),
        ("event_reminder", "sms"),
        ("signup_confirmed", "email"),
        ("signup_confirmed", "sms"),
    ]
    assert pairs[0][2] == pairs[1][2]
    report = outbox_deliver_due(now=_reminder_due(campaign))
    assert report.sent == 4
    assert sorted(m.to[0] for m in mail.outbox) == ["li.na@example.com"] * 2


def test_a_message_queued_before_send_time_rendering_still_goes_out_with_its_stored_text(member, notify_dir):
    # given: a row as the previous release wrote it (texts in the context, no campaign id)
    from tests.notify.helpers import queue

    queue(member.pk, template="campaign_cancelled", context={"campaign": "旧活动", "reason": "场地关闭"})
    # when
    report = outbox_deliver_due()
    # then
    assert report.sent == 1
    [body] = _bodies(notify_dir)
    assert "旧活动" in body and "场地关闭" in body


def test_an_unknown_template_fails_for_good_without_holding_up_the_batch(member, notify_dir):
    # given: a row whose template no app registers any more, and a good one behind it
    from tests.notify.helpers import queue

    queue(member.pk, ref="signup:1")
    OutboxMessage.objects.update(template="retired_template")
    queue(member.pk, ref="signup:2")
    # when
    report = outbox_deliver_due()
    # then
    assert (report.sent, report.failed) == (1, 1)
    failed = OutboxMessage.objects.get(template="retired_template")
    assert failed.status == OutboxStatus.FAILED
    assert "unknown template" in failed.last_error


# The claim (5), one SELECT of the members, one SELECT of the campaigns the batch refers to; then one
# conditional UPDATE per message recording its outcome.
@pytest.mark.parametrize("n", [1, 6], ids=["1-message", "6-messages"])
def test_a_batch_of_campaign_messages_reads_its_campaigns_in_one_query(
    n, django_assert_num_queries, notify_dir
):
    # given: confirmations about two campaigns
    campaigns = [CampaignFactory(status="published", event_start_at=timezone.now() + timedelta(hours=3))]
    campaigns.append(CampaignFactory(status="published"))
    for i in range(n):
        sign_up(campaigns[i % 2], mobile(200 + i))
    OutboxMessage.objects.filter(template="event_reminder").delete()
    # when / then
    with django_assert_num_queries(7 + n):
        assert outbox_deliver_due().sent == n
