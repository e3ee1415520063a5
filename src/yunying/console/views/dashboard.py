"""The dashboard: what needs an operator's action now (issue 9) — sign-ups waiting for review,
campaigns opening or closing today, seats left on running campaigns, refused attempts and security
alerts in the last hour, today's sign-ups by hour. A fixed number of queries (selectors)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from yunying.campaigns import selectors
from yunying.console.access import operator_required
from yunying.console.views.campaign_pages import bar_option
from yunying.core.permissions import Perm


@operator_required(Perm.CAMPAIGN_VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    overview = selectors.dashboard_overview()
    hours = overview.signups_by_hour
    actor = request.actor
    return render(
        request,
        "console/dashboard/dashboard.html",
        {
            "section": "dashboard",
            "overview": overview,
            "waiting_total": sum(line.count for line in overview.awaiting_review),
            "signups_today": sum(hours),
            "exceptions_total": sum(line.count for line, _summary in overview.exceptions),
            "hours_chart": bar_option([f"{h:02d}:00" for h in range(24)], hours, name=_("Sign-ups")),
            "can_review": actor.can(Perm.SIGNUP_REVIEW),
            "can_stats": actor.can(Perm.STATS_VIEW),
        },
    )


urlpatterns = [path("dashboard/", dashboard, name="dashboard")]
