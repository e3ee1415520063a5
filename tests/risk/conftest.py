import pytest


@pytest.fixture(autouse=True)
def _risk_enforced(risk_enforced):
    """Every risk test runs with risk control acting on its decisions."""
