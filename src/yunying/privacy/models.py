"""The privacy app's tables: data-subject requests, export approvals, breach incidents."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.members.models import Member


class RequestKind(models.TextChoices):
    EXPORT = "export", _("Copy of my data")  # PIPL art. 45
    ERASE = "erase", _("Delete my account and data")  # art. 47
    ACCESS = "access", _("What data is held and how it is used")  # art. 44
    CORRECT = "correct", _("Correct my data")  # art. 46


class RequestChannel(models.TextChoices):
    SELF_SERVICE = "self_service", _("Self-service (member pages)")
    PHONE = "phone", _("By phone")
    EMAIL = "email", _("By e-mail")
    OTHER = "other", _("Other (letter, in person)")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Waiting")
    DONE = "done", _("Carried out")
    REJECTED = "rejected", _("Rejected")


class DataSubjectRequest(models.Model):
    """A member asked to exercise a right over their data (PIPL arts. 44-47). Self-service exports
    and erasures that can run at once are recorded done on arrival; the rest wait in the operators'
    queue (console 隐私请求) with the deadline, PRIVACY_REQUEST_WORKING_DAYS working days after
    receipt. Only privacy.services writes these rows."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    channel = models.CharField(max_length=15, choices=RequestChannel.choices)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # Why it waits (e.g. "loyalty.brokerage_unpaid"): codes, shown to operators in words.
    waiting_on = models.JSONField(default=list, blank=True)
    details = models.CharField(max_length=1000, blank=True)  # what the member asked, as recorded
    created_by = models.CharField(max_length=150)  # "member" or the operator's label
    handled_by = models.CharField(max_length=150, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    notes = models.CharField(max_length=1000, blank=True)  # the outcome, or the reason for a rejection
    result = models.JSONField(default=dict, blank=True)  # counts of what an erasure changed

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_at"], name="privacy_dsr_queue"),
            models.Index(fields=["member", "-id"], name="privacy_dsr_member"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", handled_at__isnull=True)
                | (~models.Q(status="open") & models.Q(handled_at__isnull=False)),
                name="privacy_dsr_handled_when_closed",
            ),
            # One open erasure per member: a second ask while one waits is the same request.
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(kind="erase", status="open"),
                name="privacy_dsr_one_open_erase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} request #{self.pk} ({self.status})"


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
