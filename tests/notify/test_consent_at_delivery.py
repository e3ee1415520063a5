"""N3: a marketing message goes only to members who agree when it goes out, checked again at delivery
time; a withdrawal after queueing stops it (recorded as skipped with the reason). Service messages
are not consent-gated."""

from __future__ import annotations

import pytest

from tests.members.factories import MemberFactory, mobile
from tests.notify.helpers import queue
from yunying.core import registry
from yunying.members.consent import consent_change, consent_record
from yunying.notify.delivery import outbox_deliver_due
from yunying.notify.models import OutboxMessage, OutboxStatus
from yunying.notify.templates import MARKETING, template_purpose, templates_register

pytestmark = pytest.mark.django_db

PROMO = "test_promo"


def _promo_loader(contexts):
    return lambda template, context, channel: ("", f"新品八折 {context['offer']}")


@pytest.fixture(autouse=True)
def promo_template(settings):
    settings.PRIVACY_POLICY_VERSION = "v1"
    templates_register([PROMO], _promo_loader, purpose=MARKETING)


def _agreeing_member(n: int, *, marketing: bool):
    member = MemberFactory(phone=mobile(n))
    consent_record(member=member, version="v1", marketing=marketing, sensitive=False, client_ip=None)
    return member


def _status(member) -> dict[str, str]:
    return dict(OutboxMessage.objects.filter(member_id=member.pk).values_list("template", "status"))


def test_a_withdrawal_after_queueing_stops_the_marketing_message_but_not_a_service_one(notify_dir):
    # given: a member who agreed to marketing, a marketing and a service message queued for them
    member = _agreeing_member(1, marketing=True)
    queue(member.pk, template=PROMO, ref="promo:1", context={"offer": "A"})
    queue(member.pk, template="signup_confirmed", ref="signup:1")
    # when: they withdraw marketing consent, then the worker runs
    consent_change(member=member, purpose="marketing", granted=False, channel="h5", client_ip=None)
    report = outbox_deliver_due()
    # then: the marketing message is skipped with the reason, the service message sent
    assert _status(member) == {PROMO: OutboxStatus.SKIPPED, "signup_confirmed": OutboxStatus.SENT}
    skipped = OutboxMessage.objects.get(template=PROMO)
    assert skipped.last_error == "no marketing consent at send time"
    assert skipped.sent_at is None
    assert (report.sent, report.skipped) == (1, 1)
    sms = (notify_dir / "sms.jsonl").read_text(encoding="utf-8")
    assert "新品八折" not in sms


def test_only_members_agreeing_at_send_time_get_marketing(notify_dir):
    agreed = _agreeing_member(1, marketing=True)
    never = _agreeing_member(2, marketing=False)
    late = _agreeing_member(3, marketing=False)
    for n, member in enumerate((agreed, never, late)):
        queue(member.pk, template=PROMO, ref=f"promo:{n}", context={"offer": "B"})
    # Granted after queueing: at send time the member agrees, so it goes.
    consent_change(member=late, purpose="marketing", granted=True, channel="h5", client_ip=None)
    outbox_deliver_due()
    assert _status(agreed) == {PROMO: OutboxStatus.SENT}
    assert _status(never) == {PROMO: OutboxStatus.SKIPPED}
    assert _status(late) == {PROMO: OutboxStatus.SENT}


def test_without_a_registered_consent_check_no_marketing_message_goes(notify_dir, monkeypatch):
    member = _agreeing_member(1, marketing=True)
    queue(member.pk, template=PROMO, ref="promo:1", context={"offer": "C"})
    monkeypatch.setattr(registry, "_consent_check", [])
    outbox_deliver_due()
    assert _status(member) == {PROMO: OutboxStatus.SKIPPED}


def test_templates_are_service_messages_unless_they_say_otherwise():
    assert template_purpose("signup_confirmed") == "service"
    assert template_purpose(PROMO) == MARKETING


def test_the_consent_check_is_registered_at_start_up():
    from yunying.members.consent import consent_check

    assert registry._consent_check == [consent_check]
