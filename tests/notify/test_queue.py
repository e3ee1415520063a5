"""The task queue on Redis (REDIS_URL): a commit that adds a message due now wakes a worker through
the queue, one task per wave of messages; the outbox table stays the source of truth, so a lost task
waits for the sweep and a duplicated one finds the message already claimed."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from io import StringIO

import django_rq
import django_tasks.signals  # noqa: F401 - re-reads TASKS when a test changes it
import pytest
import redis
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from tests.notify.helpers import queue
from yunying.notify.channels import FileChannel, RenderedMessage
from yunying.notify.delivery import outbox_deliver_due
from yunying.notify.models import OutboxMessage, OutboxStatus
from yunying.notify.tasks import WAKE_KEY, outbox_deliver_task, outbox_deliver_woken
from yunying.settings import task_queue_settings

pytestmark = pytest.mark.django_db


def _queued() -> list[list]:
    """The arguments of every task waiting in the queue."""
    return [list(job.args) for job in django_rq.get_queue("default").jobs]


def _sms(notify_dir) -> list[dict]:
    path = notify_dir / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _worker_once() -> str:
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    return out.getvalue()


def test_a_sign_up_hands_its_message_to_the_queue_once_it_commits(
    redis_url, open_campaign, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        signup = sign_up(open_campaign, mobile(1))
        # then: nothing before the commit
        assert _queued() == []
    for callback in callbacks:
        callback()
    # then: one delivery task, and the confirmation waiting for it
    assert _queued() == [[]]
    confirmation = OutboxMessage.objects.get(ref=f"signup:{signup.pk}", template="signup_confirmed")
    assert confirmation.status == OutboxStatus.PENDING


def test_one_task_serves_every_commit_before_it_starts_and_a_later_commit_queues_the_next(
    redis_url, open_campaign, notify_dir, django_capture_on_commit_callbacks
):
    # given: two sign-ups commit while the first one's task waits in the queue
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(open_campaign, mobile(1))
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(open_campaign, mobile(2))
    assert _queued() == [[]]
    # when: the task runs
    out = _worker_once()
    # then: it sent both confirmations, and a sign-up after it started queues a task of its own
    assert "tasks=1" in out and "sent=0" in out
    assert len(_sms(notify_dir)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(open_campaign, mobile(3))
    assert _queued() == [[]]


def test_a_rolled_back_sign_up_queues_nothing(redis_url, open_campaign, django_capture_on_commit_callbacks):
    # when
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        sign_up(open_campaign, mobile(1))
        raise RuntimeError("the caller's transaction fails after the sign-up")
    # then
    assert _queued() == []
    assert not OutboxMessage.objects.exists()


def test_without_redis_nothing_is_queued(open_campaign, django_capture_on_commit_callbacks, settings):
    # given
    assert not settings.REDIS_URL
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        sign_up(open_campaign, mobile(1))
    # then
    assert not [c for c in callbacks if "_wake_worker" in repr(c)]


def test_the_worker_delivers_a_queued_message_through_the_task(
    redis_url, open_campaign, notify_dir, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        signup = sign_up(open_campaign, mobile(1))
    # when
    out = _worker_once()
    # then: the task sent it; the sweep found nothing left
    assert "sent=0 retrying=0 failed=0" in out and "tasks=1" in out
    message = OutboxMessage.objects.get(ref=f"signup:{signup.pk}", template="signup_confirmed")
    assert message.status == OutboxStatus.SENT
    assert [line["message_id"] for line in _sms(notify_dir)] == [message.pk]
    assert _queued() == []


def test_a_message_whose_task_was_lost_goes_out_with_the_sweep(
    redis_url, open_campaign, notify_dir, django_capture_on_commit_callbacks
):
    # given: the commit happened, the enqueue did not (process killed between the two, Redis away)
    with django_capture_on_commit_callbacks(execute=False):
        signup = sign_up(open_campaign, mobile(1))
    assert _queued() == []
    # when
    out = _worker_once()
    # then
    assert "sent=1 retrying=0 failed=0" in out and "tasks=0" in out
    message = OutboxMessage.objects.get(ref=f"signup:{signup.pk}", template="signup_confirmed")
    assert message.status == OutboxStatus.SENT
    assert len(_sms(notify_dir)) == 1


def test_a_message_queued_twice_goes_out_once(
    redis_url, open_campaign, notify_dir, django_capture_on_commit_callbacks
):
    # given: its task, plus a second one for the same message (a retried enqueue)
    with django_capture_on_commit_callbacks(execute=True):
        signup = sign_up(open_campaign, mobile(1))
    message = OutboxMessage.objects.get(ref=f"signup:{signup.pk}", template="signup_confirmed")
    outbox_deliver_task.enqueue()
    # when
    out = _worker_once()
    # then
    assert "tasks=2" in out and "sent=0" in out
    assert len(_sms(notify_dir)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


class RivalChannel(FileChannel):
    """While this delivery is in the provider call, a second worker's task and sweep both try it."""

    rivals: list = []

    def send(self, message: RenderedMessage) -> str:
        RivalChannel.rivals.append((outbox_deliver_woken().handled, outbox_deliver_due().handled))
        return super().send(message)


def test_a_message_claimed_by_one_delivery_is_left_alone_by_the_others(
    redis_url, member, notify_dir, settings
):
    # given
    settings.NOTIFY_CHANNELS = {**settings.NOTIFY_CHANNELS, "sms": f"{__name__}.RivalChannel"}
    RivalChannel.rivals = []
    queue(member.pk)
    # when
    report = outbox_deliver_woken()
    # then: sent once; the rivals (a second task, a sweep) found it leased
    assert report.sent == 1
    assert RivalChannel.rivals == [(0, 0)]
    assert len(_sms(notify_dir)) == 1
    assert outbox_deliver_woken().handled == 0  # and a late task finds it sent


def test_the_task_delivers_only_pending_messages_that_are_due(redis_url, member, notify_dir):
    # given: one due now, one reminder for later
    later = timezone.now() + timedelta(days=1)
    queue(member.pk, ref="signup:1")
    queue(member.pk, ref="signup:2", template="event_reminder", due_at=later, dedupe="r")
    # when
    report = outbox_deliver_woken()
    # then
    assert report.sent == 1
    assert OutboxMessage.objects.get(ref="signup:2").status == OutboxStatus.PENDING


def test_a_redis_gone_at_enqueue_time_does_not_fail_the_sign_up(
    redis_url, open_campaign, settings, caplog, django_capture_on_commit_callbacks
):
    # given: Redis took the seat, then went away before the commit's enqueue (the queue's address
    # answers nothing; the seat ledger keeps the live one, else the sign-up would fail at admission)
    for name, value in task_queue_settings("redis://127.0.0.1:1/0").items():
        setattr(settings, name, value)
    # when
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        signup = sign_up(open_campaign, mobile(1))
    # then: signed up, the message waits in the outbox for the sweep, and the log says so
    assert signup.status == "confirmed"
    assert OutboxMessage.objects.get(template="signup_confirmed").status == OutboxStatus.PENDING
    assert "the worker's sweep will send them" in caplog.text
    # and no wake key is left claiming a task is queued: the next commit will queue one
    assert not redis.Redis.from_url(redis_url).exists(WAKE_KEY)
