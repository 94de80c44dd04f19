import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resolutionflow.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Import the URLconf, and with it every view module, as the worker starts: Django does it
    lazily, so the first request each worker served waited about half a second for it."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the property imports)


warm_up()
