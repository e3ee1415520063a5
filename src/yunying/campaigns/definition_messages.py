"""The campaign definition's messages in the reader's language. The definition is parsed by pydantic
models (campaigns.questions, campaigns.eligibility, analytics.rules) whose messages are English;
the console and the API show them translated (registered with core.validation_messages in
CampaignsConfig.ready). Only the wording changes: an unknown message is shown as written."""

from django.utils.translation import gettext_lazy as _

VALUE_ERRORS = {
    # segment rules (analytics.rules)
    "give min, max or both": _("Give a lowest value, a highest value or both."),
    "max must be at least min": _("The highest value must be at least the lowest."),
    "give since, until or both": _("Give a start, an end or both."),
    "until must be after since": _("The end must be after the start."),
    "max_age must be at least min_age": _("The maximum age must be at least the minimum age."),
    "purchase_period_days needs min_paid_fen or min_orders": _(
        "A purchase period needs an amount spent or a number of orders."
    ),
    "first_order_only excludes min_paid_fen and min_orders": _(
        "New customers only cannot be combined with an amount spent or a number of orders."
    ),
    "genders are male, female, unknown": _("Choose genders among male, female and unknown."),
    "a segment cannot be both required and excluded: nobody could sign up": _(
        "A segment cannot be both required and excluded: nobody could sign up."
    ),
    "choice questions need options": _("A choice question needs options."),
    "only choice questions have options": _("Only choice questions have options."),
    "option values must be unique": _("Each option needs its own value."),
    "min_choices is more than there are options": _("Fewest choices is more than there are options."),
    "max_choices must be at least min_choices": _("Most choices must be at least fewest choices."),
    "max_date must not be before min_date": _("The latest date must not be before the earliest date."),
    "duplicate key": _("Another question has this key."),
    "the form is a list of questions": _("The form is a list of questions."),
}
