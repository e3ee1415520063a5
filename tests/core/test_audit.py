"""The operator audit trail (S5): one append-only row per action, in the action's transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import INTEGRATION, sign_up
from tests.conftest import window
from tests.members.factories import mobile
from tests.rush import at_once
from yunying.campaigns.jobs import campaigns_advance_due
from yunying.campaigns.services import admission, lifecycle, lottery
from yunying.core.apikeys import apikey_create, apikey_revoke
from yunying.core.audit import APPEND_ONLY_TABLES, audit_record
from yunying.core.models import AuditEntry
from yunying.core.permissions import SYSTEM, Actor, Role

OPERATOR = Actor(kind="api_key", id=7, label="运营 小王", role=Role.EXECUTION)

pytestmark = pytest.mark.django_db


def only_entry(**filters) -> AuditEntry:
    """The one audit row there is; fails when there are none or several."""
    entries = list(AuditEntry.objects.filter(**filters))
    assert len(entries) == 1, [(e.action, e.object_id) for e in AuditEntry.objects.all()]
    return entries[0]


def definition(**overrides):
    return {
        "title": "会员日", "type": "promotion", "rules_text": "每人一次", "capacity": 5,
        "channels": ["h5"], **window(), **overrides,
    }  # fmt: skip


# --- campaigns ---------------------------------------------------------------------------------------


def test_create_records_the_actor_and_the_whole_definition():
    # when
    campaign = lifecycle.campaign_create(actor=OPERATOR, values=definition())
    # then
    entry = only_entry()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "campaign.create",
        "campaign",
        str(campaign.pk),
    )
    assert (entry.actor_kind, entry.actor_id, entry.actor_label, entry.actor_role) == (
        "api_key", 7, "运营 小王", "execution",
    )  # fmt: skip
    assert entry.before == {}
    assert entry.after["title"] == "会员日"
    assert entry.after["capacity"] == 5
    assert entry.after["status"] == "draft"


def test_edit_records_only_the_fields_that_changed_before_and_after():
    # given
    campaign = CampaignFactory(title="旧标题", capacity=10)
    # when
    lifecycle.campaign_update(
        campaign_id=campaign.pk, actor=OPERATOR, changes={"title": "新标题", "capacity": 10, "theme": "秋季"}
    )
    # then
    entry = only_entry(action="campaign.update")
    assert entry.before == {"title": "旧标题", "theme": ""}
    assert entry.after == {"title": "新标题", "theme": "秋季"}


@pytest.mark.parametrize(
    ("start", "act", "action", "to"),
    [
        ("draft", lambda c: lifecycle.campaign_publish(campaign_id=c, actor=OPERATOR), "campaign.publish", "published"),
        ("published", lambda c: lifecycle.campaign_close(campaign_id=c, actor=OPERATOR, reason="提前截止"), "campaign.close", "closed"),
        ("closed", lambda c: lifecycle.campaign_finish(campaign_id=c, actor=OPERATOR), "campaign.finish", "finished"),
        ("published", lambda c: lifecycle.campaign_cancel(campaign_id=c, actor=OPERATOR, reason="预算调整"), "campaign.cancel", "cancelled"),
    ],
    ids=["publish", "close", "finish", "cancel"],
)  # fmt: skip
def test_each_lifecycle_action_writes_one_row_with_the_status_before_and_after(start, act, action, to):
    # given
    campaign = CampaignFactory(status=start)
    # when
    act(campaign.pk)
    # then
    entry = only_entry()
    assert (entry.action, entry.object_id) == (action, str(campaign.pk))
    assert entry.before["status"] == start
    assert entry.after["status"] == to


def test_the_automation_closing_a_campaign_is_on_the_trail_as_the_system():
    # given: a campaign whose sign-up window has ended
    campaign = CampaignFactory(status="published")
    later = campaign.signup_end_at + timedelta(minutes=1)
    # when
    campaigns_advance_due(actor=SYSTEM, now=later)
    # then
    entry = only_entry()
    assert (entry.action, entry.actor_kind, entry.actor_label) == ("campaign.close", "system", "system")
    assert entry.reason == "sign-up window ended"


def test_cancel_records_its_reason():
    campaign = CampaignFactory(status="published")
    lifecycle.campaign_cancel(campaign_id=campaign.pk, actor=OPERATOR, reason="预算调整")
    assert only_entry().reason == "预算调整"


def test_a_rolled_back_action_writes_no_audit_row():
    # given
    campaign = CampaignFactory(status="published")
    # when: the caller's transaction fails after the service succeeded
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.campaign_cancel(campaign_id=campaign.pk, actor=OPERATOR, reason="预算调整")
        assert AuditEntry.objects.count() == 1
        raise RuntimeError("a later step failed")
    # then
    assert AuditEntry.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.status == "published"


def test_a_refused_action_writes_no_audit_row():
    campaign = CampaignFactory(status="finished")
    with pytest.raises(Exception, match="campaign"):
        lifecycle.campaign_publish(campaign_id=campaign.pk, actor=OPERATOR)
    assert AuditEntry.objects.count() == 0


def test_a_lottery_draw_writes_one_row_naming_the_draw():
    # given: a closed lottery with two entrants and one seat
    campaign = CampaignFactory(status="published", admission_mode="lottery", capacity=1)
    for n in (1, 2):
        sign_up(campaign, mobile(n))
    lifecycle.campaign_close(campaign_id=campaign.pk, actor=OPERATOR)
    # when
    draw = lottery.lottery_draw(campaign_id=campaign.pk, actor=OPERATOR)
    # then
    entry = only_entry(action="campaign.draw")
    assert entry.object_id == str(campaign.pk)
    assert entry.after == {"draw_id": draw.pk, "entrant_count": 2, "winner_count": 1}


# --- sign-ups ----------------------------------------------------------------------------------------


def test_confirm_reject_and_operator_withdraw_each_write_one_row():
    # given
    campaign = CampaignFactory(status="published", review_mode="manual")
    first, second, third = (sign_up(campaign, mobile(n)) for n in (1, 2, 3))
    assert AuditEntry.objects.count() == 0
    # when
    admission.signup_confirm(campaign_id=campaign.pk, signup_id=first.pk, actor=OPERATOR)
    admission.signup_reject(
        campaign_id=campaign.pk,
        signup_id=second.pk,
        actor=OPERATOR,
        reason="资料不实",
        note="手机号与订单不符",
    )
    admission.signup_withdraw(
        campaign_id=campaign.pk, signup_id=third.pk, actor=OPERATOR, reason="会员来电取消"
    )
    # then
    confirm = only_entry(action="signup.confirm")
    assert (confirm.object_type, confirm.object_id) == ("signup", str(first.pk))
    assert (confirm.before, confirm.after) == ({"status": "pending_review"}, {"status": "confirmed"})
    reject = only_entry(action="signup.reject")
    assert (reject.before, reject.after, reject.reason) == (
        {"status": "pending_review"}, {"status": "rejected", "note": "手机号与订单不符"}, "资料不实",
    )  # fmt: skip
    withdraw = only_entry(action="signup.withdraw")
    assert withdraw.after == {"status": "withdrawn", "note": ""}
    assert AuditEntry.objects.count() == 3


def test_a_withdrawal_through_the_storefront_is_the_members_own_and_not_audited():
    campaign = CampaignFactory(status="published")
    signup = sign_up(campaign, mobile(1))
    admission.signup_withdraw(campaign_id=campaign.pk, signup_id=signup.pk, actor=INTEGRATION, reason="没空")
    assert AuditEntry.objects.count() == 0


# --- API keys ----------------------------------------------------------------------------------------


def test_key_creation_and_revocation_are_audited_without_the_secret():
    # when
    key, token = apikey_create(name="门店小程序", role=Role.INTEGRATION, actor=OPERATOR)
    apikey_revoke(key=key, actor=OPERATOR)
    apikey_revoke(key=key, actor=OPERATOR)  # already revoked: nothing happens, nothing recorded
    # then
    created = only_entry(action="apikey.create")
    assert created.after == {"name": "门店小程序", "role": "integration", "prefix": key.prefix, "owner": ""}
    assert token.split("_", 2)[2] not in str(created.after)
    revoked = only_entry(action="apikey.revoke")
    assert revoked.object_id == str(key.pk)
    assert revoked.before == {"revoked_at": None} and revoked.after["revoked_at"]


# --- the guard ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=OPERATOR, action="campaign.create", object_type="campaign", object_id=1)
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_flushing_the_whole_database_empties_the_audit_table_and_keeps_it_append_only():
    # given
    lifecycle.campaign_create(actor=OPERATOR, values=definition())
    # when: what the test runner and `yunying flush` do
    call_command("flush", interactive=False, verbosity=0)
    # then
    assert AuditEntry.objects.count() == 0
    lifecycle.campaign_create(actor=OPERATOR, values=definition())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_the_database_refuses_to_change_or_delete_audit_rows(statement):
    # given
    lifecycle.campaign_create(actor=OPERATOR, values=definition())
    entry = only_entry()
    # when / then: even a statement that bypasses the ORM is refused
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        if statement == "update":
            AuditEntry.objects.filter(pk=entry.pk).update(reason="改写历史")
        else:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM core_auditentry")
    assert only_entry().reason == ""


# --- concurrency -------------------------------------------------------------------------------------


def _at_once(calls):
    """Run the callables together, each thread on its own connection; return outcomes."""
    return sorted(at_once(calls, ok="ok"))


@pytest.mark.django_db(transaction=True)
def test_of_two_operators_closing_one_campaign_at_once_one_wins_and_one_row_is_written():
    # given
    campaign = CampaignFactory(status="published")
    second = Actor(kind="api_key", id=8, label="运营 小李", role=Role.STRATEGY)
    # when
    outcomes = _at_once(
        [
            lambda: lifecycle.campaign_close(campaign_id=campaign.pk, actor=OPERATOR, reason="a"),
            lambda: lifecycle.campaign_close(campaign_id=campaign.pk, actor=second, reason="b"),
        ]
    )
    # then
    assert outcomes == ["campaign.invalid_transition", "ok"]
    entry = only_entry()
    assert entry.action == "campaign.close"
    campaign.refresh_from_db()
    assert campaign.status_reason == entry.reason  # the row names the operator whose close won


@pytest.mark.django_db(transaction=True)
def test_of_two_operators_confirming_one_sign_up_at_once_one_row_is_written():
    # given
    campaign = CampaignFactory(status="published", review_mode="manual")
    signup = sign_up(campaign, mobile(1))

    def confirm():
        return admission.signup_confirm(campaign_id=campaign.pk, signup_id=signup.pk, actor=OPERATOR)

    # when
    outcomes = _at_once([confirm, confirm])
    # then
    assert outcomes == ["ok", "signup.invalid_transition"]
    assert only_entry().action == "signup.confirm"


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_every_append_only_table_has_its_triggers_after_all_migrations(table):
    # A migration that adds a column rebuilds the table on SQLite, without its triggers: after
    # migrate, core re-installs them (core.audit.append_only_ensure), whatever the migrations did.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            assert {name for (name,) in cursor.fetchall()} >= {f"{table}_no_update", f"{table}_no_delete"}
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [table])
            assert f"{table}_append_only" in {name for (name,) in cursor.fetchall()}
