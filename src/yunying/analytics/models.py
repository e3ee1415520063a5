"""Segments: named rules over members and their order facts (A4, M5, M6), recomputed on a schedule
and on demand. SegmentMember is who is in a segment now; analytics.services alone writes these
tables. (The segment rules, RFM scores, membership history and lifecycle snapshots are defined by
the analytics services that compute them.)"""

from django.db import models

from yunying.members.models import Member


class Segment(models.Model):
    name = models.CharField(max_length=60, unique=True)
    description = models.CharField(max_length=200, blank=True)
    rules = models.JSONField(default=dict)  # validated by analytics.rules
    member_count = models.PositiveIntegerField(default=0)  # at the last recompute
    computed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=80, blank=True)
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
