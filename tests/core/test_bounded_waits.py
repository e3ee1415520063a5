"""Every wait is bounded (DESIGN): a request that cannot get a lock in time answers 503 core.busy with
Retry-After, never hangs and never 500s — SQLite's writer lock (threads of this process and other
processes) and PostgreSQL's lock_timeout."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from django.db import connection, connections, transaction

from tests.campaigns.factories import CampaignFactory
from tests.members.factories import mobile
from yunying.campaigns.models import Campaign, Signup

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]


def _sign_up(api, campaign, n=1):
    return api.post_json(
        f"/api/v1/campaigns/{campaign.pk}/signups", {"member": {"phone": mobile(n)}, "channel": "h5"}
    )


def _hold_lock_in_a_thread(campaign, *, for_update: bool):
    """Another request holding the database's write lock (SQLite) or the campaign row (PostgreSQL)."""
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                query = Campaign.objects.filter(pk=campaign.pk)
                if for_update:
                    list(query.select_for_update())
                else:
                    query.update(title="held")
                held.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(timeout=10)
    return release, thread


@pytest.fixture
def short_lock_wait():
    """Bound this connection's lock waits at 0.3 s (production: YUNYING_DB_LOCK_TIMEOUT, 5 s)."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        yield
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    else:
        # Both bounds: the writer queue's (transactions) and SQLite's busy timeout (autocommit writes).
        options = connection.settings_dict["OPTIONS"]
        before = options["timeout"]
        options["timeout"] = 0.3
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 300")
        yield
        options["timeout"] = before
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(before * 1000)}")


def test_a_request_that_cannot_get_the_lock_in_time_answers_busy(api, short_lock_wait):
    # given: another request holds the lock the sign-up needs
    campaign = CampaignFactory(status="published", capacity=5)
    release, thread = _hold_lock_in_a_thread(campaign, for_update=connection.vendor == "postgresql")
    try:
        # when
        started = time.monotonic()
        response = _sign_up(api, campaign)
        waited = time.monotonic() - started
    finally:
        release.set()
        thread.join()
    # then: a bounded wait, a stable code, a hint when to retry, nothing written
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "core.busy"
    assert response["Retry-After"] == "1"
    assert waited < 5
    assert not Signup.objects.exists()
    # and once the lock is free the same request goes through
    assert _sign_up(api, campaign).status_code == 201


HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


def test_sqlite_writers_in_another_process_are_waited_for_with_a_bound(api, short_lock_wait):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's writer lock")
    # given: another process (a second worker) holds the writer lock
    campaign = CampaignFactory(status="published", capacity=5)
    lock_path = f"{connection.settings_dict['NAME']}.writer-lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lock_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        # when / then: refused in bounded time
        assert _sign_up(api, campaign).status_code == 503
        # when the other process commits (releases), the next writer is woken and goes through
        holder.stdin.close()
        holder.wait(timeout=10)
        assert _sign_up(api, campaign, 2).status_code == 201
    finally:
        holder.kill()


def test_django_still_begins_sqlite_write_transactions_through_the_hooked_method():
    """The writer lock hooks a private method of Django's SQLite backend: fail loudly if an upgrade
    stops calling it, instead of silently losing the queue (and the bound)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite backend")
    from yunying.core.sqlite_backend import base

    calls = []
    original = base.base.DatabaseWrapper._start_transaction_under_autocommit

    def spy(self):
        calls.append(self.alias)
        return original(self)

    base.base.DatabaseWrapper._start_transaction_under_autocommit = spy
    try:
        with transaction.atomic():
            CampaignFactory()
    finally:
        base.base.DatabaseWrapper._start_transaction_under_autocommit = original
    assert calls == ["default"]
    assert connection._writer_lock is None  # released at commit


def test_sqlite_one_deadline_covers_the_queue_and_a_writer_outside_it(api):
    """A writer that waited in the queue must not then wait a whole busy timeout more for a writer
    outside it (the sqlite3 shell, a backup): one deadline for both."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's writer lock")
    import sqlite3

    from yunying.core.sqlite_backend.base import _lock_for

    campaign = CampaignFactory(status="published", capacity=5)
    assert api.get("/api/v1/campaigns").status_code == 200  # the key's last use is recorded now, not below
    name = str(connection.settings_dict["NAME"])
    options = connection.settings_dict["OPTIONS"]
    before = options["timeout"]
    options["timeout"] = 2.0
    connection.ensure_connection()
    connection.connection.execute("PRAGMA busy_timeout = 2000")  # as a 2 s setting would connect
    # given: a writer outside the queue holds SQLite's lock throughout
    outsider = sqlite3.connect(name, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")

    def queued_writer():  # first in the queue: waits out its busy timeout behind the outsider
        try:
            with transaction.atomic():
                Campaign.objects.filter(pk=campaign.pk).update(title="queued")
        except Exception:
            pass
        finally:
            connections.close_all()

    holder = threading.Thread(target=queued_writer)
    holder.start()
    deadline = time.monotonic() + 10
    while not _lock_for(name)._threads.locked() and time.monotonic() < deadline:
        time.sleep(0.005)  # until the queued writer holds the queue
    try:
        # when: a sign-up queues behind it
        started = time.monotonic()
        response = _sign_up(api, campaign)
        waited = time.monotonic() - started
    finally:
        holder.join()
        outsider.execute("ROLLBACK")
        outsider.close()
        options["timeout"] = before
        connection.connection.execute(f"PRAGMA busy_timeout = {int(before * 1000)}")
    # then: refused after about one timeout (2 s), not the queue's ~2 s plus a full 2 s more
    assert response.status_code == 503
    assert waited < 3.2, waited


def test_a_lost_database_connection_is_busy_not_a_bug():
    """A connection cut mid-request (a restart, a failover, a terminated backend) is 503 core.busy:
    retry. Seen on a real PostgreSQL backend terminated under the connection."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL server to cut the connection")
    import psycopg
    from django.db import DatabaseError

    from yunying.core.errors import database_busy

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(DatabaseError) as lost:
        Campaign.objects.count()
    assert database_busy(lost.value)
    connection.close()


def _admin_url() -> str:
    s = connection.settings_dict
    return (
        f"postgresql://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )


def test_a_console_page_that_cannot_get_the_lock_in_time_is_a_503_page(short_lock_wait):
    """The pages, like the API: a bounded wait that ran out is "busy, try again", never a 500."""
    from django.test import Client

    from tests.console.conftest import make_operator, sign_in
    from yunying.core.permissions import Role

    client = Client()
    sign_in(client, make_operator(Role.EXECUTION))
    campaign = CampaignFactory(status="draft", capacity=5)
    release, thread = _hold_lock_in_a_thread(campaign, for_update=connection.vendor == "postgresql")
    try:
        response = client.post(
            f"/console/campaigns/{campaign.pk}/do/delete/", {"next": "/console/campaigns/"},
            HTTP_ACCEPT_LANGUAGE="en",
        )  # fmt: skip
    finally:
        release.set()
        thread.join()
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "1"
    assert "Busy for a moment" in response.content.decode()
    assert Campaign.objects.filter(pk=campaign.pk).exists()
