from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "yunying.notify"
    label = "notify"
    verbose_name = "Notifications"
