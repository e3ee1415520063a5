"""Reads of campaign data. Handlers call these, never the ORM, so query counts stay fixed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMinute
from django.utils import timezone

from yunying.campaigns.eligibility import MemberFacts, age_on
from yunying.campaigns.errors import CampaignError, SignupError
from yunying.campaigns.models import BLOCKING_STATUSES, Campaign, Signup, SignupEvent, SignupStatus
from yunying.core.errors import DomainError
from yunying.core.rows import row_get
from yunying.members.models import Member
from yunying.members.regions import PROVINCES, province_of


def campaign_get(campaign_id: int, *, for_update: bool = False) -> Campaign:
    """Raises: campaign.not_found."""
    if for_update:
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    else:
        campaign = row_get(Campaign, id=campaign_id)  # every sign-up reads it: no ORM compile
    if campaign is None:
        raise DomainError(CampaignError.NOT_FOUND, id=campaign_id)
    return campaign


def campaign_list(*, status: str | None = None, type: str | None = None) -> QuerySet[Campaign]:
    query = Campaign.objects.order_by("-id")
    if status:
        query = query.filter(status=status)
    if type:
        query = query.filter(type=type)
    return query


def signup_get(*, campaign_id: int, signup_id: int) -> Signup:
    """Raises: signup.not_found (also when it belongs to another campaign)."""
    signup = (
        Signup.objects.select_related("member", "campaign")
        .filter(pk=signup_id, campaign_id=campaign_id)
        .first()
    )
    if signup is None:
        raise DomainError(SignupError.NOT_FOUND, id=signup_id)
    return signup


def signup_list(
    *, campaign_id: int, status: str | None = None, channel: str | None = None
) -> QuerySet[Signup]:
    query = Signup.objects.filter(campaign_id=campaign_id).select_related("member").order_by("id")
    if status:
        query = query.filter(status=status)
    if channel:
        query = query.filter(channel=channel)
    return query


def member_facts(member: Member, *, period_days: int | None, answers: dict, now: datetime) -> MemberFacts:
    recent = 0
    if period_days is not None and member.pk is not None:  # a new member has no history yet
        recent = Signup.objects.filter(
            member=member, status__in=BLOCKING_STATUSES, created_at__gte=now - timedelta(days=period_days)
        ).count()
    return MemberFacts(
        birth_date=member.birth_date,
        gender=member.gender,
        region_code=member.region_code,
        recent_participations=recent,
        answers=answers,
    )


AGE_BANDS = [
    (0, 17, "<18"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 200, "55+"),
]


def _age_band(birth_date: date | None, today: date) -> str:
    """Total over what is stored: a birth date in the future or 200 years ago is "unknown"."""
    if birth_date is None:
        return "unknown"
    age = age_on(birth_date, today)
    return next((label for low, high, label in AGE_BANDS if low <= age <= high), "unknown")


@dataclass(frozen=True)
class CampaignStats:
    campaign_id: int
    capacity: int
    seats_taken: int
    seats_left: int
    by_status: dict[str, int]
    by_channel: dict[str, int]
    by_gender: dict[str, int]
    by_age_band: dict[str, int]
    by_province: dict[str, int]
    per_minute: list[dict]


def campaign_stats(campaign: Campaign, *, minutes: int = 60, now: datetime | None = None) -> CampaignStats:
    """Live monitoring (C6): counts per status and channel, the profile of live sign-ups, and
    sign-ups per minute over the last `minutes`."""
    now = now or timezone.now()
    signups = Signup.objects.filter(campaign=campaign)
    by_status = {s: 0 for s in SignupStatus.values}
    by_status.update(dict(signups.values_list("status").annotate(n=Count("id")).order_by()))
    live = signups.filter(status__in=BLOCKING_STATUSES).exclude(status__in=["rejected", "not_selected"])
    by_channel = dict(live.values_list("channel").annotate(n=Count("id")).order_by())
    by_gender = dict(live.values_list("member__gender").annotate(n=Count("id")).order_by())
    today = timezone.localdate(now)
    ages: Counter[str] = Counter()
    for birth_date, n in live.values_list("member__birth_date").annotate(n=Count("id")).order_by():
        ages[_age_band(birth_date, today)] += n
    provinces: Counter[str] = Counter()
    for code, n in live.values_list("member__region_code").annotate(n=Count("id")).order_by():
        provinces[PROVINCES.get(province_of(code), "未知") if code else "未知"] += n
    since = now - timedelta(minutes=minutes)
    minute_rows = (
        signups.filter(created_at__gte=since)
        .annotate(minute=TruncMinute("created_at"))
        .values_list("minute")
        .annotate(n=Count("id"))
        .order_by("minute")
    )
    return CampaignStats(
        campaign_id=campaign.pk,
        capacity=campaign.capacity,
        seats_taken=campaign.seats_taken,
        seats_left=max(campaign.capacity - campaign.seats_taken, 0),
        by_status=by_status,
        by_channel=by_channel,
        by_gender=by_gender,
        by_age_band=dict(ages),
        by_province=dict(provinces),
        per_minute=[{"minute": minute.isoformat(), "count": n} for minute, n in minute_rows],
    )


def counts_from_events(campaign_id: int) -> dict[str, int]:
    """Rebuild per-status counts from the append-only history alone (the ledger invariant)."""
    latest: dict[int, str] = {}
    for signup_id, to_status in (
        SignupEvent.objects.filter(campaign_id=campaign_id)
        .order_by("id")
        .values_list("signup_id", "to_status")
    ):
        latest[signup_id] = to_status
    return dict(Counter(latest.values()))
