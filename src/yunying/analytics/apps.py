from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "yunying.analytics"
    label = "analytics"
    verbose_name = "Analytics and segments"
