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
    PHONE_NOT_MOBILE = "member.phone_not_mobile"
    IDENTITY_MISMATCH = "member.identity_mismatch"
    LINK_CONFLICT = "member.link_conflict"
    NOT_FOUND = "member.not_found"


register_messages(
    {
        MemberError.PHONE_INVALID: _("The phone number is not valid."),
        MemberError.IDENTITY_REQUIRED: _("Identify the member by phone or external id."),
        MemberError.IDENTITY_CONFLICT: _("The phone and the external id belong to different members."),
        MemberError.IDENTITY_MISMATCH: _(
            "These identifiers do not match a member as given. Sign up with the identifiers the member "
            "was registered with, or ask an operator to link the new one."
        ),
        MemberError.LINK_CONFLICT: _("The identifier belongs to another member and cannot be linked."),
        MemberError.REGION_INVALID: _("The region code is not a valid GB/T 2260 code."),
        MemberError.BIRTH_DATE_INVALID: _("The birth date must be between 1900-01-01 and today."),
        MemberError.NAME_INVALID: _("The name must not contain control characters."),
        MemberError.PHONE_NOT_MOBILE: _(
            "The member's phone must be a mobile number that can receive SMS, not a landline or a 400/800 number."
        ),
        MemberError.NOT_FOUND: _("No such member: no member has that id, phone or external id."),
    }
)


class SigninError(StrEnum):
    """Sign-in by SMS code (M1) and the privacy notice (M3)."""

    CODE_WRONG = "signin.code_wrong"
    CODE_EXPIRED = "signin.code_expired"
    NO_CODE = "signin.no_code"
    TOO_MANY_ATTEMPTS = "signin.too_many_attempts"
    BUDGET_EXHAUSTED = "signin.budget_exhausted"
    SEND_FAILED = "signin.send_failed"
    CONSENT_STALE = "consent.stale_version"


register_messages(
    {
        SigninError.CODE_WRONG: _("The code is not right. Check the SMS and try again."),
        SigninError.CODE_EXPIRED: _("The code has expired. Ask for a new one."),
        SigninError.NO_CODE: _("There is no code waiting for this phone. Ask for a new one."),
        SigninError.TOO_MANY_ATTEMPTS: _("Too many wrong tries for this code. Ask for a new one."),
        SigninError.BUDGET_EXHAUSTED: _("No more codes can be sent today. Please try again tomorrow."),
        SigninError.SEND_FAILED: _("The SMS could not be sent. Please try again in a minute."),
        SigninError.CONSENT_STALE: _("The privacy notice has changed. Please read the new version."),
    }
)


class TagError(StrEnum):
    """Manual tags on members (M5, M7)."""

    NOT_FOUND = "tag.not_found"
    NAME_TAKEN = "tag.name_taken"
    NAME_INVALID = "tag.name_invalid"
    RULE_BASED = "tag.rule_based"
    TOO_MANY_MEMBERS = "tag.too_many_members"


class IdentityCheckError(StrEnum):
    """The real-name check (members.identity, S4 sensitive information)."""

    CONSENT_REQUIRED = "identity.consent_required"
    NUMBER_INVALID = "identity.number_invalid"
    NAME_INVALID = "identity.name_invalid"


register_messages(
    {
        IdentityCheckError.CONSENT_REQUIRED: _(
            "A real-name check uses sensitive personal information: first agree to that separately on the "
            "privacy page."
        ),
        IdentityCheckError.NUMBER_INVALID: _("That is not a valid 18-character resident identity number."),
        IdentityCheckError.NAME_INVALID: _("Enter your name as it is on your identity card."),
    }
)


class ConsentError(StrEnum):
    """Consent per purpose (M3, N3)."""

    PURPOSE_UNKNOWN = "consent.purpose_unknown"
    PURPOSE_REQUIRED = "consent.purpose_required"
    NOTICE_NOT_ACCEPTED = "consent.notice_not_accepted"


register_messages(
    {
        TagError.NOT_FOUND: _("No tag has that name."),
        TagError.NAME_TAKEN: _("Another tag already has that name."),
        TagError.NAME_INVALID: _("A tag name is 1 to 40 characters, without control characters or slashes."),
        TagError.RULE_BASED: _(
            "This tag is rule-based: its members follow its rule and it is managed with the segments."
        ),
        TagError.TOO_MANY_MEMBERS: _("Tag at most 1,000 members at once."),
        ConsentError.PURPOSE_UNKNOWN: _("There is no such purpose."),
        ConsentError.PURPOSE_REQUIRED: _(
            "This purpose is needed to be a member at all; to stop it, delete your account and data yourself "
            "under My data."
        ),
        ConsentError.NOTICE_NOT_ACCEPTED: _("Please read and agree to the privacy notice first."),
    }
)


class ProfilingError(StrEnum):
    """Questionnaires and profile answers (M2)."""

    QUESTIONNAIRE_NOT_FOUND = "profiling.questionnaire_not_found"


register_messages(
    {
        ProfilingError.QUESTIONNAIRE_NOT_FOUND: _("No such questionnaire."),
    }
)
