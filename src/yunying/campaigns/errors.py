from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class CampaignError(StrEnum):
    NOT_FOUND = "campaign.not_found"
    NOT_OPEN = "campaign.not_open"
    FULL = "campaign.full"
    INVALID_TRANSITION = "campaign.invalid_transition"
    RULES_LOCKED = "campaign.rules_locked"
    INCOMPLETE = "campaign.incomplete"
    CHANNEL_NOT_ALLOWED = "campaign.channel_not_allowed"
    NOT_LOTTERY = "campaign.not_lottery"
    ALREADY_DRAWN = "campaign.already_drawn"
    NOT_DRAWN = "campaign.not_drawn"
    DRAW_NOT_READY = "campaign.draw_not_ready"
    REASON_REQUIRED = "campaign.reason_required"
    NOT_DELETABLE = "campaign.not_deletable"
    EVENT_STARTED = "campaign.event_started"


class SignupError(StrEnum):
    NOT_FOUND = "signup.not_found"
    DUPLICATE = "signup.duplicate"
    PREVIOUSLY_REFUSED = "signup.previously_refused"
    INELIGIBLE = "signup.ineligible"
    INVALID_TRANSITION = "signup.invalid_transition"
    REASON_REQUIRED = "signup.reason_required"


class AttendanceError(StrEnum):
    """Checking a member in at the event (C10)."""

    UNKNOWN_CODE = "attendance.unknown_code"
    WRONG_CAMPAIGN = "attendance.wrong_campaign"
    NOT_CONFIRMED = "attendance.not_confirmed"
    ALREADY_CHECKED_IN = "attendance.already_checked_in"


class FormError(StrEnum):
    """Per-question answer errors (C2) and form-definition errors."""

    REQUIRED = "form.required"
    INVALID_TYPE = "form.invalid_type"
    TOO_LONG = "form.too_long"
    INVALID_CHOICE = "form.invalid_choice"
    TOO_FEW_CHOICES = "form.too_few_choices"
    TOO_MANY_CHOICES = "form.too_many_choices"
    INVALID_PHONE = "form.invalid_phone"
    INVALID_REGION = "form.invalid_region"
    INVALID_DATE = "form.invalid_date"
    DATE_OUT_OF_RANGE = "form.date_out_of_range"
    CONSENT_REQUIRED = "form.consent_required"
    UNKNOWN_QUESTION = "form.unknown_question"
    DEFINITION_INVALID = "form.definition_invalid"


class EligibilityReason(StrEnum):
    """Why a member may not sign up (C3); every failing reason is returned, not only the first."""

    AGE_UNKNOWN = "eligibility.age_unknown"
    TOO_YOUNG = "eligibility.too_young"
    TOO_OLD = "eligibility.too_old"
    GENDER = "eligibility.gender"
    GENDER_UNKNOWN = "eligibility.gender_unknown"
    REGION_UNKNOWN = "eligibility.region_unknown"
    REGION_NOT_ALLOWED = "eligibility.region_not_allowed"
    REGION_DENIED = "eligibility.region_denied"
    PARTICIPATION_LIMIT = "eligibility.participation_limit"
    ANSWER_REQUIRED = "eligibility.answer_required"
    NOT_IN_SEGMENT = "eligibility.not_in_segment"
    IN_EXCLUDED_SEGMENT = "eligibility.in_excluded_segment"
    NOT_MET = "eligibility.not_met"  # all a caller who may not view sign-ups learns of stored facts
    MIN_PAID = "eligibility.min_paid"
    MIN_ORDERS = "eligibility.min_orders"
    MIN_TIER = "eligibility.min_tier"  # the campaign is for members of a higher level
    NOT_FIRST_ORDER = "eligibility.not_first_order"


