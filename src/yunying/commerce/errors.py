"""Order-fact codes: refusals of a whole request (OrderError) and of one field (OrderFieldError).

Codes are stable: storefronts and the import branch on them."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class OrderError(StrEnum):
    NOT_FOUND = "order.not_found"
    CONFLICT = "order.conflict"  # the same storefront order id, other content
    EVENT_CONFLICT = "order.event_conflict"  # the same refund id, other content
    LINE_NOT_FOUND = "order.line_not_found"
    OVER_REFUND = "order.over_refund"
    CANCELLED = "order.cancelled"
    NOT_CANCELLABLE = "order.not_cancellable"
    REFUND_EMPTY = "order.refund_empty"
    BEFORE_PAYMENT = "order.before_payment"  # a refund or cancellation dated before the order was paid


class OrderFieldError(StrEnum):
    """One failing field of an order (or of one import row); the field is named with the error."""

    REQUIRED = "order.field_required"
    TEXT_INVALID = "order.text_invalid"
    ID_INVALID = "order.id_invalid"
    NOT_INTEGER = "order.not_integer"
    NEGATIVE = "order.negative"
    TOO_SMALL = "order.too_small"
    TOO_LARGE = "order.too_large"
    PAID_EXCEEDS_PRICE = "order.line_paid_exceeds_price"
    LINES_REQUIRED = "order.lines_required"
    TOO_MANY_LINES = "order.too_many_lines"
    MEMBER_REQUIRED = "order.member_required"
    DATETIME_INVALID = "order.datetime_invalid"
    DATETIME_NAIVE = "order.datetime_naive"
    IN_FUTURE = "order.in_future"
    TOO_OLD = "order.too_old"
    CHANNEL_INVALID = "order.channel_invalid"
    LIST_INVALID = "order.list_invalid"


register_messages(
    {
        OrderError.NOT_FOUND: _("No order has that id."),
        OrderError.CONFLICT: _(
            "An order with this id was already recorded with other content. Orders are facts: send a "
            "refund or a cancellation instead of changing one."
        ),
        OrderError.EVENT_CONFLICT: _(
            "A refund or cancellation with this id was already recorded with other content."
        ),
        OrderError.LINE_NOT_FOUND: _("The order has no line with that number."),
        OrderError.OVER_REFUND: _("The refund is more than what is left to refund."),
        OrderError.CANCELLED: _("The order is cancelled."),
        OrderError.NOT_CANCELLABLE: _(
            "An order that was already refunded, in part or in full, cannot be cancelled: refund the rest."
        ),
        OrderError.REFUND_EMPTY: _("A refund needs an amount or a quantity above zero."),
        OrderError.BEFORE_PAYMENT: _("This happened before the order was paid: check its time."),
        OrderFieldError.REQUIRED: _("This field is required."),
        OrderFieldError.TEXT_INVALID: _("The text is empty, too long or contains control characters."),
        OrderFieldError.ID_INVALID: _(
            "An id is 1 to 64 characters: letters, digits and . _ : - (starting with a letter or a digit)."
        ),
        OrderFieldError.NOT_INTEGER: _("The value must be a whole number (amounts in fen, never decimals)."),
        OrderFieldError.NEGATIVE: _("The value must not be negative."),
        OrderFieldError.TOO_SMALL: _("The value is too small."),
        OrderFieldError.TOO_LARGE: _("The value is too large."),
        OrderFieldError.PAID_EXCEEDS_PRICE: _(
            "A line's paid amount cannot exceed its unit price times its quantity."
        ),
        OrderFieldError.LINES_REQUIRED: _("An order needs at least one line."),
        OrderFieldError.TOO_MANY_LINES: _("The order has too many lines."),
        OrderFieldError.MEMBER_REQUIRED: _("Identify the member by external id or phone."),
        OrderFieldError.DATETIME_INVALID: _("The value is not an ISO 8601 date and time."),
        OrderFieldError.DATETIME_NAIVE: _("The date and time needs a time zone offset (for example +08:00)."),
        OrderFieldError.IN_FUTURE: _("The time is in the future."),
        OrderFieldError.TOO_OLD: _("The time is before 2000-01-01."),
        OrderFieldError.CHANNEL_INVALID: _(
            "A channel is up to 20 lower-case letters, digits, _ or - (for example app, miniprogram, web)."
        ),
        OrderFieldError.LIST_INVALID: _("The value must be a list of ids."),
    }
)
