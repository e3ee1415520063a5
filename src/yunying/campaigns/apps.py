from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "yunying.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from yunying.campaigns import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
        from yunying.campaigns.personal_data import holdings_register

        holdings_register()  # what the member's data centre lists, exports and erases (PIPL arts. 44-47)
        from yunying.campaigns.definition_messages import VALUE_ERRORS
        from yunying.core.validation_messages import value_errors_register

        value_errors_register(VALUE_ERRORS)  # the definition's messages, translated in the API too
        # What this app plugs into the shared machinery (core and notify import no campaign code):
        # its messages, rendered by the outbox worker; its periodic jobs, run by `yunying worker`.
        from yunying.campaigns import jobs, messages, retention
        from yunying.core.registry import periodic_job_register
        from yunying.notify.templates import templates_register

        templates_register(messages.TEMPLATES, messages.messages_load)
        periodic_job_register("campaigns.advance", jobs.campaigns_advance_job)
        periodic_job_register("campaigns.client_data_retention", retention.client_data_retention_job)
        # A risk case about a sign-up, approved or rejected in the review queue, confirms or refuses it.
        from yunying.risk.outcomes import case_outcome_register

        case_outcome_register("signup", _signup_risk_outcome)

        # The columns sealed with core.crypto, for key rotation (privacy) and the deployment check.
        from yunying.core.registry import SealedColumn, sealed_column_register

        sealed_column_register(
            SealedColumn(
                "campaigns.Signup",
                "answers_encrypted",
                "signup.answers",
                _signup_token,
                name=_("Sign-up form answers"),
            )
        )
        sealed_column_register(
            SealedColumn(
                "campaigns.Campaign",
                "lottery_seed_sealed",
                "campaign.lottery_seed",
                _campaign_token,
                name=_("Lottery draw seed"),
            )
        )


def _signup_token(signup) -> str:
    return signup.public_id


def _campaign_token(campaign) -> str:
    return str(campaign.pk)


def _signup_risk_outcome(decision, approve: bool, actor) -> str:
    # Imported when a case is decided: the services import metrics, which `serve` sets up after ready().
    from yunying.campaigns.services.admission import signup_risk_outcome

    return signup_risk_outcome(decision, approve, actor)
