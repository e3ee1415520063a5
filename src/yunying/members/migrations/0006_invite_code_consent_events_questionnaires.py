"""Issue 10, members: every member's invite code (M4); consent per purpose as append-only events, the
notice acceptances recorded so far carried forward as events (M3, N3); questionnaires and profile
answers (M2)."""

import django.db.models.deletion
import yunying.members.models
from django.db import migrations, models

from yunying.core.audit import CONSENT_EVENT_TABLE, append_only_sql


def _fill_invite_codes(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    taken = set()
    for member in Member.objects.filter(invite_code__isnull=True).only("pk").iterator():
        code = yunying.members.models.invite_code_new()
        while code in taken:
            code = yunying.members.models.invite_code_new()
        taken.add(code)
        Member.objects.filter(pk=member.pk).update(invite_code=code)


def _consent_forward(apps, schema_editor):
    """Each earlier acceptance of the notice (ConsentRecord, kept as it is) becomes events: service
    granted, marketing and sensitive data as ticked then; an event only where the state or the notice
    version changed, so the history reads as what the member did. Analytics was never asked: no event,
    so not granted."""
    ConsentRecord = apps.get_model("members", "ConsentRecord")
    ConsentEvent = apps.get_model("members", "ConsentEvent")
    last: dict[tuple[int, str], tuple[bool, str]] = {}
    events = []
    for record in ConsentRecord.objects.order_by("id").iterator():
        choices = {"service": True, "marketing": record.marketing, "sensitive": record.sensitive}
        for purpose, granted in choices.items():
            state = (granted, record.policy_version)
            if last.get((record.member_id, purpose)) == state:
                continue
            if (record.member_id, purpose) not in last and not granted:
                continue  # never granted: nothing to withdraw
            last[(record.member_id, purpose)] = state
            events.append(
                ConsentEvent(
                    member_id=record.member_id, purpose=purpose, granted=granted,
                    policy_version=record.policy_version, channel="h5", ip_hash=record.ip_hash,
                    at=record.accepted_at,
                )
            )  # fmt: skip
    ConsentEvent.objects.bulk_create(events, batch_size=1000)


def _triggers(apps, schema_editor):
    for statement in append_only_sql(schema_editor.connection.vendor, table=CONSENT_EVENT_TABLE):
        schema_editor.execute(statement)


def _drop_triggers(apps, schema_editor):
    for statement in append_only_sql(schema_editor.connection.vendor, drop=True, table=CONSENT_EVENT_TABLE):
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0005_tag_member_invited_by_member_utm_campaign_and_more'),
    ]

    operations = [
        migrations.CreateModel(
            name='Questionnaire',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80)),
                ('moment', models.CharField(choices=[('after_signup', 'After sign-up'), ('after_first_order', 'After the first order'), ('member_centre', 'In the member centre')], max_length=20)),
                ('active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        # Nullable first, each existing member a code of their own, then unique and required.
        migrations.AddField(
            model_name='member',
            name='invite_code',
            field=models.CharField(editable=False, max_length=12, null=True),
        ),
        migrations.RunPython(_fill_invite_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='member',
            name='invite_code',
            field=models.CharField(default=yunying.members.models.invite_code_new, editable=False, max_length=12, unique=True),
        ),
        migrations.CreateModel(
            name='Question',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('kind', models.CharField(choices=[('text', 'Text'), ('choice', 'Choice'), ('date', 'Date'), ('region', 'Region')], max_length=10)),
                ('prompt', models.CharField(max_length=200)),
                ('choices', models.JSONField(blank=True, default=list)),
                ('target', models.CharField(max_length=50)),
                ('purpose', models.CharField(choices=[('service', 'Service (required)'), ('marketing', 'Marketing messages and offers'), ('analytics', 'Analytics to improve our service'), ('sensitive', 'Sensitive personal information')], max_length=20)),
                ('why', models.CharField(max_length=200)),
                ('questionnaire', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='questions', to='members.questionnaire')),
            ],
            options={
                'ordering': ['position', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ConsentEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('service', 'Service (required)'), ('marketing', 'Marketing messages and offers'), ('analytics', 'Analytics to improve our service'), ('sensitive', 'Sensitive personal information')], max_length=20)),
                ('granted', models.BooleanField()),
                ('policy_version', models.CharField(max_length=20)),
                ('channel', models.CharField(max_length=20)),
                ('ip_hash', models.CharField(blank=True, max_length=40)),
                ('at', models.DateTimeField()),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consent_events', to='members.member')),
            ],
            options={
                'indexes': [models.Index(fields=['member', 'purpose', '-id'], name='members_con_member__750be9_idx'), models.Index(fields=['purpose', 'member', '-id'], name='members_con_purpose_363f95_idx')],
            },
        ),
        migrations.CreateModel(
            name='ProfileAnswer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('target', models.CharField(max_length=50)),
                ('value_encrypted', models.TextField(blank=True)),
                ('declined', models.BooleanField(default=False)),
                ('answered_at', models.DateTimeField()),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='profile_answers', to='members.member')),
                ('question', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='answers', to='members.question')),
            ],
            options={
                'indexes': [models.Index(fields=['member', 'target'], name='members_pro_member__8b22f3_idx')],
                'constraints': [models.UniqueConstraint(fields=('member', 'question'), name='profile_answer_once')],
            },
        ),
        migrations.AddConstraint(
            model_name='question',
            constraint=models.CheckConstraint(condition=models.Q(('purpose', ''), _negated=True), name='question_has_purpose'),
        ),
        migrations.RunPython(_consent_forward, migrations.RunPython.noop),
        migrations.RunPython(_triggers, _drop_triggers),
    ]
