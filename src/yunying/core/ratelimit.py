"""Fixed-window rate limits (S7).

Without Redis each process counts alone in its local-memory cache; with REDIS_URL the count is on
Redis and the limit holds across processes. A window is one minute.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from yunying.core.errors import CoreError, DomainError
from yunying.core.redis import redis_client


def _count_on_redis(key: str, expires: int) -> int:
    # Create-if-missing and increment in one round trip (every API call pays it): a pipeline
    # without MULTI, since SET NX followed by INCR is right in any interleaving.
    pipe = redis_client(settings.REDIS_URL).pipeline(transaction=False)
    pipe.set(key, 0, nx=True, ex=expires)
    pipe.incr(key)
    return pipe.execute()[1]


def _count_in_cache(key: str, expires: int) -> int:
    # incr first: one operation for every hit but the window's first.
    try:
        return cache.incr(key)
    except ValueError:  # the window's first hit (or a racing one: add loses, incr wins)
        return 1 if cache.add(key, 1, timeout=expires) else cache.incr(key)


def ratelimit_hit(*, scope: str, key: str, limit: int, window_seconds: int = 60) -> None:
    """Count one hit; raises core.rate_limited (with retry_after) once the window is over `limit`."""
    window = int(time.time() // window_seconds)
    counter_key = f"yunying:rl:{scope}:{key}:{window}"
    count_hit = _count_on_redis if settings.REDIS_URL else _count_in_cache
    count = count_hit(counter_key, window_seconds + 5)
    if count > limit:
        retry_after = window_seconds - int(time.time() % window_seconds)
        raise DomainError(CoreError.RATE_LIMITED, retry_after=retry_after)
