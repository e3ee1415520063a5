"""Row binding and per-field blind-index keys (S1):

- every member gets `row_token`, a random per-row value its encrypted fields are bound to (existing
  rows each get their own; a callable default on AddField would give them all the same one);
- the name and e-mail blind indexes go: nothing looked members up by them;
- the phone index is recomputed under the per-field key (HKDF of the blind-index key) and existing
  values are re-encrypted bound to their row (members_reseal, the same code as `yunying reindex-pii`).
"""

import secrets

from django.db import migrations, models

import yunying.members.models


def fill_row_tokens(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    batch = []
    for member in Member.objects.filter(row_token__isnull=True).only("pk").iterator(chunk_size=2000):
        member.row_token = secrets.token_urlsafe(16)
        batch.append(member)
        if len(batch) >= 2000:
            Member.objects.bulk_update(batch, ["row_token"])
            batch = []
    Member.objects.bulk_update(batch, ["row_token"])


def reseal(apps, schema_editor):
    from yunying.members.services import members_reseal

    members_reseal(model=apps.get_model("members", "Member"))


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [
        migrations.RemoveField(model_name="member", name="email_index"),
        migrations.RemoveField(model_name="member", name="name_index"),
        migrations.AddField(
            model_name="member", name="row_token", field=models.CharField(max_length=32, null=True, editable=False)
        ),
        migrations.RunPython(fill_row_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="member",
            name="row_token",
            field=models.CharField(default=yunying.members.models.row_token_new, editable=False, max_length=32),
        ),
        migrations.RunPython(reseal, migrations.RunPython.noop),
    ]