register_messages(
    {
        CampaignError.NOT_FOUND: _("Campaign not found."),
        CampaignError.NOT_OPEN: _("This campaign is not open for sign-up."),
        CampaignError.FULL: _("This campaign is full."),
        CampaignError.INVALID_TRANSITION: _("The campaign cannot move to that state from its current state."),
        CampaignError.RULES_LOCKED: _(
            "The campaign is published: its rules can no longer change. Cancel it and publish a new one."
        ),
        CampaignError.INCOMPLETE: _("The campaign cannot be published until it is complete."),
        CampaignError.CHANNEL_NOT_ALLOWED: _("This campaign does not take sign-ups from that channel."),
        CampaignError.NOT_LOTTERY: _("This campaign does not admit by lottery."),
        CampaignError.ALREADY_DRAWN: _("The lottery for this campaign has already been drawn."),
        CampaignError.NOT_DRAWN: _("The lottery for this campaign has not been drawn yet."),
        CampaignError.DRAW_NOT_READY: _("The lottery can be drawn only after sign-up has closed."),
        CampaignError.REASON_REQUIRED: _("Say why the campaign is cancelled."),
        CampaignError.NOT_DELETABLE: _("Only a draft campaign without sign-ups can be deleted."),
        CampaignError.EVENT_STARTED: _("The event has already started: sign-up cannot reopen."),
        SignupError.NOT_FOUND: _("Sign-up not found."),
        SignupError.DUPLICATE: _("This member has already signed up for this campaign."),
        SignupError.INELIGIBLE: _("The member does not meet the campaign's conditions."),
        SignupError.INVALID_TRANSITION: _("The sign-up cannot move to that state from its current state."),
        SignupError.REASON_REQUIRED: _("A reason is required."),
        AttendanceError.UNKNOWN_CODE: _("No sign-up has this check-in code."),
        AttendanceError.WRONG_CAMPAIGN: _("This check-in code belongs to another campaign."),
        AttendanceError.NOT_CONFIRMED: _("This sign-up is not confirmed: the member cannot be checked in."),
        AttendanceError.ALREADY_CHECKED_IN: _("This member has already been checked in."),
        FormError.REQUIRED: _("This question must be answered."),
        FormError.INVALID_TYPE: _("The answer has the wrong type."),
        FormError.TOO_LONG: _("The answer is too long."),
        FormError.INVALID_CHOICE: _("The answer is not one of the options."),
        FormError.TOO_FEW_CHOICES: _("Choose more options."),
        FormError.TOO_MANY_CHOICES: _("Choose fewer options."),
        FormError.INVALID_PHONE: _("The phone number is not valid."),
        FormError.INVALID_REGION: _("The region code is not a valid GB/T 2260 code."),
        FormError.INVALID_DATE: _("The date is not valid (use YYYY-MM-DD)."),
        FormError.DATE_OUT_OF_RANGE: _("The date is outside the allowed range."),
        FormError.CONSENT_REQUIRED: _("You must agree to continue."),
        FormError.UNKNOWN_QUESTION: _("This question is not on the form."),
        FormError.DEFINITION_INVALID: _("The sign-up form definition is not valid."),
        EligibilityReason.AGE_UNKNOWN: _(
            "The campaign has an age limit and the member's birth date is unknown."
        ),
        EligibilityReason.TOO_YOUNG: _("The member is younger than the minimum age."),
        EligibilityReason.TOO_OLD: _("The member is older than the maximum age."),
        EligibilityReason.GENDER: _("The campaign is not open to the member's gender."),
        EligibilityReason.GENDER_UNKNOWN: _(
            "The campaign is limited by gender and the member's gender is unknown."
        ),
        SignupError.PREVIOUSLY_REFUSED: _(
            "The member's earlier sign-up for this campaign was rejected or not drawn; they cannot sign up again."
        ),
        EligibilityReason.REGION_UNKNOWN: _(
            "The campaign is limited by region and the member's region is unknown."
        ),
        EligibilityReason.REGION_NOT_ALLOWED: _("The campaign is not open in the member's region."),
        EligibilityReason.REGION_DENIED: _("The campaign excludes the member's region."),
        EligibilityReason.PARTICIPATION_LIMIT: _(
            "The member has reached the participation limit for this period."
        ),
        EligibilityReason.ANSWER_REQUIRED: _("An answer required to take part was not given."),
        EligibilityReason.NOT_IN_SEGMENT: _("The campaign is for members of a segment the member is not in."),
        EligibilityReason.IN_EXCLUDED_SEGMENT: _("The member is in a segment the campaign excludes."),
        EligibilityReason.NOT_MET: _("The member does not meet the campaign's conditions."),
        EligibilityReason.MIN_PAID: _("The member has not spent enough in the period the campaign asks for."),
        EligibilityReason.MIN_ORDERS: _(
            "The member has not placed enough orders in the period the campaign asks for."
        ),
        EligibilityReason.MIN_TIER: _("The campaign is for members of a higher level."),
        EligibilityReason.NOT_FIRST_ORDER: _(
            "The campaign is for new customers only, and the member has already ordered."
        ),
    }
)
