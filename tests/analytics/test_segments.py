"""Segment services: create / update audited, recompute with its history, rule-based tags, the
periodic job, a segment as a campaign's eligibility target and as a message's audience."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.analytics.factories import member, order
from tests.campaigns.helpers import sign_up
from tests.members.factories import MemberFactory, mobile
from yunying.analytics.models import MemberRfm, Segment, SegmentMember, SegmentMembershipEvent
from yunying.analytics.selectors import segment_movement
from yunying.analytics.services import (
    segment_create,
    segment_message_queue,
    segment_preview,
    segment_recompute,
    segment_update,
    segments_recompute_job,
)
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.models import AuditEntry
from yunying.members.consent import consent_record, marketing_allowed, policy_version
from yunying.members.models import MemberTag, Tag, TagKind
from yunying.notify.delivery import outbox_deliver_due
from yunying.notify.models import OutboxMessage, OutboxStatus

ZHEJIANG = {"conditions": [{"field": "region", "values": ["33"]}]}


@pytest.fixture
def now():
    return timezone.now()


def test_create_is_audited_and_saves_the_normalized_rule(db, operator):
    # when
    segment = segment_create(actor=operator, name="Zhejiang", rules=ZHEJIANG)
    # then
    assert segment.rules == {"conditions": [{"field": "region", "values": ["33"]}]}
    entry = AuditEntry.objects.get(action="segment.create")
    assert entry.object_id == str(segment.pk) and entry.after["name"] == "Zhejiang"


@pytest.mark.parametrize(
    ("setup", "call", "code"),
    [
        (
            "none",
            lambda op, s: segment_create(actor=op, name="Zhejiang", rules=ZHEJIANG),
            "segment.name_taken",
        ),
        (
            "none",
            lambda op, s: segment_update(actor=op, segment_id=999, name="x", rules=ZHEJIANG),
            "segment.not_found",
        ),
        (
            "none",
            lambda op, s: segment_update(
                actor=op,
                segment_id=s.pk,
                name="x",
                rules={"conditions": [{"field": "segment", "segment_id": s.pk}]},
            ),
            "segment.self_reference",
        ),
        (
            "manual_tag",
            lambda op, s: segment_create(actor=op, name="t", rules=ZHEJIANG, tag_name="vip"),
            "segment.tag_taken",
        ),
        (
            "none",
            lambda op, s: segment_message_queue(
                actor=op, segment_id=s.pk, subject="a", body="b", channels=[]
            ),
            "segment.no_channel",
        ),
        (
            "none",
            lambda op, s: segment_message_queue(
                actor=op, segment_id=s.pk, subject=" ", body="b", channels=["sms"]
            ),
            "segment.message_empty",
        ),
    ],
    ids=["name-taken", "not-found", "self-reference", "manual-tag", "no-channel", "empty-message"],
)
def test_refusals_have_stable_codes(db, operator, setup, call, code):
    # given
    segment = segment_create(actor=operator, name="Zhejiang", rules=ZHEJIANG)
    if setup == "manual_tag":
        Tag.objects.create(name="vip", kind=TagKind.MANUAL)
    audits = AuditEntry.objects.count()
    # when
    with pytest.raises(DomainError) as caught:
        call(operator, segment)
    # then
    assert caught.value.code == code
    assert AuditEntry.objects.count() == audits  # nothing recorded for a refusal


def test_an_invalid_rule_is_refused_with_field_errors(db, operator):
    with pytest.raises(ValidationFailed) as caught:
        segment_create(
            actor=operator, name="bad", rules={"conditions": [{"field": "age", "min": 9, "max": 3}]}
        )
    assert caught.value.errors[0]["field"] == "rules.conditions.0.age"
    assert not Segment.objects.exists()


def test_recompute_matches_the_preview_and_keeps_who_entered_and_left(db, operator, now):
    # given
    zj = [member(now=now, region_code="330106") for _ in range(3)]
    member(now=now, region_code="440300")
    segment = segment_create(actor=operator, name="Zhejiang", rules=ZHEJIANG)
    # when
    first = segment_recompute(segment_id=segment.pk, actor=operator, now=now)
    # then
    assert (first.members, first.entered, first.left) == (3, 3, 0) and segment_preview(rules=ZHEJIANG) == 3
    assert set(SegmentMember.objects.filter(segment=segment).values_list("member_id", flat=True)) == {
        m.pk for m in zj
    }
    # given: one moves away, one arrives
    type(zj[0]).objects.filter(pk=zj[0].pk).update(region_code="310115")
    newcomer = member(now=now, region_code="330100")
    later = now + timedelta(hours=1)
    # when
    second = segment_recompute(segment_id=segment.pk, now=later)
    # then
    assert (second.members, second.entered, second.left) == (3, 1, 1)
    events = set(SegmentMembershipEvent.objects.filter(at=later).values_list("member_id", "change"))
    assert events == {(newcomer.pk, "entered"), (zj[0].pk, "left")}
    assert [(m["entered"], m["left"]) for m in segment_movement(segment.pk)] == [(1, 1), (3, 0)]
    segment.refresh_from_db()
    assert segment.member_count == 3 and segment.computed_at == later
    assert (
        AuditEntry.objects.filter(action="segment.recompute").count() == 1
    )  # the scheduled one is not an operator's


def test_a_rule_tag_follows_its_segment_and_a_manual_tag_is_left_alone(db, operator, now):
    # given
    a, b = member(now=now, region_code="330106"), member(now=now, region_code="440300")
    segment = segment_create(actor=operator, name="Zhejiang", rules=ZHEJIANG, tag_name="zj")
    manual = Tag.objects.create(name="hand")
    MemberTag.objects.create(member=b, tag=manual, added_by="op")
    # when
    segment_recompute(segment_id=segment.pk, now=now)
    # then
    assert set(MemberTag.objects.filter(tag__name="zj").values_list("member_id", flat=True)) == {a.pk}
    assert Tag.objects.get(name="zj").kind == TagKind.RULE
    # when: the rule changes to Guangdong
    segment_update(
        actor=operator,
        segment_id=segment.pk,
        name="GD",
        rules={"conditions": [{"field": "region", "values": ["44"]}]},
        tag_name="zj",
    )
    segment_recompute(segment_id=segment.pk, now=now + timedelta(minutes=1))
    # then
    assert set(MemberTag.objects.filter(tag__name="zj").values_list("member_id", flat=True)) == {b.pk}
    assert MemberTag.objects.filter(tag=manual, member=b).exists()


def test_the_periodic_job_computes_rfm_then_stale_segments_once(db, operator, settings, now):
    # given
    buyer = member(now=now, region_code="330106")
    order(buyer, now=now, days_ago=1, total_fen=500)
    segment_create(
        actor=operator, name="active", rules={"conditions": [{"field": "lifecycle", "values": ["active"]}]}
    )
    # when
    first = segments_recompute_job(now=now)
    again = segments_recompute_job(now=now + timedelta(minutes=1))
    # then
    assert first == {"rfm_members": 1, "segments": 1}
    assert again == {}  # neither is due again yet
    assert MemberRfm.objects.get(member=buyer).lifecycle == "active"
    assert Segment.objects.get(name="active").member_count == 1
    later = now + timedelta(minutes=settings.SEGMENT_RECOMPUTE_MINUTES + 1)
    assert segments_recompute_job(now=later) == {"segments": 1}


def _consent(who, *, marketing):
    consent_record(member=who, version=policy_version(), marketing=marketing, sensitive=False, client_ip=None)


def test_marketing_allowed_reads_the_latest_choice(db, now):
    yes, no, withdrawn, never = (MemberFactory() for _ in range(4))
    _consent(yes, marketing=True)
    _consent(no, marketing=False)
    _consent(withdrawn, marketing=True)
    _consent(withdrawn, marketing=False)
    assert marketing_allowed({yes.pk, no.pk, withdrawn.pk, never.pk}) == {yes.pk}


def test_a_message_goes_to_members_who_allow_marketing_and_a_withdrawal_stops_it(
    db, operator, notify_dir, now
):
    # given
    allowed, refused, withdraws = (MemberFactory(region_code="330106") for _ in range(3))
    _consent(allowed, marketing=True)
    _consent(refused, marketing=False)
    _consent(withdraws, marketing=True)
    segment = segment_create(actor=operator, name="Zhejiang", rules=ZHEJIANG)
    segment_recompute(segment_id=segment.pk, now=now)
    # when
    queued = segment_message_queue(
        actor=operator,
        segment_id=segment.pk,
        subject="Spring sale",
        body="20% off this week",
        channels=["sms"],
    )
    _consent(withdraws, marketing=False)  # after queueing, before it goes out
    outbox_deliver_due()
    # then
    assert queued == 2
    status = dict(
        OutboxMessage.objects.filter(template="segment.marketing").values_list("member_id", "status")
    )
    assert status == {allowed.pk: OutboxStatus.SENT, withdraws.pk: OutboxStatus.SKIPPED}
    assert AuditEntry.objects.get(action="segment.message").after["skipped"] == 1


def test_a_campaign_for_a_segment_admits_its_members_only(db, operator, open_campaign, now):
    # given
    inside = MemberFactory(phone=mobile(501), region_code="330106")
    outside = MemberFactory(phone=mobile(502), region_code="440300")
    segment = segment_create(actor=operator, name="Zhejiang", rules=ZHEJIANG)
    segment_recompute(segment_id=segment.pk, now=now)
    open_campaign.eligibility = {"segments_in": [segment.pk]}
    open_campaign.save()
    # when / then
    assert sign_up(open_campaign, mobile(501)).member_id == inside.pk
    with pytest.raises(DomainError) as caught:
        sign_up(open_campaign, mobile(502))
    assert caught.value.code == "signup.ineligible"
    assert outside.pk


def test_a_campaign_can_exclude_a_segment(db, operator, open_campaign, now):
    # given
    MemberFactory(phone=mobile(601), region_code="330106")
    MemberFactory(phone=mobile(602), region_code="440300")
    segment = segment_create(actor=operator, name="Zhejiang", rules=ZHEJIANG)
    segment_recompute(segment_id=segment.pk, now=now)
    open_campaign.eligibility = {"segments_not_in": [segment.pk]}
    open_campaign.save()
    # when / then
    with pytest.raises(DomainError) as caught:
        sign_up(open_campaign, mobile(601))
    assert caught.value.code == "signup.ineligible"
    assert sign_up(open_campaign, mobile(602)).pk
