"""The privacy app's tables: data-subject requests, export approvals, breach incidents.

Breach response (S6, seed "数据泄露应急预案"): an incident, its runbook steps (each with a deadline
from opening) and the members it affects (rows, so the count a notice and a compensation go to is
stable). Only privacy.breach writes these tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.members.models import Member


def percent_of(part: int, whole: int) -> int:
    """A share in whole percent, rounded down, that says 100 only when it is all of it (626 of 626 is
    100, 625 of 626 is 99) and 100 for nothing out of nothing (nothing to do)."""
    if part >= whole:
        return 100
    return min(99, part * 100 // whole)


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
    # who recorded it, as the two-person rule tells people apart (privacy.exports.person_of): an
    # erasure an operator recorded is carried out by someone else
    created_by_person = models.CharField(max_length=160, blank=True)
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
    # Values this pass could not decrypt (left as they are, under their old key) and the last of them:
    # its primary key and the error's type, never the value. `pii-keys status` shows them.
    rows_failed = models.PositiveIntegerField(default=0)
    failed_pk = models.BigIntegerField(null=True, blank=True)
    failed_error = models.CharField(max_length=60, blank=True)

    def __str__(self) -> str:
        return f"{self.column} → {self.key_id}"

    @property
    def percent(self) -> int:
        """This pass's share of the rows it set out to re-encrypt (626 of 626 is 100, 625 of 626 is
        99). Not the column's share under the active key: values written under an old key after the
        pass went by are not in it (privacy.keys.ColumnKeys.percent_under counts those)."""
        if self.finished_at is not None:
            return 100
        return percent_of(self.rows_done, self.rows_total) if self.rows_total else 0


class KeyTarget(models.Model):
    """A PII key some process rotated the sealed columns to, in the order each was first taken up
    (the primary key): the ring cannot tell which of two keys is newer (deploy.md's first step appends
    the new key behind the active one), this history can. A process whose active key was a target
    before the newest one, or that the newest one's ring already held, runs with an old ring and
    leaves the rotation alone (privacy.keys). Key ids only, never key material."""

    key_id = models.CharField(max_length=64, unique=True)
    ring = models.CharField(max_length=500, blank=True)  # the ring's key ids, active first, comma-separated
    taken_up_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key_id

    @property
    def ring_ids(self) -> list[str]:
        return [key_id for key_id in self.ring.split(",") if key_id]


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


class DataKind(models.TextChoices):
    """What kind of personal data an incident exposed (as the member notice and the report name it)."""

    PHONE = "phone", _("Phone number")
    NAME = "name", _("Full name")
    ADDRESS = "address", _("Address")
    IDENTITY = "identity", _("Identity number")
    EMAIL = "email", _("E-mail address")
    BIRTH_DATE = "birth_date", _("Birth date")
    ORDERS = "orders", _("Order history")
    OTHER = "other", _("Other personal data")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Incident open")
    CLOSED = "closed", _("Incident closed")


class StepKind(models.TextChoices):
    INVESTIGATE = "investigate", _("Investigate")
    NOTIFY = "notify", _("Publish progress and notify members")
    COMPENSATE = "compensate", _("Compensate affected members")
    REPORT = "report", _("Report to the regulator")


class CompensationKind(models.TextChoices):
    NONE = "", _("Not chosen yet")
    COUPON = "coupon", _("A coupon")
    EXTENSION = "extension", _("A membership extension")


class BreachIncident(models.Model):
    """A personal-data breach (or a drill of one) and what was done about it.

    A drill (`is_drill`) runs the whole runbook, but its notices are queued to the outbox marked as a
    drill and never delivered, and its compensation issues nothing (privacy.breach)."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    discovered_at = models.DateTimeField()
    opened_at = models.DateTimeField()
    opened_by_id = models.BigIntegerField(null=True)
    opened_by_label = models.CharField(max_length=150)
    data_kinds = models.JSONField(default=list)  # DataKind values
    scope = models.TextField(blank=True)  # what was exposed, where, how far
    cause = models.TextField(blank=True)  # filled in while investigating
    measures = models.TextField(blank=True)  # what the team did to stop it
    contact = models.CharField(max_length=200, blank=True)  # who members and the regulator may ask
    status = models.CharField(max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    is_drill = models.BooleanField(default=False)
    # The member notice: drafted from the incident, edited by the operator, frozen once sent (every
    # member gets the same text, and the report quotes it).
    notice_happened = models.TextField(blank=True)
    notice_data = models.TextField(blank=True)
    notice_measures = models.TextField(blank=True)
    notice_advice = models.TextField(blank=True)
    notice_contact = models.TextField(blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    notice_count = models.PositiveIntegerField(default=0)
    # Compensation: a coupon of a promotion, or `compensation_days` more days at the member's level.
    compensation_kind = models.CharField(
        max_length=10, choices=CompensationKind.choices, default=CompensationKind.NONE, blank=True
    )
    compensation_promotion_id = models.BigIntegerField(null=True, blank=True)
    compensation_days = models.PositiveIntegerField(null=True, blank=True)
    report_text = models.TextField(blank=True)  # the operator's edit of the regulator report; "" = draft
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "-opened_at"])]

    def __str__(self) -> str:
        return self.title


class BreachStep(models.Model):
    """One step of the runbook, due a fixed time after the incident was opened."""

    incident = models.ForeignKey(BreachIncident, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(max_length=12, choices=StepKind.choices)
    position = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    assignee_id = models.BigIntegerField(null=True, blank=True)
    assignee_label = models.CharField(max_length=150, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by_label = models.CharField(max_length=150, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["incident", "kind"], name="breach_step_once")]

    @property
    def late(self) -> bool:
        """Done after its deadline (a step not done yet: see overdue)."""
        return self.done_at is not None and self.done_at > self.due_at


class BreachAffected(models.Model):
    """A member an incident affects; notice and compensation are recorded per row, so a re-run
    sends and issues only what is missing."""

    incident = models.ForeignKey(BreachIncident, on_delete=models.PROTECT, related_name="affected")
    member_id = models.BigIntegerField()
    source = models.CharField(max_length=10)  # access | campaign | list
    added_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    compensated_at = models.DateTimeField(null=True, blank=True)
    compensation = models.CharField(
        max_length=60, blank=True
    )  # coupon:<id> | extended:<days> | drill | <code>

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "member_id"], name="breach_affected_once")]
        indexes = [models.Index(fields=["incident", "compensated_at", "id"])]
