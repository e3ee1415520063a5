"""Signup.public_id: a random handle for integrators. Existing rows get one each (a callable default
on AddField would give every existing row the same value), then the column turns unique."""

import secrets

from django.db import migrations, models

import yunying.campaigns.models


def fill(apps, schema_editor):
    Signup = apps.get_model("campaigns", "Signup")
    batch = []
    for signup in Signup.objects.filter(public_id__isnull=True).only("pk").iterator(chunk_size=2000):
        signup.public_id = "su_" + secrets.token_urlsafe(16)
        batch.append(signup)
        if len(batch) >= 2000:
            Signup.objects.bulk_update(batch, ["public_id"])
            batch = []
    Signup.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_signup_status_note")]

    operations = [
        migrations.AddField(
            model_name="signup", name="public_id", field=models.CharField(max_length=32, null=True, editable=False)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="signup",
            name="public_id",
            field=models.CharField(
                default=yunying.campaigns.models.signup_public_id, editable=False, max_length=32, unique=True
            ),
        ),
    ]
