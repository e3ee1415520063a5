"""Key rotation (S1): every sealed column declared in core.registry is re-encrypted under the new
active key, resumably, without losing a concurrent write; the old key can then leave the ring;
`yunying pii-keys status` and the deployment check tell which keys still seal what; a stored value
that does not open (moved to another row, a flipped byte) raises and alerts."""

from __future__ import annotations

import threading
import time

import pytest
from cryptography.exceptions import InvalidTag
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Campaign, Signup
from yunying.campaigns.services.admission import answers_read
from yunying.campaigns.services.lottery_seed import committed_seed, lottery_commit
from yunying.core import crypto
from yunying.core.models import Alert
from yunying.core.registry import sealed_columns
from yunying.members.models import Member, ProfileAnswer
from yunying.members.services import Profile, member_email, member_name, member_phone, member_resolve
from yunying.privacy import keys
from yunying.privacy.keys import ColumnKeys, percent_of
from yunying.privacy.models import KeyRotation

NEW = "k9:bmV3LXRlc3Qtb25seS1waWkta2V5LW5pbmUtbmluZQ"


def _attr(member, value: str) -> ProfileAnswer:
    sealed = crypto.encrypt(value, context="member.attr", row=member.row_token)
    return ProfileAnswer.objects.create(
        member=member, target="attr:pet", value_encrypted=sealed, answered_at=member.created_at
    )


def _every_ciphertext() -> list[str]:
    values = []
    for column in sealed_columns():
        from django.apps import apps

        model = apps.get_model(column.model)
        values += [v for v in model.objects.values_list(column.column, flat=True) if v]
    return values


@pytest.fixture
def sealed_world(open_campaign):
    members = [
        member_resolve(
            phone=mobile(n), external_id=None, profile=Profile(name=f"会员{n}", email=f"m{n}@x.cn")
        )
        for n in range(1, 6)
    ]
    answer = _attr(members[0], "猫")
    signup = sign_up(open_campaign, mobile(9), answers={})
    lottery_commit(campaign_id=open_campaign.pk)
    return members, answer, signup, open_campaign


def test_every_encrypted_column_is_declared():
    labels = {column.label for column in sealed_columns()}
    assert labels == {
        "members.Member.phone_encrypted",
        "members.Member.name_encrypted",
        "members.Member.email_encrypted",
        "members.ProfileAnswer.value_encrypted",
        "campaigns.Signup.answers_encrypted",
        "campaigns.Campaign.lottery_seed_sealed",
    }


def test_rotation_reencrypts_everything_and_the_old_keys_can_then_leave_the_ring(
    settings, sealed_world, capsys
):
    members, answer, signup, campaign = sealed_world
    old_ring = settings.PII_KEYS
    settings.PII_KEYS = f"{NEW},{old_ring}"
    # when
    call_command("pii_keys", "rotate", "--batch", "2")
    # then: no ciphertext names an old key
    values = _every_ciphertext()
    assert len(values) >= 5 * 3 + 3
    assert {crypto.key_id_of(v) for v in values} == {"k9"}
    out = capsys.readouterr().out
    assert "key t2 seals nothing: it can be removed from the ring" in out
    assert all(row.percent == 100 and row.finished_at for row in KeyRotation.objects.all())
    # and with the old keys gone from the ring every value still reads
    settings.PII_KEYS = NEW
    for n, member in enumerate(members, start=1):
        member.refresh_from_db()
        assert (member_phone(member), member_name(member), member_email(member)) == (
            mobile(n),
            f"会员{n}",
            f"m{n}@x.cn",
        )
    answer.refresh_from_db()
    assert crypto.decrypt(answer.value_encrypted, context="member.attr", row=members[0].row_token) == "猫"
    signup.refresh_from_db()
    assert answers_read(signup) == {}
    assert committed_seed(Campaign.objects.get(pk=campaign.pk))
    # and the deployment check notes nothing missing
    assert not [
        m for m in run_checks(include_deployment_checks=True, databases=["default"]) if m.id == "yunying.E005"
    ]


def test_status_counts_per_column_and_key(settings, sealed_world, capsys):
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    member_resolve(phone=mobile(20), external_id=None)  # written under k9 at once
    call_command("pii_keys", "status")
    out = capsys.readouterr().out
    assert "members.Member.phone_encrypted: k9=1 t2=6; 14% (1/7) under k9; not started" in out
    assert "members.ProfileAnswer.value_encrypted: t2=1" in out
    assert "active key: k9; ring: k9, t2, t1" in out
    assert "key t1 seals nothing" in out and "key t2 seals nothing" not in out
    assert "key t2 still seals 19 values: keep it in the ring" in out


