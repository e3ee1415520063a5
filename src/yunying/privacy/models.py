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
