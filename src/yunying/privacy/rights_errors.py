"""Stable codes of the members' rights (data-subject requests)."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class RightsError(StrEnum):
    REQUEST_NOT_FOUND = "privacy.request_not_found"
    REQUEST_CLOSED = "privacy.request_closed"  # carried out or rejected already
    ERASURE_WAITING = "privacy.erasure_waiting"  # something must be settled first (waiting_on)
    REASON_REQUIRED = "privacy.reason_required"
    CONFIRMATION_REQUIRED = "privacy.confirmation_required"
    MEMBER_ERASED = "privacy.member_erased"
    IDENTITY_UNCONFIRMED = "privacy.identity_unconfirmed"  # an operator-recorded erasure or copy: who asked?
    SAME_PERSON = "privacy.same_person"  # ... carried out or handed over by the operator who recorded it
    RECORDER_UNIDENTIFIED = "privacy.recorder_unidentified"  # an erasure recorded with an unowned key
    KIND_INVALID = "privacy.kind_invalid"
    DETAILS_TOO_LONG = "privacy.details_too_long"  # what the member asked, over 1,000 characters
    CHANNEL_INVALID = (
        "privacy.channel_invalid"  # an operator records phone, e-mail or other, never self-service
    )
    REQUEST_NOT_EXPORT = "privacy.request_not_export"  # only export and access requests produce a file


# Why an erasure waits, in words (codes the domain apps return).
WAITING_ON = {
    "loyalty.brokerage_unpaid": _(
        "Commission is still owed to the member: pay it out (or settle it) before the account is erased."
    ),
}

register_messages(
    {
        RightsError.REQUEST_NOT_FOUND: _("Request not found."),
        RightsError.REQUEST_CLOSED: _("This request has already been carried out or rejected."),
        RightsError.ERASURE_WAITING: _("The erasure has to wait: something must be settled first."),
        RightsError.REASON_REQUIRED: _("State the reason."),
        RightsError.CONFIRMATION_REQUIRED: _("Confirm that you want your account and data deleted."),
        RightsError.MEMBER_ERASED: _("This member's data has been erased."),
        RightsError.IDENTITY_UNCONFIRMED: _(
            "The member's data is about to be handed over or deleted: confirm that you checked the person "
            "asking is the member, and note how."
        ),
        RightsError.SAME_PERSON: _(
            "A copy or a deletion you recorded is handed over or carried out by a second operator, from the "
            "console or with a key that names its holder."
        ),
        RightsError.RECORDER_UNIDENTIFIED: _(
            "This API key names no holder, so nobody could tell who hands over or carries out this request: "
            "give the key an owner."
        ),
        RightsError.KIND_INVALID: _("Choose what the member asked for."),
        RightsError.DETAILS_TOO_LONG: _("Say what the member asked in at most %(limit)s characters."),
        RightsError.CHANNEL_INVALID: _("Choose how the request was received: phone, e-mail or other."),
        RightsError.REQUEST_NOT_EXPORT: _(
            "Only a request for a copy of the data or for access produces a file."
        ),
    }
)