def test_rotation_resumes_after_an_interruption_with_right_totals(settings, sealed_world):
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    phone = next(c for c in sealed_columns() if c.label == "members.Member.phone_encrypted")
    # when: one batch, then the process stops
    assert keys.rotation_batch(phone, batch=2) == 2
    progress = KeyRotation.objects.get(column=phone.label)
    assert (progress.rows_done, progress.rows_total, progress.finished_at) == (2, 6, None)
    assert progress.cursor == Member.objects.order_by("pk").values_list("pk", flat=True)[1]
    # and a new run continues where it stopped
    keys.rotation_run(batch=2)
    progress.refresh_from_db()
    assert (progress.rows_done, progress.rows_resealed, progress.rows_total) == (6, 6, 6)
    assert progress.finished_at is not None
    assert {crypto.key_id_of(v) for v in Member.objects.values_list("phone_encrypted", flat=True)} == {"k9"}


def test_the_worker_job_runs_bounded_batches_until_done(settings, sealed_world):
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    from yunying.core.registry import periodic_jobs

    job = periodic_jobs()["privacy.keys_rotate"]
    passes = 0
    while job():
        passes += 1
        assert passes < 20
    assert {crypto.key_id_of(v) for v in _every_ciphertext()} == {"k9"}
    assert job() == {}  # idle once done


def test_a_new_active_key_starts_the_columns_over(settings, sealed_world):
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    keys.rotation_run()
    settings.PII_KEYS = f"k10:YW5vdGhlci10ZXN0LW9ubHktcGlpLWtleS10ZW4tdGVu,{settings.PII_KEYS}"
    keys.rotation_run()
    assert set(KeyRotation.objects.values_list("key_id", flat=True)) == {"k10"}
    assert {crypto.key_id_of(v) for v in _every_ciphertext()} == {"k10"}


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_write_during_rotation_is_not_lost(settings):
    # given: members under the old key
    members = [
        member_resolve(phone=mobile(n), external_id=None, profile=Profile(name=f"旧{n}")) for n in range(1, 4)
    ]
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    name = next(c for c in sealed_columns() if c.label == "members.Member.name_encrypted")
    target = members[1]
    barrier = threading.Barrier(2)
    real_decrypt = crypto.decrypt

    def slow_decrypt(sealed, **kwargs):
        clear = real_decrypt(sealed, **kwargs)
        if kwargs.get("row") == target.row_token and kwargs.get("context") == "member.name":
            barrier.wait(timeout=10)  # rotation has read the old value: the writer goes now
            barrier.wait(timeout=10)
        return clear

    def writer():
        try:
            barrier.wait(timeout=10)
            fresh = crypto.encrypt("新名字", context="member.name", row=target.row_token)
            Member.objects.filter(pk=target.pk).update(name_encrypted=fresh)
        finally:
            barrier.wait(timeout=10)
            connection.close()

    crypto_decrypt = crypto.decrypt
    crypto.decrypt = slow_decrypt
    try:
        thread = threading.Thread(target=writer)
        thread.start()
        keys.rotation_batch(name, batch=10)
        thread.join(timeout=20)
    finally:
        crypto.decrypt = crypto_decrypt
    target.refresh_from_db()
    assert member_name(target) == "新名字"
    progress = KeyRotation.objects.get(column=name.label)
    assert (progress.rows_done, progress.rows_resealed) == (3, 2)
    assert {crypto.key_id_of(v) for v in Member.objects.values_list("name_encrypted", flat=True)} == {"k9"}


def test_the_deployment_check_errors_on_a_key_missing_from_the_ring(settings, sealed_world):
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    member_resolve(phone=mobile(30), external_id=None)
    settings.PII_KEYS = NEW  # t2 dropped before rotating
    messages = {m.id: m for m in run_checks(include_deployment_checks=True, databases=["default"])}
    assert "yunying.E005" in messages and "t2" in messages["yunying.E005"].msg
    assert "yunying.I001" not in messages


def test_the_deployment_check_notes_keys_no_longer_used(settings, sealed_world):
    messages = {m.id: m for m in run_checks(include_deployment_checks=True, databases=["default"])}
    assert "yunying.E005" not in messages
    assert "t1" in messages["yunying.I001"].msg


