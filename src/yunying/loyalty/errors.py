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
    }
)
