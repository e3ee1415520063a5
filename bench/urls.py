from django.urls import path

from bench import views
from yunying.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/trivial", views.trivial),
    path("bench/bare-admit", views.bare_admit),
    *product_urlpatterns,
]
