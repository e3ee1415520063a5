"""core.rows: the hot-path statements read and write exactly what the ORM would (the ORM is the oracle)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from yunying.campaigns.models import Campaign, Signup, SignupEvent
from yunying.core.rows import row_exists, row_get, row_insert, rows_insert
from yunying.members.models import Member
from yunying.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _columns(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_row_get_builds_the_instance_the_orm_builds():
    # given every column type the hot path reads: JSON, datetimes, booleans, integers, text
    campaign = CampaignFactory(
        status="published",
        waitlist_enabled=True,
        form=[{"key": "size", "type": "single_choice", "label": "尺码", "options": ["S", "M"]}],
        eligibility={"min_age": 18, "regions": ["440000"]},
        channels=["h5", "mini_program"],
        published_at=timezone.now(),
    )
    # when
    fast = row_get(Campaign, id=campaign.pk)
    # then
    assert _columns(fast) == _columns(Campaign.objects.get(pk=campaign.pk))
    assert fast._state.adding is False and fast._state.db == "default"


def test_row_get_converts_dates_and_nulls():
    Member.objects.create(phone_index="p1", birth_date=date(1990, 2, 28), external_id=None)
    # when
    fast = row_get(Member, phone_index="p1")
    # then
    assert _columns(fast) == _columns(Member.objects.get(phone_index="p1"))
    assert fast.birth_date == date(1990, 2, 28) and fast.external_id is None


def test_row_get_misses_with_none():
    assert row_get(Campaign, id=987654) is None
    assert row_get(Member, phone_index="nobody") is None


def test_row_insert_writes_the_row_save_would_write():
    # given two identical unsaved members, one saved by the ORM and one by row_insert
    values = {"phone_encrypted": "v1:x", "name_encrypted": "", "gender": "female", "region_code": "440300"}
    by_orm = Member(phone_index="orm", **values)
    by_orm.save()
    # when
    fast = row_insert(Member(phone_index="fast", **values))
    # then: the pk is set, defaults and auto_now_add applied, and the stored rows agree
    assert fast.pk is not None and fast._state.adding is False
    stored_fast = model_to_dict(Member.objects.get(pk=fast.pk), exclude=["id", "phone_index", "created_at"])
    stored_orm = model_to_dict(Member.objects.get(pk=by_orm.pk), exclude=["id", "phone_index", "created_at"])
    assert stored_fast == stored_orm
    assert abs(Member.objects.get(pk=fast.pk).created_at - timezone.now()) < timedelta(seconds=5)


def test_row_insert_raises_on_a_unique_conflict_and_skips_it_when_asked():
    row_insert(Member(phone_index="same"))
    # when / then: a plain insert fails like save() ...
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(Member(phone_index="same"))
    # ... and a skipping one writes nothing and says so
    assert row_insert(Member(phone_index="same"), skip_conflicts=True) is None
    assert Member.objects.filter(phone_index="same").count() == 1


def test_skip_conflicts_never_skips_a_check_constraint():
    # a member with neither phone nor external id breaks member_has_identity: not a unique conflict
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(Member(phone_index=None, external_id=None), skip_conflicts=True)


def test_rows_insert_writes_many_and_skips_only_the_conflicting_ones():
    now = timezone.now()

    def message(key: str) -> OutboxMessage:
        return OutboxMessage(
            member_id=1, channel="sms", template="t", context={"名": key}, ref="r", dedupe_key=key, due_at=now
        )

    rows_insert([message("a")])
    # when
    rows_insert([message("a"), message("b"), message("c")], skip_conflicts=True)
    # then
    stored = OutboxMessage.objects.order_by("dedupe_key")
    assert [(m.dedupe_key, m.context, m.status) for m in stored] == [
        ("a", {"名": "a"}, "pending"),
        ("b", {"名": "b"}, "pending"),
        ("c", {"名": "c"}, "pending"),
    ]
    rows_insert([])  # nothing to do is not an error


def test_row_exists_with_equality_and_in():
    campaign = CampaignFactory(status="published")
    member = row_insert(Member(phone_index="m"))
    signup = row_insert(Signup(campaign=campaign, member=member, status="withdrawn", channel="h5"))
    row_insert(
        SignupEvent(
            signup=signup,
            campaign_id=campaign.pk,
            to_status="withdrawn",
            actor_kind="system",
            actor_label="t",
        )
    )
    # then
    assert row_exists(Signup, campaign_id=campaign.pk, member_id=member.pk, status=["withdrawn", "confirmed"])
    assert not row_exists(Signup, campaign_id=campaign.pk, member_id=member.pk, status=["confirmed"])
    assert not row_exists(Signup, campaign_id=campaign.pk + 1, member_id=member.pk)
    assert SignupEvent.objects.get(signup=signup).at is not None
