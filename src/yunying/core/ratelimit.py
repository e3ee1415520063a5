"""Fixed-window rate limits on Django's cache (S7).

With the default local-memory cache each process counts alone; with a shared cache (Redis) the
limit holds across processes. A window is one minute.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from yunying.core.errors import CoreError, DomainError


def ratelimit_hit(*, scope: str, key: str, limit: int, window_seconds: int = 60) -> None:
    """Count one hit; raises core.rate_limited (with retry_after) once the window is over `limit`."""
    window = int(time.time() // window_seconds)
    cache_key = f"rl:{scope}:{key}:{window}"
    if cache.add(cache_key, 1, timeout=window_seconds + 5):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window_seconds + 5)
            count = 1
    if count > limit:
        retry_after = window_seconds - int(time.time() % window_seconds)
        raise DomainError(CoreError.RATE_LIMITED, retry_after=retry_after)
