import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunying.settings")
application = get_wsgi_application()


def _refuse_unsafe_production() -> None:
    """Served by something other than `yunying serve` (granian or gunicorn started by hand), production
    still runs the deployment checks and refuses to load on an error (DEBUG on, weak keys)."""
    from django.conf import settings
    from django.core import checks

    if settings.PRODUCTION:
        errors = [m for m in checks.run_checks(include_deployment_checks=True) if m.is_serious()]
        if errors:
            raise RuntimeError("refusing to serve: " + "; ".join(f"{m.id}: {m.msg}" for m in errors))


_refuse_unsafe_production()
