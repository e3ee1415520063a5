"""Delivering the outbox (N1, N4): real channels, recorded outcomes, retries with backoff, leases,
scheduled sends, the `worker` command, and the queries a batch costs."""

from __future__ import annotations

import json
import signal
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

from tests.campaigns.factories import CampaignFactory
from tests.members.factories import MemberFactory, mobile
from tests.notify.helpers import WorkerKilled, queue
from yunying.campaigns.messages import text_render
from yunying.members.services import Profile, member_resolve
from yunying.notify.delivery import LEASE, backoff_seconds, outbox_deliver_due
from yunying.notify.models import OutboxMessage, OutboxStatus
from yunying.notify.services import outbox_cancel

pytestmark = pytest.mark.django_db

TITLE = "春季新品试用会"


def _lines(directory, channel="sms") -> list[dict]:
    path = directory / f"{channel}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- delivery through the real channels ---


def test_sms_goes_out_as_a_json_line_with_the_e164_phone_and_chinese_text(member, notify_dir):
    # given
    queue(member.pk, ref="signup:42")
    message = OutboxMessage.objects.get()
    now = timezone.now()
    # when
    report = outbox_deliver_due(now=now)
    # then
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [line] = _lines(notify_dir)
    assert line["address"] == mobile(1) == "+8613800000001"
    assert line["channel"] == "sms"
    assert line["message_id"] == message.pk
    assert TITLE in line["body"] and "2030-05-01 14:00" in line["body"]
    # zh-hans is the members' default language; the exact wording belongs to the translators.
    with translation.override("zh-hans"):
        assert (line["subject"], line["body"]) == text_render("signup_confirmed", message.context)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.sent_at == now
    assert message.provider_message_id == line["provider_id"] != ""
    assert (message.attempts, message.lease_until, message.last_error) == (1, None, "")


def test_email_goes_through_the_django_mail_backend_to_the_members_address(notify_dir):
    # given
    member = member_resolve(phone=mobile(2), external_id=None, profile=Profile(email="Li.Na@Example.com"))
    queue(member.pk, channels=["email"])
    # when
    report = outbox_deliver_due()
    # then
    assert report.sent == 1
    [email] = mail.outbox
    assert email.to == ["li.na@example.com"]
    assert TITLE in email.body
    assert email.subject
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.SENT
    assert email.extra_headers["Message-ID"] == message.provider_message_id
    assert not _lines(notify_dir)  # nothing leaked onto another channel


def test_push_goes_to_the_members_device_id(notify_dir):
    # given
    member = MemberFactory(phone=mobile(3), external_id="app-user-3")
    queue(member.pk, channels=["push"])
    # when
    outbox_deliver_due()
    # then
    [line] = _lines(notify_dir, "push")
    assert line["address"] == "app-user-3"
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def _no_email():
    return MemberFactory(phone=mobile(4)).pk


def _no_phone():
    return member_resolve(phone=None, external_id="storefront-9").pk


def _no_member():
    return 999_999


@pytest.mark.parametrize(
    ("make_member_id", "channel", "error"),
    [
        pytest.param(_no_email, "email", "member has no e-mail address", id="email-without-address"),
        pytest.param(_no_phone, "sms", "member has no sms address", id="sms-without-phone"),
        pytest.param(_no_member, "sms", "member has no sms address", id="member-gone"),
        pytest.param(_no_email, "wechat", "no channel configured for 'wechat'", id="unconfigured-channel"),
    ],
)
def test_a_message_that_cannot_ever_go_out_fails_at_once_and_stays(
    make_member_id, channel, error, notify_dir
):
    # given
    queue(make_member_id(), channels=[channel])
    # when
    report = outbox_deliver_due()
    # then
    assert (report.sent, report.retrying, report.failed) == (0, 0, 1)
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.FAILED, 1, error)
    assert message.sent_at is None and message.lease_until is None
    assert not mail.outbox and not _lines(notify_dir)
    # and a later pass leaves it alone
    assert outbox_deliver_due(now=timezone.now() + timedelta(days=1)).handled == 0


# --- transient failures: retried with backoff, counted, finally FAILED, never deleted ---


@pytest.mark.parametrize(
    ("provider", "error"),
    [
        pytest.param("DownChannel", "provider timed out", id="delivery-error"),
        pytest.param(
            "BrokenChannel", "ConnectionResetError: connection reset by peer", id="unexpected-exception"
        ),
    ],
)
def test_a_transient_failure_is_retried_with_backoff_until_max_attempts(
    provider, error, member, use_channel, settings
):
    # given
    settings.NOTIFY_MAX_ATTEMPTS = 3
    use_channel("sms", provider)
    queue(member.pk)
    message = OutboxMessage.objects.get()
    now = timezone.now()
    # when: two failures, each pushing due_at out by the backoff for that attempt
    for attempt in (1, 2):
        report = outbox_deliver_due(now=now)
        # then
        assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING
        assert message.attempts == attempt
        assert message.due_at == now + timedelta(seconds=backoff_seconds(attempt))
        assert message.last_error == error
        assert message.lease_until is None
        # not retried before its time
        assert outbox_deliver_due(now=message.due_at - timedelta(seconds=1)).handled == 0
        now = message.due_at
    # when: the last allowed attempt fails too
    report = outbox_deliver_due(now=now)
    # then
    assert (report.sent, report.retrying, report.failed) == (0, 0, 1)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.FAILED, 3, error)
    assert outbox_deliver_due(now=now + timedelta(days=1)).handled == 0
    assert OutboxMessage.objects.count() == 1  # kept, with its error, for the operators


