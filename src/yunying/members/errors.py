from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class MemberError(StrEnum):
    PHONE_INVALID = "member.phone_invalid"
    IDENTITY_REQUIRED = "member.identity_required"
    IDENTITY_CONFLICT = "member.identity_conflict"
    REGION_INVALID = "member.region_invalid"
    BIRTH_DATE_INVALID = "member.birth_date_invalid"
    NAME_INVALID = "member.name_invalid"


register_messages(
    {
        MemberError.PHONE_INVALID: _("The phone number is not valid."),
        MemberError.IDENTITY_REQUIRED: _("Identify the member by phone or external id."),
        MemberError.IDENTITY_CONFLICT: _("The phone and the external id belong to different members."),
        MemberError.REGION_INVALID: _("The region code is not a valid GB/T 2260 code."),
        MemberError.BIRTH_DATE_INVALID: _("The birth date must be between 1900-01-01 and today."),
        MemberError.NAME_INVALID: _("The name must not contain control characters."),
    }
)
