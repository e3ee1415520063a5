"""The operator roles as Django groups (console.access.role_of reads them): adding a user to one of
these groups makes them an operator with that role."""

from django.db import migrations

ROLES = ("strategy", "execution", "support", "auditor")


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