def test_a_retried_message_goes_out_once_the_provider_is_back(member, use_channel, settings, notify_dir):
    # given
    use_channel("sms", "DownChannel")
    queue(member.pk)
    outbox_deliver_due()
    message = OutboxMessage.objects.get()
    # when
    settings.NOTIFY_CHANNELS = {**settings.NOTIFY_CHANNELS, "sms": "yunying.notify.channels.FileChannel"}
    report = outbox_deliver_due(now=message.due_at)
    # then
    assert report.sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 2, "")
    assert len(_lines(notify_dir)) == 1


def test_one_failing_message_does_not_hold_up_the_rest_of_the_batch(use_channel, notify_dir):
    # given
    use_channel("push", "BrokenChannel")
    member = MemberFactory(phone=mobile(5), external_id="app-user-5")
    queue(member.pk, channels=["push", "sms"])
    # when
    report = outbox_deliver_due()
    # then
    assert (report.sent, report.retrying, report.failed) == (1, 1, 0)
    assert dict(OutboxMessage.objects.values_list("channel", "status")) == {
        "push": OutboxStatus.PENDING,
        "sms": OutboxStatus.SENT,
    }


# --- leases: at least once, and cancellation wins ---


def test_a_message_left_sending_by_a_dead_worker_is_claimed_again_after_its_lease(
    member, use_channel, settings, notify_dir
):
    # given: a worker dies in the middle of the provider call
    use_channel("sms", "DyingChannel")
    queue(member.pk)
    now = timezone.now()
    with pytest.raises(WorkerKilled):
        outbox_deliver_due(now=now)
    message = OutboxMessage.objects.get()
    assert (message.status, message.lease_until) == (OutboxStatus.SENDING, now + LEASE)
    settings.NOTIFY_CHANNELS = {**settings.NOTIFY_CHANNELS, "sms": "yunying.notify.channels.FileChannel"}
    # when: another worker passes while the lease still holds, then after it ran out
    during = outbox_deliver_due(now=now + LEASE - timedelta(seconds=1))
    after = outbox_deliver_due(now=now + LEASE + timedelta(seconds=1))
    # then
    assert (during.handled, after.sent) == (0, 1)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.lease_until) == (OutboxStatus.SENT, 1, None)
    assert len(_lines(notify_dir)) == 1


def test_a_message_cancelled_while_being_sent_stays_cancelled(member, use_channel, notify_dir):
    # given: the sign-up is withdrawn while the provider call is in flight
    use_channel("sms", "CancellingChannel")
    queue(member.pk, ref="signup:3")
    # when
    outbox_deliver_due()
    # then
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.CANCELLED
    assert message.sent_at is None and message.provider_message_id == ""


def test_cancelling_a_message_stuck_in_sending_keeps_it_from_being_claimed_again(
    member, use_channel, settings, notify_dir
):
    # given: a reminder stuck in SENDING (its worker died), then the member withdraws
    use_channel("sms", "DyingChannel")
    queue(member.pk, ref="signup:4", template="event_reminder", dedupe="r")
    now = timezone.now()
    with pytest.raises(WorkerKilled):
        outbox_deliver_due(now=now)
    settings.NOTIFY_CHANNELS = {**settings.NOTIFY_CHANNELS, "sms": "yunying.notify.channels.FileChannel"}
    # when
    cancelled = outbox_cancel(refs=["signup:4"], templates=["event_reminder"])
    report = outbox_deliver_due(now=now + LEASE + timedelta(seconds=1))
    # then
    assert (cancelled, report.handled) == (1, 0)
    assert OutboxMessage.objects.get().status == OutboxStatus.CANCELLED
    assert not _lines(notify_dir)


# --- scheduled sends ---


def test_a_future_reminder_waits_until_it_is_due(member, notify_dir):
    # given
    now = timezone.now()
    due_at = now + timedelta(days=2)
    queue(member.pk, template="event_reminder", due_at=due_at, dedupe=due_at.isoformat())
    # when / then
    assert outbox_deliver_due(now=now).handled == 0
    assert outbox_deliver_due(now=due_at - timedelta(seconds=1)).handled == 0
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING
    assert outbox_deliver_due(now=due_at).sent == 1
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
    [line] = _lines(notify_dir)
    assert TITLE in line["body"]


