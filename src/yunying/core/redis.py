"""The process's Redis client (REDIS_URL): one connection pool shared by the seat ledger and the outbox."""

from __future__ import annotations

from functools import lru_cache

import redis


@lru_cache(maxsize=4)
def redis_client(url: str) -> redis.Redis:
    # A blocking pool: more threads than connections wait up to 5 s for one instead of failing with
    # "Too many connections" (redis-py's plain pool stops at 100).
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=200, timeout=5, decode_responses=True, socket_timeout=5, socket_connect_timeout=2
    )
    return redis.Redis(connection_pool=pool)
