"""Security alerts: a log line with a stable event name, a counter, and an append-only row."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from yunying.core.alerts import EVENT, alert_list, alert_raise
from yunying.core.models import Alert


def _count(code: str) -> float:
    return REGISTRY.get_sample_value("yunying_alerts_total", {"code": code}) or 0.0


def test_an_alert_is_logged_counted_and_stored(db, caplog):
    # given
    before = _count("test.burst")
    # when
    with caplog.at_level(logging.WARNING, logger="yunying.security"):
        alert = alert_raise("test.burst", api_key_id=7, refusals=31)
    # then
    record = next(r for r in caplog.records if r.name == "yunying.security")
    assert record.levelno == logging.WARNING
    assert (record.event, record.alert_code, record.alert) == (
        EVENT,
        "test.burst",
        {"api_key_id": 7, "refusals": 31},
    )
    assert _count("test.burst") == before + 1
    stored = Alert.objects.get(pk=alert.pk)
    assert (stored.code, stored.data) == ("test.burst", {"api_key_id": 7, "refusals": 31})
    assert list(alert_list(code="test.burst")) == [stored]


def test_alert_rows_cannot_be_changed_or_deleted(db):
    # given
    from django.db import DatabaseError, transaction

    alert = alert_raise("test.tamper", n=1)
    # when / then: the database itself refuses
    for change in (
        lambda: Alert.objects.filter(pk=alert.pk).update(code="x"),
        lambda: Alert.objects.all().delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert Alert.objects.get(pk=alert.pk).code == "test.tamper"
