"""The hash chains over the audit trail and the access log (core.chain): an edited row, a deleted row
and deleted tail rows (against a head recorded earlier) are detected; concurrent appends keep one
linear chain; `yunying audit verify` says where a chain broke."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.rush import at_once
from yunying.core.audit import ACCESS_TABLE, AUDIT_TABLE, append_only_sql, audit_record, pii_access_record
from yunying.core.chain import ACCESS_CHAIN, AUDIT_CHAIN, CHAINS, HASH_FIELDS, chain_model, chain_verify
from yunying.core.models import AuditEntry, PersonalDataAccess
from yunying.core.permissions import Actor, Role

OPERATOR = Actor(kind="api_key", id=7, label="运营 小王", role=Role.EXECUTION)

pytestmark = pytest.mark.django_db


def record(n: int) -> list[AuditEntry]:
    entries = []
    for i in range(n):
        with transaction.atomic():
            entries.append(
                audit_record(
                    actor=OPERATOR, action="campaign.edit", object_type="campaign", object_id=i,
                    before={"title": "旧", "at": timezone.now()}, after={"title": f"新 {i}", "n": 1.5},
                )
            )  # fmt: skip
    return entries


def verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def tamper(table: str, sql: str, params: list) -> None:
    """Run a statement the append-only triggers would refuse, as an attacker with database access."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in append_only_sql(connection.vendor, drop=True, table=table):
            cursor.execute(statement)
        cursor.execute(sql, params)
        for statement in append_only_sql(connection.vendor, table=table):
            cursor.execute(statement)


def head(chain_name: str) -> str:
    chain = CHAINS[chain_name]
    return chain_verify(chain, chain_model(chain)).head_text


def test_the_chained_fields_are_every_field_of_the_row_but_its_id_and_hashes():
    for chain in (AUDIT_CHAIN, ACCESS_CHAIN):
        names = {f.name for f in chain_model(chain)._meta.concrete_fields}
        assert set(chain.fields) == names - set(HASH_FIELDS)


def test_an_untouched_chain_verifies_and_prints_its_heads():
    # given
    entries = record(3)
    pii_access_record(actor=OPERATOR, member_ids=[3, 1, 2], fields=["phone"], purpose="客服回访")
    # when
    status, out = verify()
    # then
    assert status == 0, out
    assert f"audit: ok, verified through row 3, head 3:{entries[-1].row_hash}" in out
    last = PersonalDataAccess.objects.order_by("-id").first()
    assert f"access: ok, verified through row 3, head 3:{last.row_hash}" in out
    assert entries[1].prev_hash == entries[0].row_hash and entries[0].prev_hash == ""


def test_bulk_access_rows_are_chained_in_id_order():
    # when
    pii_access_record(actor=OPERATOR, member_ids=[5, 4], fields=["phone", "name"], purpose="导出")
    pii_access_record(actor=OPERATOR, member_ids=[9], fields=["phone"], purpose="查看")
    # then
    rows = list(PersonalDataAccess.objects.order_by("id"))
    assert [r.member_id for r in rows] == [4, 5, 9]
    assert [r.prev_hash for r in rows] == ["", rows[0].row_hash, rows[1].row_hash]
    assert chain_verify(ACCESS_CHAIN, PersonalDataAccess).ok


def test_the_database_refuses_to_change_or_delete_access_rows():
    pii_access_record(actor=OPERATOR, member_ids=[1], fields=["phone"], purpose="查看")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PersonalDataAccess.objects.update(purpose="改写")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PersonalDataAccess.objects.all().delete()
    assert PersonalDataAccess.objects.get().purpose == "查看"


def test_an_edited_audit_row_is_named():
    # given
    entries = record(4)
    # when: someone with database access rewrites history
    tamper(AUDIT_TABLE, f"UPDATE {AUDIT_TABLE} SET reason = %s WHERE id = %s", ["改写", entries[2].pk])
    # then
    status, out = verify()
    assert status == 1
    assert f"audit: BROKEN at row id {entries[2].pk} (edited); verified through row 2" in out
    assert "access: ok" in out


