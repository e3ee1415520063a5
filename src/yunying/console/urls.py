"""The operator console under /console/. Each section's views live in views/<section>.py with their
own urlpatterns; this module only puts them together."""

from yunying.console.views import (
    apikeys,
    attendance,
    audit,
    auth,
    campaigns,
    dashboard,
    members,
    monitor,
    report,
    review,
    segments,
    signups,
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
    *segments.urlpatterns,
    *apikeys.urlpatterns,
    *audit.urlpatterns,
]
