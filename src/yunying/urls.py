from django.contrib import admin
from django.urls import path

from yunying.api import api
from yunying.core import health, metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Operations: liveness, readiness, Prometheus scrape (docs/deploy.md).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler404 = "yunying.api.errors.not_found"
