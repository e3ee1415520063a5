import os

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the product with granian (WSGI): the same server in development and production."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("YUNYING_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("YUNYING_PORT", 8000)))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("YUNYING_WORKERS", 2)))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("YUNYING_THREADS", 2)))

    def handle(self, *args, host, port, workers, threads, **options):
        from granian.constants import Interfaces
        from granian.server import Server

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
        ).serve()
