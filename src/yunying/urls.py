from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django_otp.admin import OTPAdminSite

from yunying.api import api
from yunying.core import health, metrics

# The Django admin asks for the same second factor as the console: a password alone opens neither.
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    # A new user opening the server lands on the operator console (sign-in first).
    path("", RedirectView.as_view(url="/console/", permanent=False), name="home"),
    path("console/", include("yunying.console.urls")),
    path("m/", include("yunying.h5.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # the language switch (set_language)
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Operations: liveness, readiness, Prometheus scrape (docs/deploy.md).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler400 = "yunying.api.errors.bad_request"
handler404 = "yunying.api.errors.not_found"
handler500 = "yunying.api.errors.server_error"
