"""Liveness and readiness: /healthz touches nothing, /readyz checks the database and Redis."""

from __future__ import annotations

import os

import pytest
import redis
from django.db import OperationalError

from yunying.core import health

REAL_REDIS_URL = "redis://127.0.0.1:6379/15"
CLOSED_PORT_URL = "redis://:s3cret-password@127.0.0.1:1/0"


def test_healthz_is_ok_without_touching_the_database(client, db, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_answer_get_only(client, path):
    assert client.post(path).status_code == 405


def test_readyz_is_ready_on_the_test_database_without_redis(client, db, settings):
    # given
    settings.REDIS_URL = ""

    # when
    response = client.get("/readyz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "disabled"}}


def test_readyz_is_unavailable_when_redis_does_not_answer_and_names_no_secret(client, db, settings):
    # given
    settings.REDIS_URL = CLOSED_PORT_URL

    # when
    response = client.get("/readyz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "redis": "error"}
    assert body["errors"] == {"redis": "ConnectionError"}
    assert "s3cret" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


def test_readyz_is_unavailable_when_the_database_fails(client, db, settings, monkeypatch):
    # given: the driver's message names the host and user; none of it may reach a public answer
    settings.REDIS_URL = ""

    def broken():
        raise OperationalError('connection to server at "10.0.0.5", port 5432 failed: user "yunying"')

    monkeypatch.setattr(health, "_database", broken)

    # when
    response = client.get("/readyz")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "error", "redis": "disabled"},
        "errors": {"database": "OperationalError"},
    }


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_readyz_is_ready_against_a_real_redis(client, db, settings):
    # given
    if not _redis_answers(REAL_REDIS_URL):
        message = f"no Redis answers at {REAL_REDIS_URL}"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {message}; refusing to skip the Redis readiness check")
        pytest.skip(f"!!! SKIPPED: {message} (CI runs it) !!!")
    settings.REDIS_URL = REAL_REDIS_URL

    # when
    response = client.get("/readyz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
