"""Segments: named rules over members and their order facts (A4, M5, M6), recomputed on a schedule
and on demand. SegmentMember is who is in a segment now; analytics.services alone writes these
tables. (The segment rules, RFM scores, membership history and lifecycle snapshots are defined by
the analytics services that compute them.)"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.members.models import Member


class Segment(models.Model):
    name = models.CharField(max_length=60, unique=True)
    description = models.CharField(max_length=200, blank=True)
    rules = models.JSONField(default=dict)  # validated by analytics.rules
    member_count = models.PositiveIntegerField(default=0)  # at the last recompute
    computed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=80, blank=True)
    # A segment behind a rule-based tag: each recompute makes the tag's members this segment's.
    tag = models.OneToOneField(
        "members.Tag", on_delete=models.SET_NULL, null=True, blank=True, related_name="segment"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="segment_memberships")
    since = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "member"], name="segment_member_unique")]
        indexes = [models.Index(fields=["member", "segment"])]


class Lifecycle(models.TextChoices):
    """Lifecycle labels (M6), defined in docs/segments.md; thresholds in settings.LIFECYCLE_THRESHOLDS."""

    NEW = "new", _("New")
    ACTIVE = "active", _("Recently active")
    HIGH_FREQUENCY = "high_frequency", _("High-frequency")
    POTENTIAL = "potential", _("Potential")
    AT_RISK = "at_risk", _("At risk")
    DORMANT = "dormant", _("Dormant")


class MemberRfm(models.Model):
    """A member's RFM scores and lifecycle label at the last compute (analytics.rfm). Scores are
    quintiles 1-5 among members with an order; 0 for a member without one."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, primary_key=True, related_name="rfm")
    last_paid_at = models.DateTimeField(null=True, blank=True)
    recency_days = models.IntegerField(null=True, blank=True)
    frequency = models.IntegerField(default=0)  # orders not cancelled
    monetary_fen = models.BigIntegerField(default=0)  # net paid: total minus refunds, not cancelled
    r_score = models.SmallIntegerField(default=0)
    f_score = models.SmallIntegerField(default=0)
    m_score = models.SmallIntegerField(default=0)
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["lifecycle"]),
            models.Index(fields=["r_score", "f_score"]),
            models.Index(fields=["last_paid_at"]),
        ]


class LifecycleSnapshot(models.Model):
    """How many members carried each label on a day (the lifecycle distribution over time)."""

    day = models.DateField()
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices)
    count = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "lifecycle"], name="lifecycle_snapshot_unique")]


class MembershipChange(models.TextChoices):
    ENTERED = "entered", _("Entered")
    LEFT = "left", _("Left")


class SegmentMembershipEvent(models.Model):
    """Append-only: a member entering or leaving a segment at a recompute, so movement between
    segments can be reported."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="membership_events")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    change = models.CharField(max_length=8, choices=MembershipChange.choices)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["segment", "at"]), models.Index(fields=["member", "at"])]
