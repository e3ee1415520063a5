"""Fixtures for the HTTP tests: a client per role and campaigns in each shape admission knows."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from yunying.core.permissions import Role


@pytest.fixture
def integration(api_as):
    """The storefront's key: signs members up, reads campaigns, nothing else."""
    return api_as(Role.INTEGRATION)


@pytest.fixture
def published(db):
    """Make a published campaign open for sign-up now (h5/app, capacity 10) with overrides."""

    def make(**overrides):
        return CampaignFactory(status="published", **overrides)

    return make
