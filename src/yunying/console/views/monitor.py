"""The live monitor of one campaign (issue 9): seats left, sign-ups per minute, the latest sign-ups
(masked), refused attempts in the last hour. The page re-fetches its fragment every few seconds
(htmx `every 3s`); both read the same selectors as GET /api/v1/campaigns/{id}/stats."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from yunying.campaigns import selectors
from yunying.campaigns.presenters import signups_present
from yunying.console.access import operator_required
from yunying.console.views.campaign_pages import (
    bar_option,
    campaign_load,
    channel_label,
    not_found,
    page_context,
    reason_label,
    status_label,
)
from yunying.core.permissions import Perm

MINUTES = 30  # the per-minute chart's span
LATEST = 10
REFRESH_SECONDS = 3


def _live(campaign) -> dict:
    now = timezone.now()
    stats = selectors.campaign_stats(campaign, minutes=MINUTES, now=now)
    # Keyed by instant: the selector truncates in the configured zone, `now` is UTC.
    counts = {datetime.fromisoformat(row["minute"]): row["count"] for row in stats.per_minute}
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)
    minutes = [start + timedelta(minutes=i) for i in range(MINUTES)]
    per_minute = [counts.get(m, 0) for m in minutes]
    # Masked, like every list: the same presenter as the API's (no reveal here).
    latest = signups_present(selectors.signups_latest(campaign_id=campaign.pk, limit=LATEST), reveal=False)
    for row in latest:
        row["status_label"] = status_label(row["status"])
        row["channel_label"] = channel_label(row["channel"])
    refusals = selectors.refusal_summary(campaign_id=campaign.pk, since=now - selectors.EXCEPTION_WINDOW)
    return {
        "stats": stats,
        "now": now,
        "status_counts": [(status_label(s), n) for s, n in stats.by_status.items() if n],
        "minute_chart": bar_option(
            [timezone.localtime(m).strftime("%H:%M") for m in minutes], per_minute, name=_("Sign-ups")
        ),
        "last_minutes_total": sum(per_minute),
        "latest": latest,
        "refusals": refusals,
        "refusal_reasons": [(reason_label(code), n) for code, n in refusals.by_reason.items()],
        "refresh_seconds": REFRESH_SECONDS,
        "minutes": MINUTES,
    }


@operator_required(Perm.STATS_VIEW)
def campaign_monitor(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_load(campaign_id)
    if campaign is None:
        return not_found(request)
    context = page_context(request, campaign, "monitor") | _live(campaign)
    return render(request, "console/monitor/monitor.html", context)


@operator_required(Perm.STATS_VIEW)
def campaign_monitor_live(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The fragment the page polls; the same figures as the page, nothing else."""
    campaign = campaign_load(campaign_id)
    if campaign is None:
        return not_found(request)
    context = page_context(request, campaign, "monitor") | _live(campaign)
    response = render(request, "console/monitor/_live.html", context)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("campaigns/<int:campaign_id>/monitor/", campaign_monitor, name="campaign_monitor"),
    path("campaigns/<int:campaign_id>/monitor/live/", campaign_monitor_live, name="campaign_monitor_live"),
]
