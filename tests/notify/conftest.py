"""Notify fixtures: a member to write to, and swapping a channel's provider for a test stand-in."""

from __future__ import annotations

import pytest

from tests.members.factories import MemberFactory, mobile
from tests.notify.helpers import HERE


@pytest.fixture
def member(db):
    """A member with a phone and no e-mail, in the default language."""
    return MemberFactory(phone=mobile(1))


@pytest.fixture
def use_channel(settings):
    """Point one channel name at a provider class from tests.notify.helpers."""

    def use(name: str, class_name: str) -> None:
        # A new dict: the settings fixture restores attributes, not in-place edits.
        settings.NOTIFY_CHANNELS = {**settings.NOTIFY_CHANNELS, name: f"{HERE}.{class_name}"}

    return use
