"""Fixed-window rate limits (S7) on both stores: the SQLite file every process shares (no Redis), and Redis."""

from __future__ import annotations

import pytest

from yunying.core.errors import DomainError
from yunying.core.ratelimit import ratelimit_hit


@pytest.fixture(params=["file", "redis"])
def store(request):
    if request.param == "redis":
        request.getfixturevalue("redis_url")  # REDIS_URL set: counts go to Redis
    return request.param


def test_the_hit_after_the_limit_is_refused_with_a_retry_time(store):
    for _ in range(3):
        ratelimit_hit(scope="t", key="k", limit=3)
    # when
    with pytest.raises(DomainError) as refused:
        ratelimit_hit(scope="t", key="k", limit=3)
    # then
    assert refused.value.code == "core.rate_limited"
    assert 0 < refused.value.data["retry_after"] <= 60


def test_each_key_and_scope_counts_alone(store):
    for _ in range(2):
        ratelimit_hit(scope="t", key="a", limit=2)
    # then: neither another key nor another scope shares the count
    ratelimit_hit(scope="t", key="b", limit=2)
    ratelimit_hit(scope="u", key="a", limit=2)
    with pytest.raises(DomainError):
        ratelimit_hit(scope="t", key="a", limit=2)


def test_on_redis_every_process_shares_the_count(redis_url):
    import redis

    ratelimit_hit(scope="t", key="shared", limit=5)
    # given: the count as another process left it, straight in Redis
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    (counter,) = client.keys("yunying:rl:t:shared:*")
    client.incrby(counter, 4)
    # then
    with pytest.raises(DomainError):
        ratelimit_hit(scope="t", key="shared", limit=5)
    assert client.ttl(counter) > 0  # the window's counter expires


@pytest.mark.django_db
def test_a_redis_that_stops_answering_leaves_the_api_up_with_limits_on_this_machine(api, settings, caplog):
    # given: Redis configured but gone (restart, failover), on a port where nothing listens
    import socket

    from tests.campaigns.factories import CampaignFactory

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    campaign = CampaignFactory(status="published", capacity=5)
    # when: the API is called, which counts every call against its key's limit
    listed = api.get("/api/v1/campaigns")
    signed = api.post_json(
        f"/api/v1/campaigns/{campaign.pk}/signups", {"member": {"phone": "13800138000"}, "channel": "h5"}
    )
    # then: served, not a 500; the lapse is logged
    assert listed.status_code == 200
    assert signed.status_code == 201, signed.content
    assert "rate limits counted on this machine only" in caplog.text
    # and the limits still hold, counted in this machine's counter file
    for _ in range(3):
        ratelimit_hit(scope="t", key="redis-gone", limit=3)
    with pytest.raises(DomainError):
        ratelimit_hit(scope="t", key="redis-gone", limit=3)


def test_processes_creating_the_counter_file_at_once_all_get_a_working_store(tmp_path):
    """Switching a new file to WAL can answer "database is locked" at once to all but one; the first
    requests of two freshly started workers met it as a 500."""
    import sqlite3
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from yunying.core.ratelimit import _file_prepare

    failures = 0
    for round_ in range(20):
        path = tmp_path / f"counter-{round_}.sqlite3"
        barrier = threading.Barrier(8)

        def prepare(_, path=path, barrier=barrier):
            connection = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
            barrier.wait(timeout=10)
            try:
                _file_prepare(connection)
                connection.execute("INSERT OR IGNORE INTO counter VALUES ('k', 1, 0)")
                return 0
            except Exception:
                return 1

        with ThreadPoolExecutor(max_workers=8) as pool:
            failures += sum(pool.map(prepare, range(8)))
    assert failures == 0


def test_an_ipv6_client_counts_by_its_64():
    from yunying.core.ratelimit import client_key

    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("203.0.113.9") != client_key("203.0.113.10")
    assert client_key("victim") == client_key("victim")  # user names are keyed as they are
