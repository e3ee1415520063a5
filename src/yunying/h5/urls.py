"""Member pages (mobile H5) under /m/."""

app_name = "h5"

urlpatterns = []
