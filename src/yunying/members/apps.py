from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "yunying.members"
    label = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from yunying.members.personal_data import holdings_register

        holdings_register()  # what the member's data centre lists, exports and erases (PIPL arts. 44-47)
        from yunying.core.registry import consent_check_register
        from yunying.members.consent import consent_check

        # The outbox asks members, at delivery time, who agreed to a message's purpose (N3); notify
        # and members are independent layers, so the check is handed over through core.registry.
        consent_check_register(consent_check)
