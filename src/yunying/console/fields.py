"""Form fields every console form reads numbers and times with, so each form reads them alike.

- Numbers are ASCII digits only (core.numbers; docs/breach.md): Django's IntegerField and
  DecimalField take "１２" as 12, so a full-width id added a campaign's members to a breach.
- Times and dates lie in a bounded range of years: year 1 or 9999 is a typing mistake, and one
  shifted by a time zone or a day (a window's end, "the next day") overflows the calendar: an
  OverflowError, a 500 where a field error was meant. strptime also reads full-width digits in a
  datetime-local value, so the same ASCII rule applies to times."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

# datetime-local inputs; years outside this range are typing mistakes (and overflow time zones).
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
FIRST_DAY_YEAR = 1900  # plain dates (a birth-date question's range, list filters) reach further back


def _ascii_only(value, message) -> None:
    if isinstance(value, str) and not value.isascii():
        raise forms.ValidationError(message, code="invalid")


def _year_message(first: int, last: int) -> str:
    return _("Enter a year between %(first)s and %(last)s.") % {"first": first, "last": last}


class AsciiIntegerField(forms.IntegerField):
    """A whole number typed with the digits 0-9 only."""

    def to_python(self, value):
        _ascii_only(value, _("Give the number with the digits 0-9."))
        return super().to_python(value)


class AsciiDecimalField(forms.DecimalField):
    """A decimal number typed with the digits 0-9 (and a point) only."""

    def to_python(self, value):
        _ascii_only(value, _("Give the number with the digits 0-9."))
        return super().to_python(value)


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input in the operator's time zone, years EARLIEST_YEAR to LATEST_YEAR."""

    widget = forms.DateTimeInput(format=DATETIME_FORMAT, attrs={"type": "datetime-local"})
    input_formats = [DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
    default_error_messages = {"invalid": _("Enter a date and time, for example 2026-12-24T19:30.")}

    def to_python(self, value):
        _ascii_only(value, _("Give the time with the digits 0-9."))
        if isinstance(value, str) and value.strip():
            match = re.match(r"\s*([0-9]{1,6})-", value)
            if match and not EARLIEST_YEAR <= int(match.group(1)) <= LATEST_YEAR:
                raise forms.ValidationError(_year_message(EARLIEST_YEAR, LATEST_YEAR), code="year")
        when = super().to_python(value)
        # A value given without a separator ("00010101") or as a datetime object is checked here too.
        if when is not None and not EARLIEST_YEAR <= when.year <= LATEST_YEAR:
            raise forms.ValidationError(_year_message(EARLIEST_YEAR, LATEST_YEAR), code="year")
        return when


class LocalDateField(forms.DateField):
    """A date input, years FIRST_DAY_YEAR to LATEST_YEAR; a list filter may reach to `last_year` 9998
    (the day after 9998-12-31 is still a date)."""

    widget = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    input_formats = ["%Y-%m-%d"]

    def __init__(self, *, last_year: int = LATEST_YEAR, **kwargs) -> None:
        if not FIRST_DAY_YEAR < last_year <= 9998:
            raise ValueError("last_year must leave a day after it inside the calendar")
        self.last_year = last_year
        super().__init__(**kwargs)

    def to_python(self, value):
        _ascii_only(value, _("Give the date with the digits 0-9."))
        day = super().to_python(value)
        if day is not None and not FIRST_DAY_YEAR <= day.year <= self.last_year:
            raise forms.ValidationError(_year_message(FIRST_DAY_YEAR, self.last_year), code="year")
        return day
