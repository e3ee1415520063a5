from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunying.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from yunying.core import checks  # noqa: F401 - registers the deployment checks
