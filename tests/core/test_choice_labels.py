"""Every choice label a model declares is an English source string translated for zh-Hans: an
operator who switched the console to English read Chinese status badges while the labels were
Chinese literals."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.utils import translation

HAN = re.compile(r"[\u4e00-\u9fff]")


def _choice_fields():
    for model in apps.get_models():
        if not model.__module__.startswith("yunying."):
            continue
        for field in model._meta.get_fields():
            if getattr(field, "choices", None):
                yield pytest.param(field, id=f"{model._meta.label}.{field.name}")


@pytest.mark.parametrize("field", list(_choice_fields()))
def test_choice_labels_follow_the_language(field):
    for value, label in field.choices:
        with translation.override("en"):
            english = str(label)
        with translation.override("zh-hans"):
            chinese = str(label)
        assert not HAN.search(english), f"{value!r} is labelled {english!r} in English"
        assert HAN.search(chinese) or chinese.isascii(), f"{value!r} has no Chinese label"
