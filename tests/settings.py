"""Test settings: fixed, test-only keys (never used anywhere else) and a var dir of its own."""

import os
from pathlib import Path

os.environ.setdefault("YUNYING_SECRET_KEY", "test-only-secret-key-not-used-anywhere-else")
os.environ.setdefault("YUNYING_PII_KEYS", "t2:dGVzdC1vbmx5LXBpaS1rZXktdHdv,t1:dGVzdC1vbmx5LXBpaS1rZXktb25l")
os.environ.setdefault("YUNYING_BLIND_INDEX_KEY", "test-only-blind-index-key")
os.environ.setdefault("YUNYING_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from yunying.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation in tests
# No collectstatic in tests: plain storage, so pages render without a manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# One rate-limit file per xdist worker: parallel tests never share counts.
RATELIMIT_PATH = VAR_DIR / f"ratelimit-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.sqlite3"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Risk control observes in the suite at large (its many sign-ups of consecutive test numbers from one
# client would be a phone run); the risk tests, the risk pages and the risk API enforce (risk_enforced).
RISK_ENFORCE = False
