"""Security alerts are append-only in the database too, as the audit trail is (core.audit)."""

from django.db import migrations

from yunying.core.audit import ALERT_TABLE, append_only_sql


def _triggers(apps, schema_editor):
    for statement in append_only_sql(schema_editor.connection.vendor, table=ALERT_TABLE):
        schema_editor.execute(statement)


def _drop_triggers(apps, schema_editor):
    for statement in append_only_sql(schema_editor.connection.vendor, drop=True, table=ALERT_TABLE):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_merge_alert")]

    operations = [migrations.RunPython(_triggers, _drop_triggers)]
