"""The privacy app's tables: data-subject requests, export approvals, breach incidents."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class KeyRotation(models.Model):
    """Progress of re-encrypting one sealed column (core.registry.SealedColumn) under the active PII
    key (S1). `cursor` is the last primary key done: a crash or a restart continues after it. A new
    active key (`key_id`) starts the column over."""

    column = models.CharField(max_length=120, unique=True)  # SealedColumn.label
    key_id = models.CharField(max_length=64)  # the active key this pass re-encrypts to
    cursor = models.BigIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_resealed = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.column} → {self.key_id}"

    @property
    def percent(self) -> int:
        if self.finished_at is not None or not self.rows_total:
            return 100 if self.finished_at is not None else 0
        return min(99, self.rows_done * 100 // self.rows_total)


class ExportApproval(models.Model):
    """Two-person rule for personal data in clear in bulk (S2): an operator asks to export (or list)
    one campaign's sign-ups in clear, with a purpose; a second operator holding pii.export_approve
    approves or rejects; the approval opens one download by the requester within its window.

    The scope is what may be downloaded: the campaign, the format ("csv", "xlsx", or "list" for the
    API's paginated list in clear) and the filters ("" for none)."""

    REQUESTED, APPROVED, REJECTED, USED, EXPIRED = "requested", "approved", "rejected", "used", "expired"
    STATES = [
        (REQUESTED, _("Waiting for approval")), (APPROVED, _("Approved: ready to download")),
        (REJECTED, _("Rejected")), (USED, _("Downloaded")), (EXPIRED, _("Expired")),
    ]  # fmt: skip
    FORMATS = ("csv", "xlsx", "list")

    requester_kind = models.CharField(max_length=20)
    requester_id = models.BigIntegerField(null=True)
    requester_label = models.CharField(max_length=150)
    requester_person = models.CharField(max_length=160)  # who stands behind the actor (privacy.exports)
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=8)
    status_filter = models.CharField(max_length=20, blank=True)
    channel_filter = models.CharField(max_length=20, blank=True)
    purpose = models.CharField(max_length=40)
    purpose_note = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=STATES, default=REQUESTED)
    approver_kind = models.CharField(max_length=20, blank=True)
    approver_id = models.BigIntegerField(null=True)
    approver_label = models.CharField(max_length=150, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)
    used_at = models.DateTimeField(null=True)
    rows = models.PositiveIntegerField(null=True)  # members in the download

    class Meta:
        indexes = [models.Index(fields=["state", "requested_at"])]

    def __str__(self) -> str:
        return f"export approval #{self.pk} ({self.state})"
