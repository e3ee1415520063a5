"""Pydantic's validation messages (English, by its own wording) in the reader's language: the API's
`errors` and the console's field messages. Only the wording changes; a message without a pattern here
is shown as pydantic wrote it."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

PATTERNS = [
    (r"Field required", _("This is required.")),
    (r"Input should be greater than or equal to (?P<n>\S+)", _("Enter %(n)s or more.")),
    (r"Input should be less than or equal to (?P<n>\S+)", _("Enter %(n)s or less.")),
    (r"Input should be greater than (?P<n>\S+)", _("Enter more than %(n)s.")),
    (r"Input should be a valid integer.*", _("Enter a whole number.")),
    (r"Input should be a valid datetime.*", _("Enter a date and time (ISO 8601).")),
    (r"Input should be a valid date.*", _("Enter a valid date.")),
    (r"String should match pattern .*", _("The format is not valid.")),
    (r"String should have at least (?P<n>\d+) characters?", _("Enter at least %(n)s characters.")),
    (r"String should have at most (?P<n>\d+) characters?", _("Enter at most %(n)s characters.")),
    (r"List should have at least (?P<n>\d+) items?.*", _("Give at least %(n)s.")),
    (r"Extra inputs are not permitted", _("This is not a known setting.")),
    (r"Value error, (?P<code>\d+) is not a GB/T 2260 code", _("%(code)s is not a GB/T 2260 region code.")),
    (r"Input should be a valid string.*", _("Enter text.")),
    (r"Input should be a valid boolean.*", _("Enter true or false.")),
    (r"Input should be a valid list.*", _("Give a list.")),
    (r"Input should be a valid dictionary.*", _("Give an object.")),
    (r"Input should be (?P<options>'.*')", _("Choose one of %(options)s.")),
    (r"Input should be a finite number", _("Enter a finite number.")),
    # Our own validators' wording (api.params):
    (r"Value error, use an ISO 8601 date or date-time text.*", _("Enter an ISO 8601 date or date-time, e.g. 2026-11-11 or 2026-11-11T20:00:00+08:00.")),
    (r"Value error, give the time with its offset.*", _("Give the time with its offset, e.g. 2026-11-11T20:00:00+08:00.")),
    (r"Value error, use an instant between the years 1900 and 2999", _("Enter a time between the years 1900 and 2999.")),
    (r"(Value error, )?value is not a valid IPv4 or IPv6 address", _("Enter an IPv4 or IPv6 address.")),
]  # fmt: skip

# A domain app's own validators' wording ("Value error, <text>"), registered from its ready().
_value_errors: dict[str, object] = {}


def value_errors_register(messages: dict[str, object]) -> None:
    _value_errors.update(messages)


def validation_message(text: str) -> str:
    """`text`, a pydantic message, in the active language when a pattern knows it."""
    plain = text.removeprefix("Value error, ")
    if plain in _value_errors:
        return str(_value_errors[plain])
    for pattern, translated in PATTERNS:
        match = re.fullmatch(pattern, text)
        if match:
            found = match.groupdict()
            if "options" in found:  # pydantic's "'a', 'b' or 'c'": the "or" is English
                found["options"] = pgettext("list separator", ", ").join(
                    f"'{option}'" for option in re.findall(r"'([^']*)'", found["options"])
                )
            return str(translated) % found
    return text