def test_a_ciphertext_moved_to_another_members_row_raises_and_alerts(sealed_world):
    a, b = sealed_world[0][:2]
    Member.objects.filter(pk=b.pk).update(name_encrypted=a.name_encrypted)
    b.refresh_from_db()
    with pytest.raises(InvalidTag):
        member_name(b)
    alert = Alert.objects.get(code="pii.ciphertext_invalid")
    assert alert.data == {"context": "member.name", "row": b.row_token, "key_id": "t2", "error": "InvalidTag"}


def test_a_flipped_byte_raises_and_alerts(sealed_world):
    signup: Signup = sealed_world[2]
    sealed = signup.answers_encrypted
    i = len(sealed) - 5
    flipped = sealed[:i] + ("A" if sealed[i] != "A" else "B") + sealed[i + 1 :]
    Signup.objects.filter(pk=signup.pk).update(answers_encrypted=flipped)
    signup.refresh_from_db()
    with pytest.raises(InvalidTag):
        answers_read(signup)
    assert Alert.objects.filter(code="pii.ciphertext_invalid", data__context="signup.answers").count() == 1


def test_no_key_material_is_written_to_the_database(settings, sealed_world):
    # given: a rotation ran (its progress rows name key ids)
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    keys.rotation_run()
    # when: every row of every table is read, as a backup would (not dumpdata: a test elsewhere
    # registers a model without a table, and dumpdata then fails on it)
    with connection.cursor() as cursor:
        rows = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            rows.extend(repr(row) for row in cursor.fetchall())
    dump = "\n".join(rows)
    # then: neither the blind-index key nor any PII key is in it
    assert "'k9'" in dump
    secrets = [settings.BLIND_INDEX_KEY] + [item.partition(":")[2] for item in settings.PII_KEYS.split(",")]
    assert all(secret and secret not in dump for secret in secrets)


def _column(label: str):
    return next(c for c in sealed_columns() if c.label == label)


def _write_under_the_old_ring(settings, new_ring: str, old_ring: str, first: int) -> None:
    """What a process not yet restarted does during the rolling restart: it writes under the old key,
    both new rows and, behind the finished pass's cursor, an existing member's name."""
    settings.PII_KEYS = old_ring
    for n in range(first, first + 3):
        member_resolve(phone=mobile(n), external_id=None, profile=Profile(name=f"迟到{n}"))
    first_member = Member.objects.order_by("pk").first()
    Member.objects.filter(pk=first_member.pk).update(
        name_encrypted=crypto.encrypt("改名", context="member.name", row=first_member.row_token)
    )
    settings.PII_KEYS = new_ring


def test_rotate_re_encrypts_values_written_under_the_old_key_after_the_pass_finished(
    settings, sealed_world, capsys
):
    # given: the rotation to k9 finished, then processes still on the old ring wrote more
    old_ring = settings.PII_KEYS
    new_ring = f"{NEW},{old_ring}"
    settings.PII_KEYS = new_ring
    call_command("pii_keys", "rotate")
    assert all(row.finished_at for row in KeyRotation.objects.all())
    _write_under_the_old_ring(settings, new_ring, old_ring, first=40)
    capsys.readouterr()
    # when: status first: it must not call the column done nor the old key retirable
    call_command("pii_keys", "status")
    out = capsys.readouterr().out
    name_line = next(line for line in out.splitlines() if line.startswith("members.Member.name_encrypted:"))
    assert "100%" not in name_line and "k9=4 t2=4; 50% (4/8) under k9" in name_line
    assert "pass finished, 4 values written since" in name_line
    assert "key t2 seals nothing" not in out and "key t2 still seals 7 values" in out
    # and rotate re-scans the finished columns
    call_command("pii_keys", "rotate")
    # then
    assert {crypto.key_id_of(v) for v in _every_ciphertext()} == {"k9"}
    out = capsys.readouterr().out
    assert "key t2 seals nothing: it can be removed from the ring" in out
    assert "members.Member.name_encrypted: k9=8; 100% (8/8) under k9; nothing to re-encrypt" in out
    settings.PII_KEYS = NEW
    assert member_name(Member.objects.order_by("pk").first()) == "改名"


