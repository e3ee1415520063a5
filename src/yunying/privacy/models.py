"""The privacy app's tables: data-subject requests, export approvals, breach incidents.

Breach response (S6, seed "数据泄露应急预案"): an incident, its runbook steps (each with a deadline
from opening) and the members it affects (rows, so the count a notice and a compensation go to is
stable). Only privacy.breach writes these tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
