from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    SKIPPED = (
        "skipped",
        _("Not sent (no consent)"),
    )  # the member's consent to its purpose missing at send time (N3)


class OutboxMessage(models.Model):
    """A message to a member, written in the same transaction as the change it reports (N4).

    The worker claims due rows, delivers them through the channel and records the outcome; a failure
    is retried with backoff until NOTIFY_MAX_ATTEMPTS, then stays FAILED with its last error —
    nothing is dropped silently. The recipient address is resolved at delivery time, so no copy of
    a phone or e-mail sits here in clear."""

    member_id = models.BigIntegerField(db_index=True)
    channel = models.CharField(max_length=20)
    template = models.CharField(max_length=50)
    context = models.JSONField(default=dict)
    ref = models.CharField(max_length=100, db_index=True)  # e.g. "signup:42": what it is about
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.template} via {self.channel} to member {self.member_id} ({self.status})"
