"""The product's settings plus the benchmark's floor endpoints (bench/urls.py); nothing else changes."""

from yunying.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
