"""Hash-chain the audit trail and the personal-data access log (core.chain): existing rows are
chained in id order; the access log becomes append-only in the database, as the audit trail is.
The audit triggers are dropped around the chaining UPDATE and re-created (also after SQLite's
table remake, which loses them)."""

import django.utils.timezone
from django.db import migrations, models

from yunying.core.audit import ACCESS_TABLE, AUDIT_TABLE, append_only_sql
from yunying.core.chain import ACCESS_CHAIN, AUDIT_CHAIN, row_hash


def _chain_existing(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in (AUDIT_TABLE, ACCESS_TABLE):
        for statement in append_only_sql(vendor, drop=True, table=table):
            schema_editor.execute(statement)
    for chain, model in (
        (AUDIT_CHAIN, apps.get_model("core", "AuditEntry")),
        (ACCESS_CHAIN, apps.get_model("core", "PersonalDataAccess")),
    ):
        prev, last = "", 0
        while True:
            batch = list(model.objects.filter(id__gt=last).order_by("id")[:1000])
            if not batch:
                break
            for row in batch:
                values = {field: getattr(row, field) for field in chain.fields}
                row.prev_hash = prev
                row.row_hash = prev = row_hash(chain, prev, values)
            model.objects.bulk_update(batch, ["prev_hash", "row_hash"])
            last = batch[-1].id
    for table in (AUDIT_TABLE, ACCESS_TABLE):
        for statement in append_only_sql(vendor, table=table):
            schema_editor.execute(statement)


def _unchain(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in append_only_sql(vendor, drop=True, table=ACCESS_TABLE):
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0006_access_role_and_request_id'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditentry',
            name='prev_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='row_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='personaldataaccess',
            name='prev_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='personaldataaccess',
            name='row_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AlterField(
            model_name='personaldataaccess',
            name='at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.RunPython(_chain_existing, _unchain),
    ]
