"""core.rows: the hot-path statements read and write exactly what the ORM would (the ORM is the oracle)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from yunying.campaigns.models import Campaign, Signup, SignupEvent
from yunying.core.rows import row_exists, row_get, row_insert, rows_insert, rows_values
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

    assert rows_insert([message("a")]) == 1
    # when
    written = rows_insert([message("a"), message("b"), message("c")], skip_conflicts=True)
    # then: the count says what was written, not what was given (import counts rely on it)
    assert written == 2
    stored = OutboxMessage.objects.order_by("dedupe_key")
    assert [(m.dedupe_key, m.context, m.status) for m in stored] == [
        ("a", {"名": "a"}, "pending"),
        ("b", {"名": "b"}, "pending"),
        ("c", {"名": "c"}, "pending"),
    ]
    assert rows_insert([]) == 0  # nothing to do is not an error


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


def test_rows_values_gives_what_values_list_gives():
    # given: dates, nulls, JSON and a foreign key column, over several rows
    campaign = CampaignFactory(status="published", channels=["h5"], published_at=timezone.now())
    CampaignFactory(status="draft", channels=["app", "h5"])
    names = ("id", "status", "channels", "published_at", "waitlist_enabled")
    # when / then: the ORM is the oracle, for IN, equality and a miss
    for where in ({"status": ["published", "draft"]}, {"id": campaign.pk}, {"status": "closed"}):
        lookups = {f"{k}__in" if isinstance(v, list) else k: v for k, v in where.items()}
        oracle = sorted(Campaign.objects.filter(**lookups).values_list(*names))
        assert sorted(rows_values(Campaign, names, **where)) == oracle
    member = Member.objects.create(phone_index="p-v", birth_date=date(1990, 2, 28))
    signup = row_insert(Signup(campaign=campaign, member=member, status="confirmed", channel="h5"))
    assert rows_values(Signup, ("member_id", "created_at"), id=signup.pk) == list(
        Signup.objects.filter(pk=signup.pk).values_list("member_id", "created_at")
    )


def test_none_in_a_look_up_means_is_null_as_in_the_orm():
    # given: one member known by phone only (no external id), one by both
    Member.objects.create(phone_index="p-null", external_id=None)
    Member.objects.create(phone_index="p-set", external_id="ext-1")
    # when / then: `= NULL` would match nothing; the ORM's answer is the oracle
    oracle = Member.objects.filter(external_id=None).first()
    assert row_get(Member, external_id=None).pk == oracle.pk
    assert row_exists(Member, external_id=None, phone_index="p-null")
    assert not row_exists(Member, external_id=None, phone_index="p-set")


def test_rows_insert_writes_more_rows_than_one_statement_may_bind():
    # given: more rows x columns than SQLite's bound-parameter limit (32,766) allows in one statement
    campaign = CampaignFactory()
    members = [Member(phone_index=f"bulk{n}") for n in range(3000)]
    Member.objects.bulk_create(members)
    ids = list(Member.objects.filter(phone_index__startswith="bulk").values_list("pk", flat=True))
    rows = [Signup(campaign=campaign, member_id=i, status="confirmed", channel="h5") for i in ids]
    # when
    rows_insert(rows)
    # then
    assert Signup.objects.filter(campaign=campaign).count() == 3000


def test_save_receivers_are_called_as_save_would_call_them():
    from django.db.models.signals import post_save, pre_save

    seen = []

    def pre(sender, instance, **kwargs):
        seen.append(("pre", instance.pk))

    def post(sender, instance, created, **kwargs):
        seen.append(("post", instance.pk, created))

    pre_save.connect(pre, sender=Member)
    post_save.connect(post, sender=Member)
    try:
        member = row_insert(Member(phone_index="signal"))
    finally:
        pre_save.disconnect(pre, sender=Member)
        post_save.disconnect(post, sender=Member)
    assert seen == [("pre", None), ("post", member.pk, True)]


def test_a_model_with_database_defaults_is_refused_not_written_wrong():
    from django.db import models

    from yunying.core.rows import _insert_fields

    class WithDbDefault(models.Model):
        label = models.CharField(max_length=10, db_default="x")

        class Meta:
            app_label = "core"
            managed = False

    with pytest.raises(TypeError, match="db_default"):
        _insert_fields(WithDbDefault)


def test_the_router_chooses_the_connection(settings):
    # given: a router that sends every write to an alias the test defines as the default database
    from django.db import connections

    class Router:
        calls = []

        def db_for_write(self, model, **hints):
            self.calls.append(("write", model))
            return "default"

        def db_for_read(self, model, **hints):
            self.calls.append(("read", model))
            return "default"

    router = Router()
    from django.db import router as django_router

    old = django_router.routers
    django_router.routers = [router]
    try:
        member = row_insert(Member(phone_index="routed"))
        row_get(Member, phone_index="routed")
    finally:
        django_router.routers = old
    # then
    assert ("write", Member) in router.calls and ("read", Member) in router.calls
    assert member._state.db == connections["default"].alias
