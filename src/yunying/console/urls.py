"""The operator console under /console/. Each section's views live in views/<section>.py with their
own urlpatterns; this module only puts them together."""

from yunying.console.views import (
    apikeys,
    attendance,
    audit,
    auth,
    brokerage,
    campaigns,
    dashboard,
    imports,
    incentives,
    member360,
    members,
    monitor,
    points,
    points_rules,
    questionnaires,
    report,
    review,
    segments,
    signups,
    tags,
    tiers,
)

app_name = "console"

urlpatterns = [
    *auth.urlpatterns,
    *dashboard.urlpatterns,
    *campaigns.urlpatterns,
    *monitor.urlpatterns,
    *signups.urlpatterns,
    *report.urlpatterns,
    *review.urlpatterns,
    *attendance.urlpatterns,
    *members.urlpatterns,
    *member360.urlpatterns,
    *tags.urlpatterns,
    *questionnaires.urlpatterns,
    *imports.urlpatterns,
    *segments.urlpatterns,
    *points_rules.urlpatterns,
    *incentives.urlpatterns,
    *tiers.urlpatterns,
    *points.urlpatterns,
    *apikeys.urlpatterns,
    *audit.urlpatterns,
    *brokerage.urlpatterns,
]
