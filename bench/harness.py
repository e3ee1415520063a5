"""Running the product as it runs in production, for the benchmark and the crash test.

A Server is granian (WSGI, N worker processes, persistent database connections) serving
bench.wsgi — the product's URLs plus two floor endpoints — in its own process group, so a test can
SIGKILL every process of it at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_BENCH_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


@dataclass(frozen=True)
class Mode:
    name: str
    postgres: bool
    redis: bool

    @property
    def label(self) -> str:
        return {"sqlite": "SQLite", "postgres": "PostgreSQL", "postgres+redis": "PostgreSQL + Redis"}[
            self.name
        ]


MODES = {
    m.name: m
    for m in (Mode("sqlite", False, False), Mode("postgres", True, False), Mode("postgres+redis", True, True))
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_postgres(dbname: str) -> str:
    """A fresh, empty database; returns its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{dbname}"


def mode_env(
    mode: Mode, *, var_dir: str, dbname: str = "yunying_bench", redis_url: str = REDIS_BENCH_URL
) -> dict[str, str]:
    """The environment of every process of one run: server, verifier, raw floor."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(REPO),
        YUNYING_VAR_DIR=var_dir,
        YUNYING_ALLOWED_HOSTS="127.0.0.1,localhost",
        # As production runs: one JSON log line per request at INFO, and the default rate limits (one
        # storefront key sending the whole rush is what they are sized for: docs/deploy.md).
        YUNYING_LOG_FORMAT="json",
        # Risk control judges every sign-up (its cost is in the figures) but acts on nothing: the
        # load's numbers run in sequence, which the rules rightly read as an SMS farm's phone run.
        YUNYING_RISK_ENFORCE="0",
    )
    if mode.postgres:
        env["DATABASE_URL"] = reset_postgres(dbname)
    if mode.redis:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        env["REDIS_URL"] = redis_url
    return env


class Server:
    def __init__(
        self, env: dict[str, str], *, workers: int = 2, threads: int = 2, product: bool = False
    ) -> None:
        """product=True runs `yunying serve` itself (with its start-up checks) instead of granian on
        bench.wsgi (product URLs plus the floor endpoints)."""
        self.env, self.workers, self.threads, self.product = env, workers, threads, product
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="yunying-server-", suffix=".log", delete=False)  # noqa: SIM115

    def start(self, *, timeout: float = 60) -> Server:
        if self.product:
            command = [
                str(BIN / "yunying"), "serve", "--workers", str(self.workers), "--threads", str(self.threads),
                "--port", str(self.port),
            ]  # fmt: skip
        else:
            command = [
                str(BIN / "granian"), "--interface", "wsgi", "--workers", str(self.workers),
                "--blocking-threads", str(self.threads), "--host", "127.0.0.1", "--port", str(self.port),
                "--no-access-log", "bench.wsgi:application",
            ]  # fmt: skip
        self.process = subprocess.Popen(
            command, env=self.env, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the master and every worker: a crash, not a shutdown."""
        if self.process:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


def run_load(url: str, *, loop: str = "closed", **options) -> dict:
    """Run bench.load in its own process and return its results."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    command = [sys.executable, "-m", "bench.load", loop, "--url", url, "--out", path]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    subprocess.run(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    data = json.loads(Path(path).read_text())
    os.unlink(path)
    return data


def summarize(data: dict) -> dict:
    """Throughput and latency of one load run."""
    results = data["results"]
    wall = data["wall_seconds"]
    latencies = sorted(r[0] for r in results)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0

    statuses = [r[1] for r in results]
    return {
        "requests": len(results),
        "wall_seconds": round(wall, 2),
        "per_second": round(len(results) / wall, 1),
        "accepted_per_second": round(sum(1 for s in statuses if s == 201) / wall, 1),
        "refused_per_second": round(sum(1 for s in statuses if s in (409, 422)) / wall, 1),
        "accepted": sum(1 for s in statuses if s == 201),
        "server_errors": sum(1 for s in statuses if s >= 500),
        "timeouts": sum(1 for s in statuses if s == 0),
        "mean_ms": round(sum(latencies) / len(latencies), 1) if latencies else 0.0,
        "p50_ms": round(pct(0.50), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
    }
