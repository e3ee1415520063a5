"""Workers judging the same window at once raise one alert and one message (the unique EarlyWarning row);
SQLite and PostgreSQL. Threads with their own connections are released together by a Barrier."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tests.risk.test_warnings import NOW, _thresholds, current, signup  # noqa: F401 (fixture)
from yunying.core.models import Alert
from yunying.notify.models import OutboxMessage
from yunying.risk import warnings
from yunying.risk.models import EarlyWarning

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

THREADS = 6


def test_workers_at_once_raise_one_alert():
    current(15, signup)
    barrier = threading.Barrier(THREADS)

    def run():
        try:
            barrier.wait(timeout=30)
            return warnings.warnings_due(now=NOW).get("risk_warnings", 0)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(lambda _n: run(), range(THREADS)))
    assert sum(outcomes) == 1
    assert EarlyWarning.objects.count() == 1
    assert Alert.objects.filter(code=warnings.SIGNUP_SPIKE).count() == 1
    assert OutboxMessage.objects.filter(template=warnings.TEMPLATE).count() == 1
