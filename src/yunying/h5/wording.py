"""What a refusal says to the member themself ("you"), where the domain's message speaks about a
member to an operator or an integrator ("the member"). A code without an entry keeps the domain's
message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yunying.campaigns.errors import EligibilityReason, SignupError
from yunying.core.errors import CoreError
from yunying.loyalty.errors import LoyaltyError
from yunying.promotions.errors import PromotionError

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
    # The coupon centre
    PromotionError.NOT_FOUND: _("This coupon is not on offer."),
    PromotionError.NOT_A_COUPON: _("This coupon is not on offer."),
    PromotionError.NOT_CLAIMABLE: _("This coupon cannot be claimed here."),
    PromotionError.NOT_ACTIVE: _("This coupon is not on offer at the moment."),
    PromotionError.ISSUE_LIMIT_REACHED: _("All of these coupons have been claimed."),
    PromotionError.MEMBER_LIMIT_REACHED: _("You already hold as many of these coupons as one member may."),
    PromotionError.CODE_UNKNOWN: _("That code is not valid: check it and try again."),
    PromotionError.CODE_USED: _("That code has already been used."),
    PromotionError.POINTS_NOT_ON_SALE: _("This coupon cannot be exchanged for points."),
    LoyaltyError.INSUFFICIENT_POINTS: _("You do not have enough points for this coupon."),
    CoreError.RATE_LIMITED: _("Too many tries. Please wait and try again later."),
    CoreError.INVALID: _("This page has expired: open it again."),
    "h5.code_empty": _("Enter the code first."),
    "h5.code_malformed": _("A code is 6 to 32 letters and digits: check what you typed."),
}


def to_the_member(code: str, message: str) -> str:
    """The member's wording for `code`, else the domain's `message`."""
    wording = TO_THE_MEMBER.get(code)
    return str(wording) if wording is not None else message
