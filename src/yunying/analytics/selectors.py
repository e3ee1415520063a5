"""Reads of segments for other apps and the pages (never writes)."""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum

from yunying.analytics.models import (
    Lifecycle,
    LifecycleSnapshot,
    MemberRfm,
    Segment,
    SegmentMember,
    SegmentMembershipEvent,
)
from yunying.members.services import member_contact


def member_segments(member_id: int) -> QuerySet[Segment]:
    """The segments a member is in at their last recompute, by name."""
    return Segment.objects.filter(memberships__member_id=member_id).order_by("name")


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.select_related("tag").order_by("name")


def member_segment_ids(member_id: int, segment_ids: set[int]) -> set[int]:
    """Which of `segment_ids` the member is in (eligibility reads only the segments a rule names)."""
    if not segment_ids:
        return set()
    return set(
        SegmentMember.objects.filter(member_id=member_id, segment_id__in=segment_ids).values_list(
            "segment_id", flat=True
        )
    )


def segment_member_sample(segment_id: int, *, limit: int = 20) -> list[SegmentMember]:
    return list(
        SegmentMember.objects.filter(segment_id=segment_id)
        .select_related("member", "member__rfm")
        .order_by("-since", "member_id")[:limit]
    )


def segment_movement(segment_id: int, *, limit: int = 30) -> list[dict]:
    """Entered and left per recompute, newest first."""
    rows = (
        SegmentMembershipEvent.objects.filter(segment_id=segment_id)
        .values("at", "change")
        .annotate(n=Count("id"))
        .order_by("-at")
    )
    by_at: dict = {}
    for row in rows:
        by_at.setdefault(row["at"], {"at": row["at"], "entered": 0, "left": 0})[row["change"]] = row["n"]
    return list(by_at.values())[:limit]


def rfm_grid() -> list[dict]:
    """Members and net paid fen per (R, F) score pair, among members with an order."""
    return list(
        MemberRfm.objects.filter(r_score__gt=0)
        .values("r_score", "f_score")
        .annotate(members=Count("member_id"), monetary_fen=Sum("monetary_fen"))
        .order_by("r_score", "f_score")
    )


def lifecycle_history(*, days: int = 90) -> dict:
    """{"days": [...], "series": {label: [count per day]}} for the last `days` snapshot days."""
    rows = list(LifecycleSnapshot.objects.order_by("-day").values("day", "lifecycle", "count")[: days * 6])
    day_list = sorted({r["day"] for r in rows})
    series = {label: [0] * len(day_list) for label in Lifecycle.values}
    index = {d: i for i, d in enumerate(day_list)}
    for r in rows:
        series[r["lifecycle"]][index[r["day"]]] = r["count"]
    return {"days": [d.isoformat() for d in day_list], "series": series}


def lifecycle_counts() -> dict[str, int]:
    rows = MemberRfm.objects.values("lifecycle").annotate(n=Count("member_id"))
    return {row["lifecycle"]: row["n"] for row in rows}


def segment_sample(segment_id: int, *, limit: int = 20) -> list[dict]:
    """The newest members of a segment, masked (members.services masks phone and name)."""
    rows = []
    for link in segment_member_sample(segment_id, limit=limit):
        who = link.member
        rfm = getattr(who, "rfm", None)
        rows.append(
            {
                "member_id": who.pk,
                **member_contact(who, reveal=False),
                "region_code": who.region_code,
                "lifecycle": rfm.get_lifecycle_display() if rfm else "",
                "rfm": f"{rfm.r_score}-{rfm.f_score}-{rfm.m_score}" if rfm else "",
                "since": link.since,
            }
        )
    return rows


def segment_names(segment_ids: set[int]) -> dict[int, str]:
    """Segment id → name, for the ids that exist (a deleted segment is missing)."""
    if not segment_ids:
        return {}
    return dict(Segment.objects.filter(pk__in=segment_ids).values_list("pk", "name"))
