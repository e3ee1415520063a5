from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "yunying.commerce"
    label = "commerce"
    verbose_name = "Order facts"
