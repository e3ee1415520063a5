"""`yunying backup`: an online SQLite copy that passes integrity_check; PostgreSQL points to pg_dump."""

from __future__ import annotations

import sqlite3
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.campaigns.factories import CampaignFactory
from yunying.core.management.commands.backup import pg_dump_command

on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="`yunying backup` copies SQLite only (PostgreSQL: pg_dump)"
)
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the pg_dump refusal needs a PostgreSQL DATABASE_URL"
)


def _rows(path, sql, *params):
    copy = sqlite3.connect(path)
    try:
        return copy.execute(sql, params).fetchall()
    finally:
        copy.close()


@on_sqlite
@pytest.mark.django_db(transaction=True)  # the data must be committed for another connection to see it
def test_backup_copies_committed_data_and_checks_integrity(tmp_path):
    # given
    campaign = CampaignFactory(title="备份测试活动", status="published")
    target = tmp_path / "copy.sqlite3"
    out = StringIO()

    # when
    call_command("backup", str(target), stdout=out)

    # then
    assert _rows(target, "SELECT title, status FROM campaigns_campaign WHERE id = ?", campaign.pk) == [
        ("备份测试活动", "published")
    ]
    assert _rows(target, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(target, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
    assert not (tmp_path / "copy.sqlite3.partial").exists()
    size = target.stat().st_size
    assert f"{target} {size} bytes" in out.getvalue()
    assert "integrity_check ok" in out.getvalue()


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_backup_runs_while_another_connection_holds_a_write_transaction(tmp_path):
    # given: a writer in the middle of a transaction, as a serving app process would be
    campaign = CampaignFactory(title="已提交")
    writer = sqlite3.connect(connection.settings_dict["NAME"], timeout=10, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE campaigns_campaign SET title = '未提交' WHERE id = ?", (campaign.pk,))
    target = tmp_path / "online.sqlite3"

    # when
    try:
        call_command("backup", str(target), stdout=StringIO())
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    # then: the copy holds the committed state only
    assert _rows(target, "SELECT title FROM campaigns_campaign WHERE id = ?", campaign.pk) == [("已提交",)]


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_backup_defaults_to_a_timestamped_file_under_var_backups(tmp_path, settings):
    # given
    settings.VAR_DIR = tmp_path

    # when
    call_command("backup", stdout=StringIO())

    # then
    [made] = (tmp_path / "backups").iterdir()
    assert made.name.startswith("yunying-") and made.name.endswith(".sqlite3")
    assert len(made.name) == len("yunying-20260101-120000.sqlite3")


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_backup_never_overwrites_a_file(tmp_path):
    # given
    target = tmp_path / "exists.sqlite3"
    target.write_bytes(b"an older backup")

    # when / then
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", str(target), stdout=StringIO())
    assert target.read_bytes() == b"an older backup"


@on_postgres
@pytest.mark.django_db
def test_backup_on_postgres_refuses_and_prints_the_pg_dump_command(tmp_path):
    # when / then
    with pytest.raises(CommandError, match="pg_dump") as refused:
        call_command("backup", str(tmp_path / "yunying.dump"), stdout=StringIO())
    message = str(refused.value)
    assert "--format=custom" in message
    assert f"--dbname={connection.settings_dict['NAME']}" in message
    assert not (tmp_path / "yunying.dump").exists()


def test_pg_dump_command_leaves_the_password_out():
    # given
    settings_dict = {
        "NAME": "yunying",
        "USER": "app",
        "PASSWORD": "s3cret-password",
        "HOST": "db.internal",
        "PORT": 5432,
        "OPTIONS": {"sslmode": "require"},
    }

    # when
    command = pg_dump_command(settings_dict, "/srv/backups/yunying.dump")

    # then
    assert command == (
        "PGSSLMODE=require pg_dump --format=custom --file=/srv/backups/yunying.dump "
        "--host=db.internal --port=5432 --username=app --dbname=yunying"
    )
    assert "s3cret" not in command
