import pytest


@pytest.fixture(autouse=True)
def _risk_enforced(risk_enforced):
    """Every risk test runs with risk control acting on its decisions."""


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """A test that takes it runs against both velocity-counter stores."""
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    else:
        settings.REDIS_URL = ""
    return request.param
