"""Shared fixtures: actors with each role, API clients, a campaign open for sign-up."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from yunying.core.apikeys import apikey_create
from yunying.core.permissions import Actor, Role


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _rushes_one_at_a_time(request, tmp_path_factory):
    """Tests marked xdist_group("rush") open up to 200 connections each; two at once on two xdist
    workers pass PostgreSQL's max_connections (400 in CI). The group should keep them on one worker,
    but a file lock makes sure, whatever the scheduler does."""
    if not any(m.args[:1] == ("rush",) for m in request.node.iter_markers("xdist_group")):
        yield
        return
    import fcntl

    lock_path = tmp_path_factory.getbasetemp().parent / "yunying-rush.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache or the shared counter file (ids repeat across tests), and
    event coupon templates in a process cache: every test starts without."""
    from yunying.core.ratelimit import ratelimit_reset
    from yunying.promotions.event_templates import event_templates_forget

    cache.clear()
    ratelimit_reset()
    # per-process for 5 s: a coupon template a rolled-back test made would haunt the next one
    event_templates_forget()
    yield
    cache.clear()
    ratelimit_reset()


class _WindowAlignedClock:
    """The rate limits' clock in a test: real time, shifted so the test starts one second into a day
    (and so into an hour and a minute). Limits count in fixed windows; on the real clock a test that
    happened to straddle a minute's end saw its count start again (CI: twelve guessed check-in codes
    all answered "unknown", and the right one after them was accepted)."""

    def __init__(self):
        import time

        self._real = time
        started = time.time()
        self._shift = (int(started) // 86400) * 86400 + 1 - started

    def time(self) -> float:
        return self._real.time() + self._shift

    def __getattr__(self, name):  # monotonic, sleep: the real ones
        return getattr(self._real, name)


@pytest.fixture(autouse=True)
def _rate_limit_windows_start_with_the_test():
    from unittest import mock

    from yunying.core import ratelimit

    with mock.patch.object(ratelimit, "time", _WindowAlignedClock()):
        yield


@pytest.fixture
def notify_dir(settings, tmp_path):
    settings.NOTIFY_FILE_DIR = tmp_path / "outbox"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings.NOTIFY_FILE_DIR


@pytest.fixture
def admin_client(db, admin_user):
    """The Django admin signed in past its second factor (django-otp's OTPAdminSite asks for one)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=admin_user, name="test", confirmed=True)
    client = Client()
    client.force_login(admin_user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def operator() -> Actor:
    return Actor(kind="api_key", id=1, label="test operator", role=Role.STRATEGY)


class ApiClient(Client):
    """A test client that speaks JSON and carries an API key."""

    def __init__(self, token: str | None, **defaults):
        if token:
            defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        super().__init__(**defaults)

    def post_json(self, path, data=None, **extra):
        body = data if isinstance(data, str | bytes) else json.dumps(data if data is not None else {})
        return self.post(path, body, content_type="application/json", **extra)

    def patch_json(self, path, data, **extra):
        return self.patch(path, json.dumps(data), content_type="application/json", **extra)


def held_key(owner: str, role: Role, name: str = ""):
    """An API key held by `owner`, an active console user (made when missing): a key speaks for its
    holder, and a key whose holder is disabled or gone is refused. (key, token)."""
    from django.contrib.auth import get_user_model

    if owner:
        get_user_model().objects.get_or_create(username=owner)
    return apikey_create(name=name or f"{owner or 'anon'} key", role=role, owner=owner)


def _client_for(role: Role) -> ApiClient:
    # held by somebody, as console-made keys are: the two-person rule refuses unowned requesters
    _, token = held_key(f"{role}-key-holder", role, name=f"{role} test key")
    return ApiClient(token)


@pytest.fixture
def api(db) -> ApiClient:
    """A client with the strategy role (may do everything)."""
    return _client_for(Role.STRATEGY)


@pytest.fixture
def api_as(db):
    return _client_for


@pytest.fixture
def open_campaign(db):
    """A published first-come campaign open for sign-up on the h5 and app channels."""
    return CampaignFactory(status="published")


def window(**kwargs):
    """Sign-up window open now, event tomorrow; override any of the four instants."""
    now = timezone.now()
    values = {
        "signup_start_at": now - timedelta(hours=1),
        "signup_end_at": now + timedelta(days=1),
        "event_start_at": now + timedelta(days=2),
        "event_end_at": now + timedelta(days=2, hours=3),
    }
    values.update(kwargs)
    return values


@pytest.fixture
def redis_url(settings, worker_id):
    """Switch the seat ledger and the task queue (not the cache) to a real Redis, one database per
    xdist worker, flushed around the test. Skips loudly without a server, except in CI where that is
    a failure."""
    import os

    import django_tasks.signals  # noqa: F401 - connects the receiver that re-reads TASKS when it changes
    import redis

    from yunying.settings import task_queue_settings

    # YUNYING_TEST_REDIS_BASE lets two checkouts run their suites at once on one Redis.
    base = int(os.environ.get("YUNYING_TEST_REDIS_BASE", 1))
    index = base + (int(worker_id[2:]) if worker_id.startswith("gw") else 0)
    url = f"redis://127.0.0.1:6379/{index}"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("CI: Redis at 127.0.0.1:6379 is not answering; its tests must not be skipped")
        pytest.skip("!!! SKIPPED: no Redis at 127.0.0.1:6379 (CI runs these) !!!")
    client.flushdb()
    settings.REDIS_URL = url
    for name, value in task_queue_settings(url).items():
        setattr(settings, name, value)
    yield url
    client.flushdb()


@dataclass(frozen=True)
class LiveServer:
    url: str
    token: str  # an API key with the strategy role


@pytest.fixture(scope="session")
def yunying_server(tmp_path_factory):
    """The shipped server (`yunying serve`, granian, 2 workers) on a free port, with its own var dir
    and SQLite database, migrated, and a strategy key. Modules using it share one xdist group, so one
    server serves them all."""
    import subprocess

    from bench.harness import BIN, REPO, Server

    var_dir = tmp_path_factory.mktemp("live-server")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="yunying.settings",
        YUNYING_VAR_DIR=str(var_dir),
        YUNYING_LOG_LEVEL="WARNING",
        # schemathesis sends thousands of requests, many without a valid key, from one address
        YUNYING_RATE_API_KEY="1000000000",
        YUNYING_RATE_AUTH_FAILURE_IP="1000000000",
        YUNYING_RATE_SIGNUP_IP="1000000000",
        YUNYING_RATE_SIGNUP_MEMBER="1000000000",
        YUNYING_RATE_SIGNUP_REFUSALS_KEY="1000000000",
        YUNYING_RATE_PII_REVEAL_HOUR="1000000000",
    )
    yunying = str(BIN / "yunying")
    subprocess.run([yunying, "migrate", "--no-input", "-v0"], env=env, cwd=REPO, check=True)
    token = subprocess.run(
        [yunying, "apikey", "create", "--role", "strategy", "--name", "live"],
        env=env, cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    server = Server(env, product=True).start()
    try:
        yield LiveServer(server.url, token)
    finally:
        server.stop()


@pytest.fixture
def risk_enforced(settings):
    """Risk control acts on its decisions (tests/settings.py has it observe elsewhere)."""
    settings.RISK_ENFORCE = True
