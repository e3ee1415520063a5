from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class ApiKey(models.Model):
    """A credential for the API. Only a SHA-256 of the secret is stored: keys are 256-bit random,
    so a slow password hash would add latency to every request and no safety."""

    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20)
    # The operator (console user name) who holds the key: two keys of one person are one person for
    # the two-person rule of bulk exports (privacy.exports). Empty: unknown, so it approves nothing.
    owner = models.CharField(max_length=150, blank=True)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.prefix})"


class IdempotencyRecord(models.Model):
    """A reserved `Idempotency-Key` and, once the work committed, its first answer (core.idempotency).

    Reserved (`running`) in a transaction of its own before the work starts; the answer is stored in
    the work's own transaction, so a `done` record always describes committed work."""

    RUNNING, DONE = "running", "done"

    owner = models.CharField(max_length=64)  # "api_key:<id>"
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=8, default=DONE)
    lease_token = models.CharField(max_length=32, blank=True)
    locked_until = models.DateTimeField(null=True)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]


class PersonalDataAccess(models.Model):
    """Append-only: someone read a member's personal data in clear (S3 transparency, S5 audit)."""

    member_id = models.BigIntegerField(db_index=True)
    actor_kind = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=20, blank=True)  # what the member sees: "customer service"
    fields = models.JSONField()
    purpose = models.CharField(max_length=200)
    # Set before the insert (not auto_now_add): the row's chain hash covers it (core.chain).
    at = models.DateTimeField(default=timezone.now, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)  # core.requestid: the request's log line
    # Hash chain (core.chain): the predecessor's row_hash, and this row's keyed hash over it.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    row_hash = models.CharField(max_length=64, blank=True, default="")


class AuditEntry(models.Model):
    """Append-only: an operator changed something, or read personal data (S5).

    Written in the same transaction as the change (core.audit.audit_record refuses to run outside
    one), so a rolled-back action leaves no row and a committed one always has its row. The database
    refuses UPDATE and DELETE of these rows (triggers, migration 0002). `before` / `after` hold only
    the fields that changed, personal fields masked: no clear personal data is ever stored here."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_kind = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=30)
    object_id = models.CharField(max_length=40, blank=True)
    before = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    reason = models.CharField(max_length=500, blank=True)
    request_id = models.CharField(max_length=64, blank=True)  # core.requestid: the request's log line
    # Hash chain (core.chain): the predecessor's row_hash, and this row's keyed hash over it.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    row_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"]),
            models.Index(fields=["actor_kind", "actor_id", "id"]),
            models.Index(fields=["action", "id"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"
        )


class Alert(models.Model):
    """Append-only: something that looks like an attack or a breach of policy happened (core.alerts).
    The console lists them; nothing updates or deletes one."""

    code = models.CharField(max_length=64)  # "signup.refusal_burst", "pii.bulk_reveal", …
    data = models.JSONField(default=dict)  # who and what, never personal data in clear
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["code", "at"])]