def test_due_messages_go_oldest_first_and_a_batch_stops_at_its_limit(notify_dir):
    # given
    now = timezone.now()
    for n in (3, 1, 2):
        queue(MemberFactory(phone=mobile(10 + n)).pk, ref=f"signup:{n}", due_at=now - timedelta(minutes=n))
    # when
    first = outbox_deliver_due(now=now, limit=2)
    # then
    assert first.sent == 2
    assert [line["address"] for line in _lines(notify_dir)] == [mobile(13), mobile(12)]
    assert outbox_deliver_due(now=now, limit=2).sent == 1


# --- the worker command ---


def test_worker_once_delivers_what_is_due_and_prints_the_counts(member, notify_dir):
    # given
    later = timezone.now() + timedelta(days=1)
    queue(member.pk, ref="signup:1")
    queue(member.pk, ref="signup:2", channels=["sms", "email"])  # the member has no e-mail
    queue(member.pk, ref="signup:3", template="event_reminder", due_at=later, dedupe="r")
    out = StringIO()
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    # when
    call_command("worker", "--once", stdout=out)
    # then
    assert "sent=2 retrying=0 failed=1" in out.getvalue()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    assert len(_lines(notify_dir)) == 2
    assert OutboxMessage.objects.get(template="event_reminder").status == OutboxStatus.PENDING


def test_worker_once_delivers_everything_due_not_just_one_batch(notify_dir):
    # given: more due messages than one batch holds
    members = MemberFactory.create_batch(7)
    for i, member in enumerate(members):
        queue(member.pk, ref=f"signup:{i}")
    out = StringIO()
    # when
    call_command("worker", "--once", "--batch", "3", stdout=out)
    # then: three batches and a short one, all sent
    assert "sent=7 retrying=0 failed=0" in out.getvalue()
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()


def test_worker_once_stops_at_its_time_limit_and_leaves_the_rest_due(notify_dir):
    # given
    for i, member in enumerate(MemberFactory.create_batch(4)):
        queue(member.pk, ref=f"signup:{i}")
    out = StringIO()
    # when: the limit is already spent after the first batch
    call_command("worker", "--once", "--batch", "2", "--time-limit", "0", stdout=out)
    # then: one batch went out, the rest waits for the next run, and the output says so
    assert "sent=2 retrying=0 failed=0" in out.getvalue()
    assert "time limit" in out.getvalue()
    assert OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count() == 2


def test_worker_once_closes_campaigns_whose_sign_up_window_ended(db, notify_dir):
    # given
    now = timezone.now()
    ended = CampaignFactory(
        status="published", signup_start_at=now - timedelta(days=2), signup_end_at=now - timedelta(minutes=1)
    )
    still_open = CampaignFactory(status="published")
    out = StringIO()
    # when
    call_command("worker", "--once", stdout=out)
    # then
    ended.refresh_from_db()
    still_open.refresh_from_db()
    assert (ended.status, still_open.status) == ("closed", "published")
    assert "'closed': 1" in out.getvalue()


# --- queries per batch ---


def _deliver_queries(n: int, django_assert_num_queries, expected: int) -> None:
    for i in range(n):
        queue(MemberFactory(phone=mobile(100 + i)).pk, ref=f"signup:{i}")
    with django_assert_num_queries(expected):
        report = outbox_deliver_due()
    assert report.sent == n


# The claim (savepoint, SELECT ids, UPDATE to SENDING, SELECT rows, release) and one SELECT of the
# members are fixed; each message then costs exactly one conditional UPDATE recording its outcome,
# written right after its send so a worker dying mid-batch re-sends as little as possible.
FIXED = 6


@pytest.mark.parametrize("n", [1, 10], ids=["1-message", "10-messages"])
def test_a_batch_costs_fixed_queries_plus_one_update_per_message(n, django_assert_num_queries, notify_dir):
    _deliver_queries(n, django_assert_num_queries, FIXED + n)


def test_an_empty_pass_is_cheap(db, django_assert_num_queries):
    # the worker idles through this every couple of seconds
    with django_assert_num_queries(3):
        assert outbox_deliver_due().handled == 0


@pytest.mark.django_db
def test_a_worker_whose_lease_ran_out_cannot_overwrite_the_newer_claim(member, notify_dir):
    from yunying.notify.channels import DeliveryError
    from yunying.notify.delivery import _claim, _record

    # given: worker A claimed the message, stalled past its lease, and worker B claimed it again
    queue(member.pk)
    now = timezone.now()
    [stale] = _claim(now=now, limit=1)
    [fresh] = _claim(now=now + LEASE + timedelta(seconds=1), limit=1)
    # when: A's late failure arrives while B is still sending
    outcome = _record(stale, now=now, error=DeliveryError("timeout"))
    # then: A's result is dropped; B's claim stands and B records the delivery
    assert outcome is None
    assert OutboxMessage.objects.get().status == OutboxStatus.SENDING
    assert _record(fresh, now=now, provider_id="p-1") == OutboxStatus.SENT
