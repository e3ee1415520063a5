"""Promotions codes. Stable: storefronts and the console branch on them."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class PromotionError(StrEnum):
    NOT_FOUND = "promotion.not_found"
    TERMS_INVALID = "promotion.terms_invalid"  # a field of the promotion (a field error)
    CHANGED = "promotion.changed"  # someone saved the promotion since this edit began
    INVALID_TRANSITION = "promotion.invalid_transition"  # e.g. starting an ended promotion
    NOT_A_COUPON = "promotion.not_a_coupon"  # issuing or claiming an automatic promotion
    NOT_CLAIMABLE = "promotion.not_claimable"  # a coupon members cannot claim themselves
    NOT_ACTIVE = "promotion.not_active"  # claiming or issuing a coupon of a promotion not running
    ISSUE_LIMIT_REACHED = "promotion.issue_limit_reached"  # no coupons left to hand out
    MEMBER_LIMIT_REACHED = "promotion.member_limit_reached"  # the member holds as many as allowed
    CODE_UNKNOWN = "promotion.code_unknown"  # no such coupon code
    CODE_USED = "promotion.code_used"  # the code was redeemed already
    CODES_INVALID = "promotion.codes_invalid"  # an imported code list with bad or repeated codes
    MEMBER_NOT_FOUND = "promotion.member_not_found"
    QUOTE_INVALID = "promotion.quote_invalid"  # a quote token we did not sign, or for another order
    QUOTE_EXPIRED = "promotion.quote_expired"
    QUOTE_MISMATCH = "promotion.quote_mismatch"  # the order's lines are not the quoted ones
    QUOTE_USED = "promotion.quote_used"  # another order was already priced with this quote
    COUPON_UNAVAILABLE = "promotion.coupon_unavailable"  # used, expired or withdrawn since the quote
    LIMIT_REACHED = "promotion.limit_reached"  # the promotion's use limit was reached since the quote
    BUDGET_EXHAUSTED = "promotion.budget_exhausted"  # a budget ran out since the quote
    BUDGET_INVALID = "promotion.budget_invalid"  # a budget field (a field error)
    BUDGET_NOT_FOUND = "promotion.budget_not_found"
    BUDGET_EXISTS = "promotion.budget_exists"  # a budget for that promotion, campaign or channel exists
    TOPUP_NOT_FOUND = "promotion.topup_not_found"
    TOPUP_DECIDED = "promotion.topup_decided"
    SAME_PERSON = "promotion.same_person"  # who asked for a top-up cannot approve it
    COUPON_NOT_FOUND = "promotion.coupon_not_found"
    POINTS_NOT_ON_SALE = "promotion.points_not_on_sale"  # the coupon cannot be bought with points
    SEGMENT_TOO_LARGE = "promotion.segment_too_large"  # issuing to a segment larger than one request takes


register_messages(
    {
        PromotionError.NOT_FOUND: _("No promotion has that id."),
        PromotionError.TERMS_INVALID: _("Some fields of the promotion are not valid."),
        PromotionError.CHANGED: _("Someone saved this promotion since you opened it. Reload and try again."),
        PromotionError.INVALID_TRANSITION: _("The promotion cannot go from its current state to that one."),
        PromotionError.NOT_A_COUPON: _("This promotion is not a coupon."),
        PromotionError.NOT_CLAIMABLE: _("Members cannot claim this coupon themselves."),
        PromotionError.NOT_ACTIVE: _("This promotion is not running."),
        PromotionError.ISSUE_LIMIT_REACHED: _("All coupons of this kind have been handed out."),
        PromotionError.MEMBER_LIMIT_REACHED: _("You already hold as many of these coupons as allowed."),
        PromotionError.CODE_UNKNOWN: _("That coupon code does not exist."),
        PromotionError.CODE_USED: _("That coupon code was already used."),
        PromotionError.CODES_INVALID: _("Some codes are not valid or appear twice."),
        PromotionError.MEMBER_NOT_FOUND: _("No member has that id."),
        PromotionError.QUOTE_INVALID: _("The quote is not valid for this order."),
        PromotionError.QUOTE_EXPIRED: _("The quote has expired: ask for a new one."),
        PromotionError.QUOTE_MISMATCH: _("The order's lines are not the ones quoted: ask for a new quote."),
        PromotionError.QUOTE_USED: _("This quote was already used by another order: ask for a new quote."),
        PromotionError.COUPON_UNAVAILABLE: _(
            "A coupon of the quote is no longer available: ask for a new quote."
        ),
        PromotionError.LIMIT_REACHED: _("A promotion of the quote reached its limit: ask for a new quote."),
        PromotionError.BUDGET_EXHAUSTED: _("A promotion's budget ran out: ask for a new quote."),
        PromotionError.BUDGET_INVALID: _("Some fields of the budget are not valid."),
        PromotionError.BUDGET_NOT_FOUND: _("No budget has that id."),
        PromotionError.BUDGET_EXISTS: _("There is already a budget for that."),
        PromotionError.TOPUP_NOT_FOUND: _("No top-up request has that id."),
        PromotionError.TOPUP_DECIDED: _("This top-up request was already decided."),
        PromotionError.SAME_PERSON: _("Another operator must approve your own request."),
        PromotionError.COUPON_NOT_FOUND: _("No coupon has that id."),
        PromotionError.POINTS_NOT_ON_SALE: _("This coupon cannot be exchanged for points."),
        PromotionError.SEGMENT_TOO_LARGE: _("The segment is too large to issue coupons to in one go."),
    }
)


# Why an offer did not apply to a quote (engine.Reason), as members and operators read it.
REASON_TEXT = {
    "not_in_scope": _("Nothing in the cart is covered."),
    "channel": _("Not available in this channel."),
    "tier_too_low": _("For members of a higher level."),
    "threshold_not_met": _("The cart does not reach the threshold yet."),
    "outbid": _("A better offer applies to the same items."),
    "one_per_layer": _("Only one coupon of this kind per order."),
    "excluded": _("Cannot be combined with another offer that applies."),
    "limit_reached": _("This offer has reached its limit."),
    "budget_exhausted": _("This offer's budget has run out."),
    "nothing_off": _("Nothing would be taken off."),
    "unavailable": _("This coupon is used, expired or not yours."),
}


def reason_text(reason: str) -> str:
    return str(REASON_TEXT.get(reason, reason))
