"""Every console form reads numbers and times with the shared fields (console.fields): ASCII digits
only, and years in a bounded range. A walk over every form, so a lax field cannot come back (new-user
review: "campaign_id=１" added 167 members to a breach; "since=0001-01-01T00:00" was a 500)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from django import forms

import yunying.console
from yunying.console.fields import AsciiDecimalField, AsciiIntegerField, LocalDateField, LocalDateTimeField

# Bounded by the form itself, with a message that says more than a year range.
EXEMPT = {"yunying.console.views.risk_config.ListEntryForm.expires_on"}  # today to ten years ahead
SHARED = {  # most specific first: a DecimalField is an IntegerField
    forms.DecimalField: AsciiDecimalField,
    forms.IntegerField: AsciiIntegerField,
    forms.DateTimeField: LocalDateTimeField,
    forms.DateField: LocalDateField,
}


def _console_form_fields():
    for info in pkgutil.walk_packages(yunying.console.__path__, "yunying.console."):
        if ".migrations" in info.name or ".management" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, form in vars(module).items():
            if (
                inspect.isclass(form)
                and issubclass(form, forms.BaseForm)
                and form.__module__ == module.__name__
            ):
                for field_name, field in getattr(form, "base_fields", {}).items():
                    yield f"{module.__name__}.{name}.{field_name}", field


def test_every_console_number_and_time_field_is_a_shared_one():
    lax = []
    for path, field in _console_form_fields():
        shared = next((s for django_field, s in SHARED.items() if isinstance(field, django_field)), None)
        if shared is not None and not isinstance(field, shared) and path not in EXEMPT:
            lax.append(f"{path}: {type(field).__name__}")
    assert lax == []


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        pytest.param(AsciiIntegerField(), "１", id="full-width-integer"),
        pytest.param(AsciiIntegerField(), "٣", id="arabic-indic-integer"),
        pytest.param(AsciiDecimalField(), "１.５", id="full-width-decimal"),
        pytest.param(LocalDateTimeField(), "２０２６-０１-０１T10:00", id="full-width-time"),
        pytest.param(LocalDateTimeField(), "0001-01-01T00:00", id="year-1"),
        pytest.param(LocalDateTimeField(), "9999-12-31T23:59", id="year-9999"),
        pytest.param(LocalDateField(), "0001-01-01", id="day-year-1"),
        pytest.param(LocalDateField(), "9999-12-31", id="day-year-9999"),
    ],
)
def test_the_shared_fields_refuse_what_people_mistype(field, typed):
    with pytest.raises(forms.ValidationError):
        field.clean(typed)


@pytest.mark.parametrize(
    ("field", "typed", "read"),
    [
        pytest.param(AsciiIntegerField(), " 12 ", 12, id="integer"),
        pytest.param(LocalDateField(), "2026-01-01", "2026-01-01", id="day"),
    ],
)
def test_the_shared_fields_read_ascii_digits(field, typed, read):
    assert str(field.clean(typed)) == str(read)