def test_the_worker_re_checks_finished_columns_at_most_every_recheck_period(
    settings, sealed_world, monkeypatch
):
    old_ring = settings.PII_KEYS
    new_ring = f"{NEW},{old_ring}"
    settings.PII_KEYS = new_ring
    job = keys.keys_rotate_job
    monkeypatch.setattr(keys, "_rechecked_at", None)
    while job():
        pass
    _write_under_the_old_ring(settings, new_ring, old_ring, first=50)
    # when: within the period, a finished column is not counted again
    assert job() == {}
    assert any(crypto.key_id_of(v) == "t2" for v in _every_ciphertext())
    # and once the period has passed it is, and the stragglers are re-encrypted
    monkeypatch.setattr(keys, "_rechecked_at", time.monotonic() - keys.RECHECK_SECONDS - 1)
    passes = 0
    while job():
        passes += 1
        assert passes < 20
    assert {crypto.key_id_of(v) for v in _every_ciphertext()} == {"k9"}


def test_a_pass_reads_only_the_values_not_under_the_active_key(settings, sealed_world):
    # given: under the new key k9, one member's name is already written under it
    members = sealed_world[0]
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    fresh = crypto.encrypt("新名字", context="member.name", row=members[1].row_token)
    Member.objects.filter(pk=members[1].pk).update(name_encrypted=fresh)
    name = _column("members.Member.name_encrypted")
    # when
    seen = keys.rotation_batch(name, batch=100)
    # then: the four others were read, not the one already under k9 (it is left as it was)
    assert seen == 4
    progress = KeyRotation.objects.get(column=name.label)
    assert (progress.rows_done, progress.rows_resealed, progress.rows_total) == (4, 4, 4)
    assert Member.objects.get(pk=members[1].pk).name_encrypted == fresh


def test_a_column_already_under_the_active_key_is_done_without_a_pass(sealed_world):
    # when: the worker runs while every value is under the active key (no rotation ever)
    job_result = keys.keys_rotate_job()
    # then: nothing is read, and each column is recorded as having nothing to do
    assert job_result == {}
    assert KeyRotation.objects.count() == len(sealed_columns())
    assert all(
        row.finished_at and (row.rows_done, row.rows_total) == (0, 0) and row.percent == 100
        for row in KeyRotation.objects.all()
    )


def _rings(settings) -> dict[str, str]:
    material = {item.split(":")[0]: item.split(":")[1] for item in f"{NEW},{settings.PII_KEYS}".split(",")}
    return {
        "new": f"{NEW},t2:{material['t2']},t1:{material['t1']}",
        "old": f"t2:{material['t2']},t1:{material['t1']}",  # without the new key
        # deploy.md's first step: the new key appended, not active yet (the report's k2,k3,k1)
        "old, new key appended": f"t2:{material['t2']},t1:{material['t1']},{NEW}",
        "old, new key second": f"t2:{material['t2']},{NEW},t1:{material['t1']}",
    }


@pytest.mark.parametrize("old", ["old", "old, new key appended", "old, new key second"])
@pytest.mark.parametrize("t2_was_a_target", [False, True], ids=["t2 never rotated to", "t2 rotated to"])
def test_a_process_on_the_old_ring_started_after_the_rotation_leaves_it_alone(
    settings, sealed_world, monkeypatch, capsys, old, t2_was_a_target
):
    rings = _rings(settings)
    if t2_was_a_target:  # the worker ran under t2 before this rotation: the history knows t2
        keys.rotation_run()
    # given: a long-running process on the new ring took up k9 and the pass to k9 is under way
    settings.PII_KEYS = rings["new"]
    phone = _column("members.Member.phone_encrypted")
    keys.rotation_batch(phone, batch=2)
    before = list(KeyRotation.objects.order_by("pk").values())
    # when: a process on the old ring starts only now (a `worker --once` from cron) and runs its job,
    # the re-check of finished columns included
    settings.PII_KEYS = rings[old]
    monkeypatch.setattr(keys, "_rechecked_at", None)
    assert keys.keys_rotate_job() == {}
    # then: it neither turned the pass back towards t2 nor touched the values under k9
    assert list(KeyRotation.objects.order_by("pk").values()) == before
    assert KeyRotation.objects.get(column=phone.label).key_id == "k9"
    assert not Alert.objects.filter(code="pii.ciphertext_invalid").exists()
    phones = Member.objects.order_by("pk").values_list("phone_encrypted", flat=True)
    assert [crypto.key_id_of(v) for v in phones][:2] == ["k9", "k9"]
    # and the long-running new-ring process, not restarted, carries on to the end
    settings.PII_KEYS = rings["new"]
    passes = 0
    while keys.keys_rotate_job():
        passes += 1
        assert passes < 20
    assert {crypto.key_id_of(v) for v in _every_ciphertext()} == {"k9"}
    capsys.readouterr()
    call_command("pii_keys", "status")
    out = capsys.readouterr().out
    assert "not started" not in out and "key t2 seals nothing: it can be removed from the ring" in out


