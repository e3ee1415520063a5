from django.db import models


class ApiKey(models.Model):
    """A credential for the API. Only a SHA-256 of the secret is stored: keys are 256-bit random,
    so a slow password hash would add latency to every request and no safety."""

    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.prefix})"


class IdempotencyRecord(models.Model):
    """The first answer to a creating POST, replayed when the client retries with the same key.

    Written in the same transaction as the work it answers, so a stored answer always describes
    committed work and uncommitted work leaves no record (the retry then runs again)."""

    owner = models.CharField(max_length=64)  # "api_key:<id>"
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]


class PersonalDataAccess(models.Model):
    """Append-only: someone read a member's personal data in clear (S3 transparency, S5 audit)."""

    member_id = models.BigIntegerField(db_index=True)
    actor_kind = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=150)
    fields = models.JSONField()
    purpose = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True, db_index=True)


class Alert(models.Model):
    """Append-only: something that looks like an attack or a breach of policy happened (core.alerts).
    The console lists them; nothing updates or deletes one."""

    code = models.CharField(max_length=64)  # "signup.refusal_burst", "pii.bulk_reveal", …
    data = models.JSONField(default=dict)  # who and what, never personal data in clear
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["code", "at"])]
