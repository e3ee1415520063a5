from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "yunying.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        # What this app plugs into the shared machinery (core and notify import no campaign code):
        # its messages, rendered by the outbox worker; its periodic jobs, run by `yunying worker`.
        from yunying.campaigns import jobs, messages, retention
        from yunying.core.registry import periodic_job_register
        from yunying.notify.templates import templates_register

        templates_register(messages.TEMPLATES, messages.messages_load)
        periodic_job_register("campaigns.advance", jobs.campaigns_advance_job)
        periodic_job_register("campaigns.client_data_retention", retention.client_data_retention_job)
