"""Key rotation (S1): every sealed column declared in core.registry is re-encrypted under the new
active key, resumably, without losing a concurrent write; the old key can then leave the ring;
`yunying pii-keys status` and the deployment check tell which keys still seal what; a stored value
that does not open (moved to another row, a flipped byte) raises and alerts."""

from __future__ import annotations

import threading

import pytest
from cryptography.exceptions import InvalidTag
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection

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
    assert "members.Member.phone_encrypted: k9=1 t2=6; not started" in out
    assert "members.ProfileAnswer.value_encrypted: t2=1" in out
    assert "active key: k9; ring: k9, t2, t1" in out
    assert "key t1 seals nothing" in out and "key t2 seals nothing" not in out


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
