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
    CHECKIN_CLOSED = "loyalty.checkin_closed"  # no check-in rule, or switched off
    CHECKIN_RULE_INVALID = "loyalty.checkin_rule_invalid"
    TASK_LIST_INVALID = "loyalty.task_list_invalid"
    TASK_LIST_NOT_FOUND = "loyalty.task_list_not_found"
    REFERRAL_RULE_INVALID = "loyalty.referral_rule_invalid"
    REFERRAL_NOT_FOUND = "loyalty.referral_not_found"
    REFERRAL_NOT_IN_REVIEW = "loyalty.referral_not_in_review"


register_messages(
    {
        LoyaltyError.MEMBER_NOT_FOUND: _("No member has that id."),
        LoyaltyError.POINTS_INVALID: _("Points must be a whole number above zero."),
        LoyaltyError.INSUFFICIENT_POINTS: _("Not enough points."),
        LoyaltyError.KEY_CONFLICT: _("This key was already used for a different points posting."),
        LoyaltyError.POSTING_NOT_FOUND: _("No points posting has that key."),
        LoyaltyError.OVER_RESTORE: _("That gives back more points than were spent."),
        LoyaltyError.OVER_REVERSE: _("That takes back more points than were earned."),
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
    }
)
