"""The product's settings plus the benchmark's floor endpoints (bench/urls.py); nothing else changes —
logging included: the server logs as production does (one JSON line per request at INFO)."""

from yunying.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
