"""Rate limits hold across worker processes on the embedded default (no Redis): two granian workers
of the real server count in one shared store, so "10 a minute" is 10, not 10 per process."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.harness import BIN, MODES, REPO, Server, mode_env

pytestmark = pytest.mark.xdist_group("server")

LIMIT = 10
REQUESTS = 60


def _status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": "Bearer yy_guess_guess"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_the_failed_authentication_limit_holds_across_two_worker_processes(tmp_path):
    # given: the real server on SQLite with two worker processes, 10 failed authentications a minute
    env = mode_env(MODES["sqlite"], var_dir=str(tmp_path))
    env["YUNYING_RATE_AUTH_FAILURE_IP"] = str(LIMIT)
    subprocess.run([str(BIN / "yunying"), "migrate", "--no-input", "-v0"], env=env, cwd=REPO, check=True)
    server = Server(env, workers=2, threads=2, product=True).start()
    try:
        # when: 60 bad keys from one address, on many connections at once (both workers answer)
        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = Counter(pool.map(_status, [f"{server.url}/api/v1/campaigns"] * REQUESTS))
    finally:
        server.stop()
    # then: exactly the limit got through to a 401, whichever process counted them
    assert statuses == {401: LIMIT, 429: REQUESTS - LIMIT}
    assert (tmp_path / "ratelimit.sqlite3").stat().st_mode & 0o777 == 0o600
