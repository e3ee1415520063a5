"""Reads of campaign data. Handlers call these, never the ORM, so query counts stay fixed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, TruncMinute
from django.utils import timezone

from yunying.analytics.selectors import member_segment_ids
from yunying.campaigns.eligibility import EligibilityRules, MemberFacts, age_on
from yunying.campaigns.errors import CampaignError, SignupError
from yunying.campaigns.models import (
    BLOCKING_STATUSES,
    AdmissionMode,
    Campaign,
    CampaignStatus,
    LotteryDraw,
    Signup,
    SignupEvent,
    SignupRefusal,
    SignupStatus,
)
from yunying.commerce.selectors import member_has_orders, member_purchase_summary
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.core.rows import row_get
from yunying.loyalty.tiers import member_level
from yunying.members.errors import MemberError
from yunying.members.models import Member
from yunying.members.regions import PROVINCES, province_of
from yunying.members.services import member_find, member_search


def campaign_get(campaign_id: int, *, for_update: bool = False) -> Campaign:
    """Raises: campaign.not_found."""
    if for_update:
        # NO KEY UPDATE: sign-ups in flight hold KEY SHARE on the row (their foreign key) and must not
        # be made to wait behind it, nor it behind them.
        campaign = Campaign.objects.select_for_update(no_key=True).filter(pk=campaign_id).first()
    else:
        campaign = row_get(Campaign, id=campaign_id)  # every sign-up reads it: no ORM compile
    if campaign is None:
        raise DomainError(CampaignError.NOT_FOUND, id=campaign_id)
    return campaign


def campaign_list(
    *,
    status: str | None = None,
    type: str | None = None,
    title: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    drafts: bool = True,
) -> QuerySet[Campaign]:
    """Newest first. `title` matches a substring; `date_from` / `date_to` (days in the configured time
    zone, both included) keep campaigns whose run — sign-up start to event end — overlaps them.
    `drafts=False` for callers outside the operations team (a storefront sees what was published)."""
    query = Campaign.objects.order_by("-id")
    if not drafts:
        query = query.exclude(status=CampaignStatus.DRAFT)
    if status:
        query = query.filter(status=status)
    if type:
        query = query.filter(type=type)
    if title:
        query = query.filter(title__icontains=title)
    if date_from:
        query = query.filter(event_end_at__gte=_day_start(date_from))
    if date_to:
        query = query.filter(signup_start_at__lt=_day_start(date_to) + timedelta(days=1))
    return query


def _day_start(day: date) -> datetime:
    """Midnight in the configured zone; days before 1900 or after 9998 are clamped, as they match all
    campaigns or none, and their conversion to UTC could overflow."""
    day = min(max(day, date(1900, 1, 1)), date(9998, 12, 31))
    return timezone.make_aware(datetime.combine(day, time.min))


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


def _waitlisted_ahead(campaign_id, waitlist_rank, signup_id) -> QuerySet[Signup]:
    """Waiting sign-ups promoted before this one: the order of admission's waiting list (rank, id)."""
    return Signup.objects.filter(campaign_id=campaign_id, status=SignupStatus.WAITLISTED).filter(
        Q(waitlist_rank__lt=waitlist_rank) | Q(waitlist_rank=waitlist_rank, id__lt=signup_id)
    )


