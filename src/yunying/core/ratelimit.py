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
    # incr first: one round trip for every hit but the window's first (on a shared Redis cache each
    # round trip is on the request path).
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the window's first hit (or a racing one: add loses, incr wins)
        count = 1 if cache.add(cache_key, 1, timeout=window_seconds + 5) else cache.incr(cache_key)
    if count > limit:
        retry_after = window_seconds - int(time.time() % window_seconds)
        raise DomainError(CoreError.RATE_LIMITED, retry_after=retry_after)
