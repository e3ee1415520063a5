"""The runbook's deadlines count from the discovery, no longer from the opening: existing steps are
re-timed (a step done after its new deadline then shows, and is reported, as late)."""

from datetime import timedelta

from django.db import migrations

# privacy.breach.DEADLINES when this migration was written (a migration does not import live code).
DEADLINES = {
    "investigate": timedelta(hours=1),
    "notify": timedelta(hours=24),
    "compensate": timedelta(hours=72),
    "report": timedelta(hours=72),
}


def retime(apps, schema_editor):
    BreachStep = apps.get_model("privacy", "BreachStep")
    for step in BreachStep.objects.select_related("incident").iterator(chunk_size=500):
        due = step.incident.discovered_at + DEADLINES.get(step.kind, step.due_at - step.incident.opened_at)
        if due != step.due_at:
            BreachStep.objects.filter(pk=step.pk).update(due_at=due)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0005_request_recorder")]

    operations = [migrations.RunPython(retime, migrations.RunPython.noop)]
