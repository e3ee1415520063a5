"""Per-campaign pages (issue 9)."""

urlpatterns = []
