from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunying.core"
    label = "core"
    verbose_name = "Core"
