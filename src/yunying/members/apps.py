from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "yunying.members"
    label = "members"
    verbose_name = "Members"
