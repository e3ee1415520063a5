from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "yunying.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
