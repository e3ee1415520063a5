"""`yunying serve` keeps serving when a worker process dies (the faults review: one SIGKILLed worker
stopped the whole server)."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("live-server")


def _workers(master: int) -> set[int]:
    children = set()
    for task in Path(f"/proc/{master}/task").iterdir():
        children |= {int(pid) for pid in (task / "children").read_text().split()}
    return children


def test_a_killed_worker_is_replaced_and_the_server_keeps_answering(tmp_path):
    from bench.harness import Server

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="yunying.settings", YUNYING_VAR_DIR=str(tmp_path), YUNYING_LOG_LEVEL="WARNING"
    )
    server = Server(env, product=True).start()
    try:
        # a fresh var dir has no collected static files: the server says so (the pages would fail)
        assert "static files are not collected" in Path(server.log.name).read_text()
        before = _workers(server.process.pid)
        assert len(before) == 2
        # when
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        # then: a new worker takes its place, and requests are answered
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _workers(server.process.pid)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.2)
        assert victim not in now and len(now) == 2
        assert server.process.poll() is None
        for _ in range(4):
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
                assert response.status == 200
    finally:
        server.stop()