def waitlist_position_annotation() -> Case:
    """A waiting sign-up's live place in line (1 = promoted next), else NULL: one correlated count
    on the (campaign, status, waitlist_rank, id) index, inside the query that reads the rows."""
    ahead = (
        _waitlisted_ahead(OuterRef("campaign_id"), OuterRef("waitlist_rank"), OuterRef("id"))
        .order_by()
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Case(
        When(status=SignupStatus.WAITLISTED, then=Coalesce(Subquery(ahead), 0) + 1),
        default=None,
        output_field=IntegerField(),
    )


def waitlist_position(signup: Signup) -> int | None:
    """The same for one sign-up already loaded (one query when it waits, none otherwise)."""
    if signup.status != SignupStatus.WAITLISTED:
        return None
    return _waitlisted_ahead(signup.campaign_id, signup.waitlist_rank, signup.pk).count() + 1


def signup_by_public_id(*, campaign_id: int, public_id: str) -> Signup:
    """Raises: signup.not_found."""
    signup = (
        Signup.objects.select_related("member", "campaign")
        .filter(public_id=public_id, campaign_id=campaign_id)
        .first()
    )
    if signup is None:
        raise DomainError(SignupError.NOT_FOUND)
    return signup


def signup_of_member(
    *, campaign_id: int, public_id: str, phone: str | None = None, external_id: str | None = None
) -> Signup:
    """The sign-up with this public id, only if it belongs to the member the caller names — the
    storefront acts for one member, never by a handle alone.

    Raises: signup.not_found, the same for a wrong campaign, an unknown id, no member named or another
    member's sign-up, with nothing in it to tell which; member.phone_invalid."""
    try:
        member = member_find(phone=phone, external_id=external_id) if (phone or external_id) else None
    except DomainError as mismatch:  # a phone and an external id of two members: nobody's sign-up
        if mismatch.code != MemberError.IDENTITY_MISMATCH:
            raise
        member = None
    signup = (
        Signup.objects.select_related("member", "campaign")
        .filter(public_id=public_id, campaign_id=campaign_id, member_id=member.pk if member else None)
        .first()
        if member is not None
        else None
    )
    if signup is None:
        raise DomainError(SignupError.NOT_FOUND)
    return signup


def signup_list(
    *, campaign_id: int, status: str | None = None, channel: str | None = None
) -> QuerySet[Signup]:
    """Sign-ups of a campaign, oldest first, each with its member and `waitlist_position`."""
    query = (
        Signup.objects.filter(campaign_id=campaign_id)
        .select_related("member")
        .annotate(waitlist_position=waitlist_position_annotation())
        .order_by("id")
    )
    if status:
        query = query.filter(status=status)
    if channel:
        query = query.filter(channel=channel)
    return query


def member_signups(member_id: int, *, limit: int = 100) -> list[Signup]:
    """A member's sign-ups, newest first, with their campaigns (one query)."""
    return list(
        Signup.objects.filter(member_id=member_id)
        .select_related("campaign")
        .order_by("-created_at", "-id")[:limit]
    )


def member_timeline(member_id: int, *, limit: int = 200) -> list[SignupEvent]:
    """A member's sign-up history (every state change), newest first, with campaigns (one query)."""
    return list(
        SignupEvent.objects.filter(signup__member_id=member_id)
        .select_related("campaign")
        .order_by("-at", "-id")[:limit]
    )


def review_queue(*, campaign_id: int | None = None) -> QuerySet[Signup]:
    """Sign-ups waiting for review across campaigns (or one), oldest first, with member and campaign."""
    query = (
        Signup.objects.filter(status=SignupStatus.PENDING_REVIEW)
        .select_related("member", "campaign")
        .order_by("id")
    )
    if campaign_id is not None:
        query = query.filter(campaign_id=campaign_id)
    return query


def review_campaigns() -> QuerySet[Campaign]:
    """Campaigns with sign-ups waiting for review, each with `pending` (their number)."""
    return (
        Campaign.objects.annotate(
            pending=Count("signups", filter=Q(signups__status=SignupStatus.PENDING_REVIEW))
        )
        .filter(pending__gt=0)
        .order_by("-id")
    )


def attendance_campaigns() -> QuerySet[Campaign]:
    """Campaigns whose members may be checked in: published or closed for sign-up (the event often
    runs after sign-up closed), soonest event first."""
    return Campaign.objects.filter(status__in=[CampaignStatus.PUBLISHED, CampaignStatus.CLOSED]).order_by(
        "event_start_at", "id"
    )


def attendance_recent(campaign_id: int, *, limit: int = 10) -> list[Signup]:
    """The latest check-ins of a campaign, newest first, with members (one query)."""
    return list(
        Signup.objects.filter(campaign_id=campaign_id, attended_at__isnull=False)
        .select_related("member")
        .order_by("-attended_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class MemberSignupStatus:
    """What a storefront may know of its member's sign-up: no personal data, no ids to act on."""

    campaign_id: int
    status: str  # a SignupStatus, or "none"
    waitlist_position: int | None  # the live place in line while waitlisted (1 = next)
    lottery_drawn: bool | None  # None when the campaign does not admit by lottery
    lottery_result: str | None  # "won", "waitlisted", "not_selected"; None before the draw


LOTTERY_RESULT = {
    SignupStatus.CONFIRMED: "won",
    SignupStatus.WAITLISTED: "waitlisted",
    SignupStatus.NOT_SELECTED: "not_selected",
}


def signup_status_for(*, campaign_id: int, member: Member | None, public_id: str) -> MemberSignupStatus:
    """The member's sign-up with this public id. An unknown member, another member's sign-up and a
    wrong id all read the same ("none"), so the answer tells nothing about who is a member.

    Raises: campaign.not_found."""
    campaign = campaign_get(campaign_id)
    signup = None
    if member is not None:
        signup = Signup.objects.filter(
            campaign_id=campaign.pk, member_id=member.pk, public_id=public_id
        ).first()
    status = signup.status if signup else "none"
    lottery = campaign.admission_mode == AdmissionMode.LOTTERY
    drawn = lottery and LotteryDraw.objects.filter(campaign_id=campaign.pk).exists()
    result = None
    if drawn and signup is not None:
        # A winner who later withdrew still won: the first status the draw gave is the result.
        drawn_to = (
            SignupEvent.objects.filter(signup_id=signup.pk, from_status=SignupStatus.REGISTERED)
            .order_by("id")
            .values_list("to_status", flat=True)
            .first()
        )
        result = LOTTERY_RESULT.get(drawn_to)
    return MemberSignupStatus(
        campaign_id=campaign.pk,
        status=status,
        waitlist_position=waitlist_position(signup) if signup else None,
        lottery_drawn=drawn if lottery else None,
        lottery_result=result,
    )


def member_facts(
    member: Member,
    *,
    period_days: int | None,
    answers: dict,
    now: datetime,
    rules: EligibilityRules | None = None,
    segment_ids: set[int] = frozenset(),
) -> MemberFacts:
    """The facts the rules read; purchases only when `rules` has a purchase rule (one read each).
    `segment_ids`: the segments the rules name; the facts say which of them the member is in."""
    recent = 0
    if period_days is not None and member.pk is not None:  # a new member has no history yet
        recent = Signup.objects.filter(
            member=member, status__in=BLOCKING_STATUSES, created_at__gte=now - timedelta(days=period_days)
        ).count()
    orders = paid_fen = 0
    has_orders = False
    if rules is not None and member.pk is not None:  # a new member has no orders either
        if rules.min_paid_fen is not None or rules.min_orders is not None:
            days = rules.purchase_period_days
            summary = member_purchase_summary(member.pk, since=now - timedelta(days=days) if days else None)
            orders, paid_fen = summary.orders, summary.paid_fen
        if rules.first_order_only:
            has_orders = member_has_orders(member.pk)
    tier_rank = 0
    if rules is not None and rules.min_tier_rank is not None and member.pk is not None:
        tier_rank = member_level(member.pk).rank
    return MemberFacts(
        birth_date=member.birth_date,
        gender=member.gender,
        region_code=member.region_code,
        recent_participations=recent,
        answers=answers,
        orders=orders,
        paid_fen=paid_fen,
        has_orders=has_orders,
        segment_ids=frozenset(member_segment_ids(member.pk, segment_ids) if member.pk is not None else ()),
        tier_rank=tier_rank,
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
    attended: int = 0  # confirmed sign-ups checked in at the event (C10)
    participation_rate: float | None = None  # attended / confirmed, 4 decimals; None with none confirmed


def participation_rate(attended: int, confirmed: int) -> float | None:
    """Attended over confirmed (C10), the one definition the API stats and the report share."""
    return round(attended / confirmed, 4) if confirmed else None


def campaign_stats(campaign: Campaign, *, minutes: int = 60, now: datetime | None = None) -> CampaignStats:
    """Live monitoring (C6): counts per status and channel, the profile of live sign-ups, and
    sign-ups per minute over the last `minutes`."""
    now = now or timezone.now()
    signups = Signup.objects.filter(campaign=campaign)
    by_status = {s: 0 for s in SignupStatus.values}
    attended = 0
    for status, n, checked_in in (
        signups.values_list("status")
        .annotate(n=Count("id"), checked_in=Count("id", filter=Q(attended_at__isnull=False)))
        .order_by()
    ):
        by_status[status] = n
        if status == SignupStatus.CONFIRMED:
            attended = checked_in
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
        attended=attended,
        participation_rate=participation_rate(attended, by_status[SignupStatus.CONFIRMED]),
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


# --- The console's dashboard, live monitor and report (issue 9) ---------------------------------

EXCEPTION_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class RefusalSummary:
    """Refused attempts recorded since a moment (campaigns.services.refusals), by kind."""

    ineligible: int
    duplicate: int  # signup.duplicate and signup.previously_refused
    rate_limited: int
    by_reason: dict[str, int]  # eligibility reason code -> attempts refused for it

    @property
    def total(self) -> int:
        return self.ineligible + self.duplicate + self.rate_limited


def _refusal_summary(rows) -> RefusalSummary:
    ineligible = duplicate = rate_limited = 0
    reasons: Counter[str] = Counter()
    for code, reason_codes, n in rows:
        if code == SignupError.INELIGIBLE:
            ineligible += n
            for reason in filter(None, reason_codes.split(",")):
                reasons[reason] += n
        elif code in (SignupError.DUPLICATE, SignupError.PREVIOUSLY_REFUSED):
            duplicate += n
        else:
            rate_limited += n
    return RefusalSummary(ineligible, duplicate, rate_limited, dict(reasons.most_common()))


def refusal_summary(*, campaign_id: int, since: datetime) -> RefusalSummary:
    """One campaign's refused attempts since `since` (one query)."""
    rows = (
        SignupRefusal.objects.filter(campaign_id=campaign_id, at__gte=since)
        .values_list("code", "reasons")
        .annotate(n=Count("id"))
        .order_by()
    )
    return _refusal_summary(rows)


@dataclass(frozen=True)
class CampaignLine:
    id: int
    title: str
    count: int = 0  # what the line counts: sign-ups waiting, seats left, refusals


@dataclass(frozen=True)
class RunningCampaign:
    id: int
    title: str
    capacity: int
    seats_taken: int
    signup_end_at: datetime

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


@dataclass(frozen=True)
class DashboardOverview:
    awaiting_review: list[CampaignLine]
    opening_today: list[Campaign]
    closing_today: list[Campaign]
    running: list[RunningCampaign]
    exceptions: list[tuple[CampaignLine, RefusalSummary]]
    alerts: dict[str, int]  # security alert code -> alerts in the last hour
    signups_by_hour: list[int]  # today's sign-ups, 24 local hours


DASHBOARD_LIMIT = 50  # lines per panel: the dashboard is what needs action, not a full list


def dashboard_overview(*, now: datetime | None = None) -> DashboardOverview:
    """What needs an operator now (issue 9): a fixed number of queries, whatever the campaigns."""
    from django.db.models.functions import TruncHour

    from yunying.core.models import Alert

    now = now or timezone.now()
    day_start = _day_start(timezone.localdate(now))
    day_end = day_start + timedelta(days=1)
    waiting = (
        Signup.objects.filter(status=SignupStatus.PENDING_REVIEW)
        .values_list("campaign_id", "campaign__title")
        .annotate(n=Count("id"))
        .order_by("-n", "campaign_id")[:DASHBOARD_LIMIT]
    )
    # Opening or closing today: campaigns on their way (published) or closed early today, not drafts,
    # cancelled or finished ones.
    campaigns = Campaign.objects.filter(status__in=[CampaignStatus.PUBLISHED, CampaignStatus.CLOSED])
    opening = list(
        campaigns.filter(signup_start_at__gte=day_start, signup_start_at__lt=day_end).order_by(
            "signup_start_at", "id"
        )[:DASHBOARD_LIMIT]
    )
    closing = list(
        campaigns.filter(signup_end_at__gte=day_start, signup_end_at__lt=day_end).order_by(
            "signup_end_at", "id"
        )[:DASHBOARD_LIMIT]
    )
    running = [
        RunningCampaign(*row)
        for row in Campaign.objects.filter(
            status=CampaignStatus.PUBLISHED, signup_start_at__lte=now, signup_end_at__gt=now
        )
        .order_by("signup_end_at", "id")
        .values_list("id", "title", "capacity", "seats_taken", "signup_end_at")[:DASHBOARD_LIMIT]
    ]
    since = now - EXCEPTION_WINDOW
    per_campaign: dict[int, list] = {}
    for campaign_id, code, reasons, n in (
        SignupRefusal.objects.filter(at__gte=since)
        .values_list("campaign_id", "code", "reasons")
        .annotate(n=Count("id"))
        .order_by()
    ):
        per_campaign.setdefault(campaign_id, []).append((code, reasons, n))
    titles = dict(Campaign.objects.filter(pk__in=list(per_campaign)).values_list("id", "title"))
    exceptions = sorted(
        (
            (CampaignLine(cid, titles[cid], summary.total), summary)
            for cid, rows in per_campaign.items()
            if cid in titles
            for summary in [_refusal_summary(rows)]
        ),
        key=lambda line: (-line[0].count, line[0].id),
    )[:DASHBOARD_LIMIT]
    alerts = dict(Alert.objects.filter(at__gte=since).values_list("code").annotate(n=Count("id")).order_by())
    hours = [0] * 24
    for hour, n in (
        Signup.objects.filter(created_at__gte=day_start, created_at__lt=day_end)
        .annotate(hour=TruncHour("created_at", tzinfo=timezone.get_current_timezone()))
        .values_list("hour")
        .annotate(n=Count("id"))
        .order_by()
    ):
        hours[timezone.localtime(hour).hour] += n
    return DashboardOverview(
        awaiting_review=[CampaignLine(cid, title, n) for cid, title, n in waiting],
        opening_today=opening,
        closing_today=closing,
        running=running,
        exceptions=exceptions,
        alerts=alerts,
        signups_by_hour=hours,
    )


def signups_latest(*, campaign_id: int, limit: int = 10) -> list[Signup]:
    """The newest sign-ups of a campaign, with member and campaign for presenting (one query)."""
    return list(signup_list(campaign_id=campaign_id).select_related("campaign").order_by("-id")[:limit])


def signup_search(
    *,
    campaign_id: int,
    status: str | None = None,
    channel: str | None = None,
    phone: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    actor: Actor | None = None,
) -> QuerySet[Signup]:
    """signup_list narrowed to one member's phone (found through the keyed blind index, never a scan
    of clear numbers; a search by phone is members.services.member_search's: permission, limit,
    audit) and to sign-up days in the configured zone (both included).

    Raises: member.phone_invalid, core.permission_denied, core.rate_limited."""
    query = signup_list(campaign_id=campaign_id, status=status, channel=channel)
    if phone:
        if actor is None:
            raise ValueError("a search by phone needs the actor: it is limited and audited")
        member = member_search(actor=actor, phone=phone)
        query = query.filter(member_id=member.pk) if member else query.none()
    if date_from:
        query = query.filter(created_at__gte=_day_start(date_from))
    if date_to:
        query = query.filter(created_at__lt=_day_start(date_to) + timedelta(days=1))
    return query


@dataclass(frozen=True)
class Attendance:
    """Participation (C10): confirmed sign-ups, how many of them checked in, and the rate."""

    confirmed: int
    attended: int

    @property
    def rate(self) -> float | None:
        return participation_rate(self.attended, self.confirmed)  # the one definition (C10)


def campaign_attendance(campaign: Campaign) -> Attendance:
    """Attended / confirmed, from Signup.attended_at (one query)."""
    counts = Signup.objects.filter(campaign=campaign, status=SignupStatus.CONFIRMED).aggregate(
        confirmed=Count("id"), attended=Count("id", filter=Q(attended_at__isnull=False))
    )
    return Attendance(confirmed=counts["confirmed"], attended=counts["attended"])
