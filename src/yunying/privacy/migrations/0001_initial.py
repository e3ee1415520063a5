# The privacy app's first migration holds no table: each piece (requests, approvals, incidents) adds
# its own, so they can land independently.
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = []
