from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from yunying.api import api
from yunying.core import health, metrics

urlpatterns = [
    # A new user opening the server lands on the interactive API docs.
    path("", RedirectView.as_view(url="/api/v1/docs", permanent=False), name="home"),
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
