"""The site's URLs plus views that fail on purpose, for the error-page tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from resolutionflow.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("api/boom/", boom), *urlpatterns]
