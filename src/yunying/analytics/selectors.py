"""Reads of segments for other apps and the pages (never writes)."""

from __future__ import annotations

from django.db.models import QuerySet

from yunying.analytics.models import Segment, SegmentMember


def member_segments(member_id: int) -> QuerySet[Segment]:
    """The segments a member is in at their last recompute, by name."""
    return Segment.objects.filter(memberships__member_id=member_id).order_by("name")


def segment_has_member(segment_id: int, member_id: int) -> bool:
    return SegmentMember.objects.filter(segment_id=segment_id, member_id=member_id).exists()
