"""Signup.checkin_code (the attendance QR code's content) and attended_at. Existing rows get a code
each (a callable default on AddField would give them all the same one), then the column turns unique."""

import secrets

from django.db import migrations, models

import yunying.campaigns.models

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def fill(apps, schema_editor):
    Signup = apps.get_model("campaigns", "Signup")
    batch = []
    for signup in Signup.objects.filter(checkin_code__isnull=True).only("pk").iterator(chunk_size=2000):
        signup.checkin_code = "".join(secrets.choice(ALPHABET) for _ in range(10))
        batch.append(signup)
        if len(batch) >= 2000:
            Signup.objects.bulk_update(batch, ["checkin_code"])
            batch = []
    Signup.objects.bulk_update(batch, ["checkin_code"])


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0007_signup_client_signals_hashed")]

    operations = [
        migrations.AddField(
            model_name="signup", name="checkin_code", field=models.CharField(max_length=12, null=True, editable=False)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="signup",
            name="checkin_code",
            field=models.CharField(
                default=yunying.campaigns.models.signup_checkin_code, editable=False, max_length=12, unique=True
            ),
        ),
        migrations.AddField(model_name="signup", name="attended_at", field=models.DateTimeField(blank=True, null=True)),
    ]
