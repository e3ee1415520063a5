"""Writing the outbox (N4): rows live and die with the caller's transaction, dedupe, cancel, backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.notify.helpers import queue
from yunying.notify.delivery import backoff_seconds, outbox_deliver_due
from yunying.notify.models import OutboxMessage, OutboxStatus
from yunying.notify.services import outbox_cancel

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)  # real COMMIT / ROLLBACK, not a savepoint in the test's transaction
def test_enqueue_in_a_transaction_that_rolls_back_leaves_no_row(member):
    # when
    with pytest.raises(Boom), transaction.atomic(durable=True):
        queue(member.pk)
        raise Boom
    # then
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_committed_enqueue_is_a_pending_row_due_now(member):
    # given
    before = timezone.now()
    # when
    with transaction.atomic(durable=True):
        queue(member.pk, channels=["sms", "email"], ref="signup:7")
    # then
    after = timezone.now()
    rows = list(OutboxMessage.objects.order_by("channel"))
    assert [(r.channel, r.status, r.attempts) for r in rows] == [
        ("email", OutboxStatus.PENDING, 0),
        ("sms", OutboxStatus.PENDING, 0),
    ]
    for row in rows:
        assert before <= row.due_at <= after
        assert row.member_id == member.pk
        assert row.ref == "signup:7"
        assert row.template == "signup_confirmed"
        assert row.context["campaign"] == "春季新品试用会"
        assert row.lease_until is None and row.sent_at is None and row.last_error == ""


def test_a_repeated_reminder_with_the_same_dedupe_key_is_a_no_op(member):
    # given
    remind_at = timezone.now() + timedelta(days=1)
    queue(member.pk, template="event_reminder", due_at=remind_at, dedupe=remind_at.isoformat())
    # when
    queue(member.pk, template="event_reminder", due_at=remind_at, dedupe=remind_at.isoformat())
    # then
    assert OutboxMessage.objects.filter(template="event_reminder").count() == 1


def test_dedupe_is_per_channel_so_a_new_channel_still_gets_its_message(member):
    # given
    queue(member.pk, channels=["sms"], template="event_reminder", dedupe="r1")
    # when
    queue(member.pk, channels=["sms", "email"], template="event_reminder", dedupe="r1")
    # then
    assert sorted(OutboxMessage.objects.values_list("channel", flat=True)) == ["email", "sms"]


def test_without_a_dedupe_key_each_event_is_its_own_message(member):
    # when
    queue(member.pk, template="signup_withdrawn")
    queue(member.pk, template="signup_withdrawn")
    # then
    assert OutboxMessage.objects.filter(template="signup_withdrawn").count() == 2


def test_an_unknown_template_is_refused_before_anything_is_written(member):
    # when / then
    with pytest.raises(ValueError, match="unknown template"):
        queue(member.pk, template="no_such_template")
    assert not OutboxMessage.objects.exists()


def test_cancel_touches_only_the_named_templates_of_that_ref(member):
    # given
    later = timezone.now() + timedelta(days=1)
    queue(member.pk, ref="signup:1", template="signup_confirmed")
    queue(member.pk, ref="signup:1", template="event_reminder", due_at=later, dedupe="r")
    queue(member.pk, ref="signup:2", template="event_reminder", due_at=later, dedupe="r")
    # when
    cancelled = outbox_cancel(refs=["signup:1"], templates=["event_reminder"])
    # then
    assert cancelled == 1
    assert dict(OutboxMessage.objects.values_list("ref", "template").filter(status="cancelled")) == {
        "signup:1": "event_reminder"
    }
    assert OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count() == 2


def test_cancel_leaves_what_already_went_out(member, notify_dir):
    # given
    queue(member.pk, ref="signup:1")
    outbox_deliver_due()
    # when
    cancelled = outbox_cancel(refs=["signup:1"])
    # then
    assert cancelled == 0
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (20, 3600)],
    ids=["1st", "2nd", "3rd", "4th", "7th", "8th-capped", "20th-capped"],
)
def test_backoff_doubles_from_30_seconds_up_to_an_hour(attempts, seconds):
    # when / then
    assert backoff_seconds(attempts) == seconds