def test_a_new_ring_process_takes_back_passes_an_old_one_turned_back(settings, sealed_world):
    # given: the pass to k9 began, then (before this fix) an old process turned every column back to
    # t2, with a start later than the new process's
    rings = _rings(settings)
    settings.PII_KEYS = rings["new"]
    keys.rotation_batch(_column("members.Member.phone_encrypted"), batch=2)
    KeyRotation.objects.update(
        key_id="t2", cursor=0, rows_done=0, started_at=timezone.now() + timezone.timedelta(minutes=5)
    )
    # when: the new-ring worker runs on
    passes = 0
    while keys.keys_rotate_job():
        passes += 1
        assert passes < 20
    # then: it took the passes back and finished them
    assert set(KeyRotation.objects.values_list("key_id", flat=True)) == {"k9"}
    assert {crypto.key_id_of(v) for v in _every_ciphertext()} == {"k9"}


def test_the_next_rotation_still_starts_after_an_old_process_stood_aside(settings, sealed_world):
    rings = _rings(settings)
    settings.PII_KEYS = rings["new"]
    keys.rotation_run()
    settings.PII_KEYS = rings["old, new key appended"]
    assert keys.rotation_run() == {}
    # when: k10 is prepended to the new ring
    settings.PII_KEYS = f"k10:YW5vdGhlci10ZXN0LW9ubHktcGlpLWtleS10ZW4tdGVu,{rings['new']}"
    keys.rotation_run()
    # then
    assert {crypto.key_id_of(v) for v in _every_ciphertext()} == {"k10"}
    settings.PII_KEYS = rings["new"]  # and k9 is now the old one
    assert keys.rotation_superseded_by("k9") == "k10"


def test_pii_keys_on_an_old_ring_refuses_to_rotate_and_says_why(settings, sealed_world, capsys):
    rings = _rings(settings)
    settings.PII_KEYS = rings["new"]
    keys.rotation_batch(_column("members.Member.phone_encrypted"), batch=2)
    settings.PII_KEYS = rings["old, new key appended"]
    # when / then
    with pytest.raises(CommandError, match="active key t2 is older than k9"):
        call_command("pii_keys", "rotate")
    assert set(KeyRotation.objects.values_list("key_id", flat=True)) == {"k9"}
    call_command("pii_keys", "status")
    assert "active key t2 is older than k9" in capsys.readouterr().out


def _pause_first_count(monkeypatch, barrier: threading.Barrier, thread_name: str) -> None:
    """The named thread's first count of pending values (between its read of the progress row and its
    write) waits until the other worker has made the row and done a batch."""
    real = keys._pending
    paused = []

    def pending(column, active):
        query = real(column, active)
        if threading.current_thread().name == thread_name and not paused:
            paused.append(True)
            barrier.wait(timeout=10)  # the other worker goes now
            barrier.wait(timeout=10)  # ... and is done
        return query

    monkeypatch.setattr(keys, "_pending", pending)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("row", ["none yet", "towards an older key"])
def test_two_workers_starting_a_pass_at_once_keep_each_others_counts(settings, monkeypatch, row):
    # given: members under t2, and the new ring k9
    for n in range(1, 5):
        member_resolve(phone=mobile(n), external_id=None, profile=Profile(name=f"旧{n}"))
    phone = _column("members.Member.phone_encrypted")
    if row == "towards an older key":
        keys.rotation_run()  # the passes towards t2, finished
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    barrier = threading.Barrier(2)
    _pause_first_count(monkeypatch, barrier, "late")
    seen = []

    def late_worker():
        try:
            seen.append(keys._progress(phone))
        finally:
            connection.close()

    # when: the late worker read the row (none, or towards t2), then the other made it and did a batch
    thread = threading.Thread(target=late_worker, name="late")
    thread.start()
    barrier.wait(timeout=10)
    assert keys.rotation_batch(phone, batch=2) == 2
    barrier.wait(timeout=10)
    thread.join(timeout=20)
    # then: the batch done stays counted
    progress = KeyRotation.objects.get(column=phone.label)
    second = Member.objects.order_by("pk").values_list("pk", flat=True)[1]
    assert (progress.key_id, progress.rows_done, progress.cursor) == ("k9", 2, second)
    assert seen[0] is not None and seen[0].rows_done == 2