def test_a_deleted_middle_row_is_detected_at_its_successor():
    # given
    entries = record(4)
    # when
    tamper(AUDIT_TABLE, f"DELETE FROM {AUDIT_TABLE} WHERE id = %s", [entries[1].pk])
    # then
    status, out = verify()
    assert status == 1
    assert f"audit: BROKEN at row id {entries[2].pk} (deleted before)" in out


def test_an_edited_access_row_is_named():
    pii_access_record(actor=OPERATOR, member_ids=[1, 2, 3], fields=["phone"], purpose="查看")
    second = PersonalDataAccess.objects.get(member_id=2)
    tamper(ACCESS_TABLE, f"UPDATE {ACCESS_TABLE} SET actor_label = %s WHERE id = %s", ["别人", second.pk])
    status, out = verify()
    assert status == 1
    assert f"access: BROKEN at row id {second.pk} (edited)" in out


def test_deleted_tail_rows_are_detected_against_a_head_recorded_earlier():
    # given: a head recorded (the hourly log line), then more rows
    entries = record(3)
    recorded = head("audit")
    assert verify(f"--expect-head=audit={recorded}")[0] == 0
    # when: the last row is deleted: the remaining chain is intact on its own
    tamper(AUDIT_TABLE, f"DELETE FROM {AUDIT_TABLE} WHERE id = %s", [entries[-1].pk])
    assert verify()[0] == 0
    # then: against the recorded head it is not
    status, out = verify(f"--expect-head=audit={recorded}")
    assert status == 1
    assert "audit: BROKEN at the tail (tail deleted); verified through row 2" in out


def test_a_rewritten_chain_does_not_match_the_recorded_head():
    # given
    entries = record(2)
    recorded = head("audit")
    # when: the last row is deleted and another appended in its place
    tamper(AUDIT_TABLE, f"DELETE FROM {AUDIT_TABLE} WHERE id = %s", [entries[-1].pk])
    record(1)
    # then
    status, out = verify(f"--expect-head=audit={recorded}")
    assert status == 1
    assert "differs from the expected head" in out


@pytest.mark.parametrize("bad", ["audit", "nope=1:ab", "audit=x:ab"])
def test_a_malformed_expected_head_is_refused(bad):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("audit", "verify", f"--expect-head={bad}")


@pytest.mark.django_db(transaction=True)
def test_eight_operators_at_once_keep_one_linear_chain():
    # given
    barrier = threading.Barrier(8)

    def act(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                audit_record(actor=OPERATOR, action="campaign.edit", object_type="campaign", object_id=i)
            pii_access_record(actor=OPERATOR, member_ids=[i, i + 100], fields=["phone"], purpose="查看")
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(act, range(8)))
    # then
    assert AuditEntry.objects.count() == 8 and PersonalDataAccess.objects.count() == 16
    assert chain_verify(AUDIT_CHAIN, AuditEntry).ok
    assert chain_verify(ACCESS_CHAIN, PersonalDataAccess).ok
    hashes = list(AuditEntry.objects.order_by("id").values_list("prev_hash", "row_hash"))
    assert len({prev for prev, _ in hashes}) == 8  # no two rows share a predecessor: no fork


@pytest.mark.django_db(transaction=True)
def test_appends_to_both_chains_in_opposite_orders_never_deadlock():
    """A reveal audited then logged, and a file logged then audited (privacy.rights request_export):
    each takes the chains' locks in key order (the chain bench found the deadlock)."""

    def audit_then_access(i: int):
        def run():
            with transaction.atomic():
                audit_record(actor=OPERATOR, action="member.reveal", object_type="member", object_id=i)
                time.sleep(0.05)  # hold the first lock while the other side takes its own
                pii_access_record(actor=OPERATOR, member_ids=[i], fields=["phone"], purpose="查看")

        return run

    def access_then_audit(i: int):
        def run():
            with transaction.atomic():
                pii_access_record(actor=OPERATOR, member_ids=[i], fields=["phone"], purpose="查看")
                time.sleep(0.05)
                audit_record(
                    actor=OPERATOR, action="privacy.request_export", object_type="member", object_id=i
                )

        return run

    results = at_once([audit_then_access(i) if i % 2 else access_then_audit(i) for i in range(6)], ok="ok")
    assert results == ["ok"] * 6  # a deadlock is core.busy (or a DatabaseError) on one side
    assert chain_verify(AUDIT_CHAIN, AuditEntry).ok and chain_verify(ACCESS_CHAIN, PersonalDataAccess).ok


