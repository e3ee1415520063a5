import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yunying.core.checks import sealed_keys_require


def _metrics_dir_prepare() -> str:
    """Give the worker processes an empty prometheus_client multiprocess directory (core.metrics).

    Set in the environment before granian forks its workers, so they inherit it; emptied at start
    (samples of a previous run would be summed with this one's). One directory per running server."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(settings.VAR_DIR / "metrics")
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


class Command(BaseCommand):
    help = "Serve the product with granian (WSGI): the same server in development and production."
    # The system checks import the URLconf, and with it prometheus_client, which chooses its storage
    # when imported: handle() sets PROMETHEUS_MULTIPROC_DIR first, then runs them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("YUNYING_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("YUNYING_PORT", 8000)))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("YUNYING_WORKERS", 2)))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("YUNYING_THREADS", 2)))

    def handle(self, *args, host, port, workers, threads, **options):
        _metrics_dir_prepare()
        # In production also Django's deployment checks and ours (core.checks): DEBUG, weak keys.
        # Any error stops here, before a worker starts (SystemCheckError, exit status 1).
        self.check(include_deployment_checks=settings.PRODUCTION)
        # Stored values under a key the ring lacks: refuse, in any environment (the check above looks
        # at no database, so it would come up with /readyz 200 and fail on every such value).
        sealed_keys_require()
        from prometheus_client import values

        if values.ValueClass is values.MutexValue:
            raise CommandError("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set")
        from granian.constants import Interfaces
        from granian.server import Server

        _port_free_or_stop(host, port)
        if not (Path(settings.STATIC_ROOT) / "staticfiles.json").is_file():
            # The pages name their assets through the collected manifest: without it every page is a
            # 500 (two outside reviewers started the server by hand and met it). `make run` collects.
            self.stderr.write(
                "static files are not collected: every page will fail until you run "
                "`yunying collectstatic --no-input` (the API works without them)"
            )

        # WSGI, not ASGI: measured 2-4x less CPU per request, and no "database is locked" on SQLite.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunying.settings")
        self.stdout.write(
            f"serving on http://{host}:{port}/ with {workers} workers ({settings.DATABASES['default']['ENGINE']})"
        )
        Server(
            "yunying.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads,
            # A worker that dies (killed for memory, a crash in a C extension) is replaced; by default
            # granian stopped the whole server when one worker exited.
            respawn_failed_workers=True,
            respawn_interval=1.0,
        ).serve()


def _port_free_or_stop(host: str, port: int) -> None:
    """granian binds with SO_REUSEPORT, so a second server on a taken port would start and the
    kernel would split requests between two instances (and their databases): refuse instead."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR: a port whose last server just stopped (TIME_WAIT) is free to take again.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"{host}:{port} is already in use ({exc.strerror}); choose --port or YUNYING_PORT"
            ) from exc
