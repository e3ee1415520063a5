"""Consent records are append-only in the database, as the audit trail is (core.audit): what a member
agreed to, and when, is evidence; a change of mind is a new row."""

from django.db import migrations

from yunying.core.audit import CONSENT_TABLE, append_only_sql


def _triggers(apps, schema_editor):
    for statement in append_only_sql(schema_editor.connection.vendor, table=CONSENT_TABLE):
        schema_editor.execute(statement)


def _drop_triggers(apps, schema_editor):
    for statement in append_only_sql(schema_editor.connection.vendor, drop=True, table=CONSENT_TABLE):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("members", "0003_signin_code_and_consent")]

    operations = [migrations.RunPython(_triggers, _drop_triggers)]
