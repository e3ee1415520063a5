"""Operators' manual points adjustments (audited). Above settings.LOYALTY_ADJUST_APPROVAL_THRESHOLD
points an adjustment is a request that a second operator with loyalty.approve decides (two-person
rule); at or below it, it posts at once. Only loyalty.adjustments writes this table."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.loyalty.models.points import PointPosting
from yunying.members.models import Member


class AdjustmentState(models.TextChoices):
    DONE = "done", _("Posted")
    REQUESTED = "requested", _("Waiting for approval")
    APPROVED = "approved", _("Approved and posted")
    REJECTED = "rejected", _("Rejected")


class PointAdjustment(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="point_adjustments")
    points = models.BigIntegerField()  # signed: + adds, − deducts
    reason = models.CharField(max_length=500)
    state = models.CharField(max_length=10, choices=AdjustmentState.choices)
    requested_by = models.CharField(max_length=150)
    requested_by_id = models.BigIntegerField(null=True)
    requested_at = models.DateTimeField()
    decided_by = models.CharField(max_length=150, blank=True)
    decided_by_id = models.BigIntegerField(null=True)
    decided_at = models.DateTimeField(null=True)
    decision_note = models.CharField(max_length=500, blank=True)
    posting = models.OneToOneField(
        PointPosting, on_delete=models.PROTECT, null=True, related_name="adjustment"
    )

    class Meta:
        indexes = [
            models.Index(fields=["state", "requested_at"]),
            models.Index(fields=["member", "-requested_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(points=0), name="point_adjustment_not_zero")
        ]
