"""What a refusal says to the member themself ("you"), where the domain's message speaks about a
member to an operator or an integrator ("the member"). A code without an entry keeps the domain's
message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yunying.campaigns.errors import EligibilityReason, SignupError

TO_THE_MEMBER = {
    SignupError.DUPLICATE: _("You have already signed up for this campaign."),
    SignupError.INELIGIBLE: _("You do not meet this campaign's conditions."),
    SignupError.PREVIOUSLY_REFUSED: _(
        "Your earlier sign-up for this campaign was not accepted or not drawn, so you cannot sign up again."
    ),
    EligibilityReason.AGE_UNKNOWN: _("This campaign has an age limit and we do not know your birth date."),
    EligibilityReason.TOO_YOUNG: _("You are younger than this campaign's minimum age."),
    EligibilityReason.TOO_OLD: _("You are older than this campaign's maximum age."),
    EligibilityReason.GENDER: _("This campaign is for members of another gender."),
    EligibilityReason.GENDER_UNKNOWN: _("This campaign is limited by gender and we do not know yours."),
    EligibilityReason.REGION_UNKNOWN: _("This campaign is limited by region and we do not know yours."),
    EligibilityReason.REGION_NOT_ALLOWED: _("This campaign is not open in your region."),
    EligibilityReason.REGION_DENIED: _("This campaign excludes your region."),
    EligibilityReason.PARTICIPATION_LIMIT: _("You have taken part as often as this period allows."),
    EligibilityReason.NOT_MET: _("You do not meet this campaign's conditions."),
    EligibilityReason.ANSWER_REQUIRED: _("An answer this campaign needs was not given."),
    EligibilityReason.MIN_PAID: _("This campaign is for members who have spent more with us in its period."),
    EligibilityReason.MIN_ORDERS: _("This campaign is for members with more orders in its period."),
    EligibilityReason.MIN_TIER: _("This campaign is for members of a higher level: move up to take part."),
    EligibilityReason.NOT_FIRST_ORDER: _("This campaign is for new customers who have not ordered yet."),
    EligibilityReason.NOT_IN_SEGMENT: _("This campaign is for a group of members you are not in yet."),
    EligibilityReason.IN_EXCLUDED_SEGMENT: _("This campaign is not open to a group of members you are in."),
}


def to_the_member(code: str, message: str) -> str:
    """The member's wording for `code`, else the domain's `message`."""
    wording = TO_THE_MEMBER.get(code)
    return str(wording) if wording is not None else message
