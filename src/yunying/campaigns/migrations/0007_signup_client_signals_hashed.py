"""A sign-up's client IP and device id are stored as keyed hashes, never in clear (PIPL): existing
values are hashed in place, then the clear columns are dropped."""

from django.db import migrations, models


def hash_existing(apps, schema_editor):
    from yunying.core import crypto

    Signup = apps.get_model("campaigns", "Signup")
    batch = []
    rows = Signup.objects.exclude(client_ip__isnull=True, device_id="").only("pk", "client_ip", "device_id")
    for signup in rows.iterator(chunk_size=2000):
        ip, device = signup.client_ip, signup.device_id
        signup.client_ip_hash = crypto.blind_index(ip, context="signup.client_ip") if ip else ""
        signup.device_id_hash = crypto.blind_index(device, context="signup.device_id") if device else ""
        batch.append(signup)
        if len(batch) >= 2000:
            Signup.objects.bulk_update(batch, ["client_ip_hash", "device_id_hash"])
            batch = []
    Signup.objects.bulk_update(batch, ["client_ip_hash", "device_id_hash"])


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0006_lottery_seed_commitment")]

    operations = [
        migrations.AddField(
            model_name="signup", name="client_ip_hash", field=models.CharField(blank=True, max_length=40)
        ),
        migrations.AddField(
            model_name="signup", name="device_id_hash", field=models.CharField(blank=True, max_length=40)
        ),
        migrations.RunPython(hash_existing, migrations.RunPython.noop),
        migrations.RemoveField(model_name="signup", name="client_ip"),
        migrations.RemoveField(model_name="signup", name="device_id"),
    ]
