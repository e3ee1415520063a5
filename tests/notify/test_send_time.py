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
    return OutboxMessage.objects.get(template="event_reminder").due_at


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
    # given: notices queued by SMS
    campaign = CampaignFactory(status="published", notify_channels=["sms"])
    sign_up(campaign, mobile(1))
    # when: the campaign now notifies by e-mail only
    campaign_update(campaign_id=campaign.pk, actor=SYSTEM, changes={"notify_channels": ["email"]})
    report = outbox_deliver_due(now=_reminder_due(campaign))
    # then: nothing goes by SMS, and the messages say why they were not sent
    assert (report.sent, report.dropped) == (0, 2)
    assert not _bodies(notify_dir)
    for message in OutboxMessage.objects.all():
        assert (message.status, message.last_error) == (OutboxStatus.CANCELLED, "no longer sent on sms")


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
