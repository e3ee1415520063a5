from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "yunying.console"
    label = "console"
    verbose_name = _("Operator console")

    def ready(self) -> None:
        from yunying.console import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
