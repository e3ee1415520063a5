from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "yunying.members"
    label = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from yunying.members import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
        from yunying.members.personal_data import holdings_register

        holdings_register()  # what the member's data centre lists, exports and erases (PIPL arts. 44-47)
        from yunying.core.registry import consent_check_register
        from yunying.members.consent import consent_check

        # The outbox asks members, at delivery time, who agreed to a message's purpose (N3); notify
        # and members are independent layers, so the check is handed over through core.registry.
        consent_check_register(consent_check)

        # Every column sealed with core.crypto, for key rotation (privacy) and the deployment check.
        from yunying.core.registry import SealedColumn, sealed_column_register

        for column, context, name in (
            ("phone_encrypted", "member.phone", _("Member phone")),
            ("name_encrypted", "member.name", _("Member name")),
            ("email_encrypted", "member.email", _("Member e-mail")),
        ):
            sealed_column_register(SealedColumn("members.Member", column, context, _member_token, name=name))
        sealed_column_register(
            SealedColumn(
                "members.ProfileAnswer",
                "value_encrypted",
                "member.attr",
                _answer_token,
                ("member",),
                name=_("Member profile answers"),
            )
        )


def _member_token(member) -> str:
    return member.row_token


def _answer_token(answer) -> str:
    return answer.member.row_token
