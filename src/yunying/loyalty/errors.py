"""Loyalty codes. Stable: storefronts and the console branch on them."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class LoyaltyError(StrEnum):
    MEMBER_NOT_FOUND = "loyalty.member_not_found"
    POINTS_INVALID = "loyalty.points_invalid"  # not a whole number above zero
    INSUFFICIENT_POINTS = "loyalty.insufficient_points"
    KEY_CONFLICT = "loyalty.key_conflict"  # the same business key, another posting
    POSTING_NOT_FOUND = "loyalty.posting_not_found"
    OVER_RESTORE = "loyalty.over_restore"  # giving back more than the spend took
    OVER_REVERSE = "loyalty.over_reverse"  # taking back more than the earning gave
    RULES_OUT_OF_RANGE = "loyalty.rules_out_of_range"  # a points rule outside its bounds (a field error)
    RULES_CHANGED = "loyalty.rules_changed"  # someone saved the points rules since this edit began
    REASON_REQUIRED = "loyalty.reason_required"  # an adjustment without a reason
    ADJUSTMENT_NOT_FOUND = "loyalty.adjustment_not_found"
    ADJUSTMENT_DECIDED = "loyalty.adjustment_decided"  # approved or rejected already
    SAME_PERSON = "loyalty.same_person"  # the requester cannot approve their own adjustment
    TIERS_INVALID = "loyalty.tiers_invalid"  # a tier programme field (a field error)
    CHECKIN_CLOSED = "loyalty.checkin_closed"  # no check-in rule, or switched off
    CHECKIN_RULE_INVALID = "loyalty.checkin_rule_invalid"
    TASK_LIST_INVALID = "loyalty.task_list_invalid"
    TASK_LIST_NOT_FOUND = "loyalty.task_list_not_found"
    REFERRAL_RULE_INVALID = "loyalty.referral_rule_invalid"
    REFERRAL_NOT_FOUND = "loyalty.referral_not_found"
    REFERRAL_NOT_IN_REVIEW = "loyalty.referral_not_in_review"
    EXTENSION_INVALID = "loyalty.extension_invalid"  # a level extension outside 1..3650 days


register_messages(
    {
        LoyaltyError.MEMBER_NOT_FOUND: _("No member has that id."),
        LoyaltyError.POINTS_INVALID: _("Points must be a whole number above zero."),
        LoyaltyError.INSUFFICIENT_POINTS: _("Not enough points."),
        LoyaltyError.KEY_CONFLICT: _("This key was already used for a different points posting."),
        LoyaltyError.POSTING_NOT_FOUND: _("No points posting has that key."),
        LoyaltyError.OVER_RESTORE: _("That gives back more points than were spent."),
        LoyaltyError.OVER_REVERSE: _("That takes back more points than were earned."),
        LoyaltyError.RULES_OUT_OF_RANGE: _("This value is outside what the points rules allow."),
        LoyaltyError.RULES_CHANGED: _(
            "The points rules were changed by someone else meanwhile; reload and try again."
        ),
        LoyaltyError.REASON_REQUIRED: _("Give the reason for the adjustment."),
        LoyaltyError.ADJUSTMENT_NOT_FOUND: _("No adjustment has that id."),
        LoyaltyError.ADJUSTMENT_DECIDED: _("This adjustment was already decided."),
        LoyaltyError.SAME_PERSON: _("Another operator must approve an adjustment you requested."),
        LoyaltyError.TIERS_INVALID: _("This tier programme value is not valid."),
        LoyaltyError.CHECKIN_CLOSED: _("Check-in is not open."),
        LoyaltyError.CHECKIN_RULE_INVALID: _(
            "Check-in rewards need 1 to 60 days of whole points, grace days 0 to 7 and a cycle of 0 to 366 days."
        ),
        LoyaltyError.TASK_LIST_INVALID: _("A task list needs a name, at least one task and whole points."),
        LoyaltyError.TASK_LIST_NOT_FOUND: _("No task list has that id."),
        LoyaltyError.REFERRAL_RULE_INVALID: _(
            "Referral rewards and limits must be whole numbers of zero or more."
        ),
        LoyaltyError.REFERRAL_NOT_FOUND: _("No referral has that id."),
        LoyaltyError.REFERRAL_NOT_IN_REVIEW: _("That referral is not waiting for review."),
        LoyaltyError.EXTENSION_INVALID: _("Give the extension in days, 1 to 3650."),
    }
)


class BrokerageError(StrEnum):
    """分销 brokerage codes (loyalty.brokerage)."""

    PROMOTER_NOT_FOUND = "brokerage.promoter_not_found"
    PROMOTER_EXISTS = "brokerage.promoter_exists"  # the member is a promoter already (or applied)
    PROMOTER_INACTIVE = "brokerage.promoter_inactive"  # applied, refused or suspended
    PARTNER_NAME_REQUIRED = "brokerage.partner_name_required"
    SELF_BINDING = "brokerage.self_binding"  # a promoter following their own link
    CIRCULAR = "brokerage.circular"  # A brought B, B would bring A (or a longer loop)
    ALREADY_BOUND = "brokerage.already_bound"  # another promoter brought the member first
    LEVELS_INVALID = "brokerage.levels_invalid"  # one or two levels, never more
    RATE_INVALID = "brokerage.rate_invalid"  # permille from 0 to 1000, both levels together too
    CATEGORY_INVALID = "brokerage.category_invalid"
    APPLICATIONS_CLOSED = "brokerage.applications_closed"
    INVALID_TRANSITION = "brokerage.invalid_transition"
    STATEMENT_NOT_FOUND = "brokerage.statement_not_found"
    STATEMENT_PAID = "brokerage.statement_paid"
    REFERENCE_REQUIRED = "brokerage.reference_required"
    MONTH_NOT_CLOSED = "brokerage.month_not_closed"


register_messages(
    {
        BrokerageError.PROMOTER_NOT_FOUND: _("No promoter has that code."),
        BrokerageError.PROMOTER_EXISTS: _("This member is already a promoter or has applied."),
        BrokerageError.PROMOTER_INACTIVE: _("This promoter is not active."),
        BrokerageError.PARTNER_NAME_REQUIRED: _("Give the partner's name, or choose a member."),
        BrokerageError.SELF_BINDING: _("A promoter cannot be brought by their own link."),
        BrokerageError.CIRCULAR: _("That would make a loop of promoters bringing each other."),
        BrokerageError.ALREADY_BOUND: _("Another promoter brought this member first."),
        BrokerageError.LEVELS_INVALID: _("Commission is paid on one or two levels, never more."),
        BrokerageError.RATE_INVALID: _(
            "A commission rate is a whole number of permille from 0 to 1000, both levels together at most 1000."
        ),
        BrokerageError.CATEGORY_INVALID: _("Give a category (at most 64 characters), or * for all others."),
        BrokerageError.APPLICATIONS_CLOSED: _("Applications to become a promoter are closed."),
        BrokerageError.INVALID_TRANSITION: _("The promoter cannot change to that state now."),
        BrokerageError.STATEMENT_NOT_FOUND: _("No statement has that id."),
        BrokerageError.STATEMENT_PAID: _("This statement is already paid."),
        BrokerageError.REFERENCE_REQUIRED: _("Give the payment's reference."),
        BrokerageError.MONTH_NOT_CLOSED: _("Statements are made for months that have ended."),
    }
)