def test_a_value_that_does_not_decrypt_is_recorded_and_the_rotation_goes_on(
    settings, sealed_world, capsys, caplog
):
    # given: one member's name moved onto another member's row (it does not open there)
    members = sealed_world[0]
    Member.objects.filter(pk=members[2].pk).update(name_encrypted=members[0].name_encrypted)
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    # when: the worker job runs, pass after pass
    passes = 0
    while keys.keys_rotate_job():
        passes += 1
        assert passes < 20
    # then: every other value of every column is under k9, the bad one is left as it was
    values = _every_ciphertext()
    assert [crypto.key_id_of(v) for v in values].count("t2") == 1
    name = KeyRotation.objects.get(column="members.Member.name_encrypted")
    assert (name.rows_failed, name.failed_pk, name.failed_error) == (1, members[2].pk, "InvalidTag")
    assert name.finished_at is not None
    # and the log says which row of which column, never the value
    line = next(r.getMessage() for r in caplog.records if "does not decrypt" in r.getMessage())
    assert f"members.Member.name_encrypted row {members[2].pk}" in line and "InvalidTag" in line
    assert "会员" not in caplog.text and members[0].name_encrypted not in caplog.text
    # and status shows it
    call_command("pii_keys", "status")
    out = capsys.readouterr().out
    name_line = next(line for line in out.splitlines() if line.startswith("members.Member.name_encrypted:"))
    assert f"1 values do not decrypt (last: row {members[2].pk}, InvalidTag)" in name_line
    # and rotate tries it again, and exits non-zero while it still fails
    with pytest.raises(CommandError, match="1 stored values do not decrypt"):
        call_command("pii_keys", "rotate")


def test_the_worker_refuses_to_start_with_a_ring_missing_a_key_in_use(settings, sealed_world):
    settings.PII_KEYS = NEW  # t2 still seals every value
    with pytest.raises(CommandError, match=r"yunying\.E005.*\bt2: .*Refusing to start"):
        call_command("worker", "--once")
    assert not Alert.objects.filter(code="pii.ciphertext_invalid").exists()


def test_serve_refuses_to_start_with_a_ring_missing_a_key_in_use(
    settings, sealed_world, monkeypatch, tmp_path
):
    # given: (serve empties and exports its metrics directory: a temporary one, restored after)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings.PII_KEYS = NEW
    # when / then: it stops before serving, naming the missing key
    with pytest.raises(CommandError, match=r"yunying\.E005.*\bt2: .*Refusing to start"):
        call_command("serve", "--port", "0")


def test_a_share_says_100_only_when_it_is_all():
    assert percent_of(626, 626) == 100
    assert percent_of(625, 626) == 99
    assert percent_of(1, 1000) == 0
    assert percent_of(0, 0) == 100
    progress = KeyRotation(rows_done=626, rows_total=626, finished_at=None)
    assert progress.percent == 100
    progress.rows_done = 625
    assert progress.percent == 99
    assert ColumnKeys("c", {"k3": 625, "k2": 1}, None).percent_under("k3") == 99
    assert ColumnKeys("c", {"k3": 626}, None).percent_under("k3") == 100


def test_status_with_a_ring_missing_a_key_the_data_uses_fails_loudly(settings, sealed_world, capsys):
    # given: t2 seals the data, and the ring lost it
    settings.PII_KEYS = NEW
    # when / then
    with pytest.raises(CommandError, match="lacks t2"):
        call_command("pii_keys", "status")
    captured = capsys.readouterr()
    assert "ERROR: key t2 seals" in captured.err and "cannot be read" in captured.err
    assert "100%" not in captured.out and "0% (0/5) under k9" in captured.out


def test_rotate_with_a_ring_missing_a_key_the_data_uses_refuses_before_touching_anything(
    settings, sealed_world
):
    settings.PII_KEYS = NEW
    with pytest.raises(CommandError, match="lacks t2"):
        call_command("pii_keys", "rotate")
    assert not KeyRotation.objects.exists()
    assert not Alert.objects.filter(code="pii.ciphertext_invalid").exists()