BEFORE = [("core", "0005_alert_append_only")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_rows_written_before_it_in_id_order():
    # given: rows the previous version wrote
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    state = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    old_audit = state.get_model("core", "AuditEntry")
    old_access = state.get_model("core", "PersonalDataAccess")
    for i in range(3):
        old_audit.objects.create(
            actor_kind="user", actor_id=1, actor_label="旧", action="campaign.create",
            object_type="campaign", object_id=str(i), before={}, after={"title": f"t{i}"},
        )  # fmt: skip
        old_access.objects.create(
            member_id=i, actor_kind="user", actor_id=1, actor_label="旧", fields=["phone"], purpose="p"
        )
    # when
    MigrationExecutor(connection).migrate(latest)
    # then
    status, out = verify()
    assert status == 0, out
    assert "audit: ok, verified through row 3" in out and "access: ok, verified through row 3" in out
    assert "" not in AuditEntry.objects.values_list("row_hash", flat=True)
    # and new rows continue the chain; the access log is append-only now
    record(1)
    assert chain_verify(AUDIT_CHAIN, AuditEntry).count == 4
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PersonalDataAccess.objects.all().delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.all().delete()


def test_the_heads_are_logged_at_most_hourly(caplog):
    from django.core.cache import cache

    from yunying.core.chain import chain_anchor_job
    from yunying.core.registry import periodic_jobs

    # given
    cache.delete("core.chain_anchor")
    entries = record(2)
    assert periodic_jobs()["core.chain_anchor"] is chain_anchor_job
    # when
    with caplog.at_level("INFO", logger="yunying.audit"):
        first, second = chain_anchor_job(), chain_anchor_job()
    # then
    assert (first, second) == ({"chain_heads_logged": 1}, {})
    lines = [r for r in caplog.records if r.name == "yunying.audit"]
    assert len(lines) == 1
    assert lines[0].chain_heads == {"audit": f"2:{entries[-1].row_hash}", "access": "0:"}
    assert verify(f"--expect-head=audit={lines[0].chain_heads['audit']}")[0] == 0


def test_the_console_audit_pages_show_the_chain_status(client, django_user_model):
    from yunying.core.chain import chain_verify_tail

    # given
    entries = record(3)
    # then: an intact tail
    verdict = chain_verify_tail(AUDIT_CHAIN, AuditEntry, rows=2)
    assert verdict.ok and verdict.count == 3 and verdict.head == entries[-1].row_hash
    # when: the last row is edited, or a middle row deleted
    tamper(AUDIT_TABLE, f"UPDATE {AUDIT_TABLE} SET reason = %s WHERE id = %s", ["改写", entries[2].pk])
    assert chain_verify_tail(AUDIT_CHAIN, AuditEntry).broken_id == entries[2].pk
    tamper(AUDIT_TABLE, f"DELETE FROM {AUDIT_TABLE} WHERE id = %s", [entries[1].pk])
    assert chain_verify_tail(AUDIT_CHAIN, AuditEntry).broken_id == entries[2].pk


def test_verify_without_a_recorded_head_warns_that_a_deleted_tail_would_pass():
    """Every access row wiped still verifies 'ok' (outside review): the command says what it cannot see."""
    err = io.StringIO()
    call_command("audit", "verify", stdout=io.StringIO(), stderr=err)
    assert "WARNING no --expect-head given" in err.getvalue()
    err = io.StringIO()
    head = chain_verify(AUDIT_CHAIN, AuditEntry).head_text
    call_command("audit", "verify", f"--expect-head=audit={head}", stdout=io.StringIO(), stderr=err)
    assert "audit: WARNING" not in err.getvalue() and "access: WARNING" in err.getvalue()
