"""Error pages (handler400/403/404/500): the site's layout and navigation, in plain words.

API paths answer JSON like the rest of the API; htmx requests get only the sentence that says
what happened (`<p data-rf-reason>`), which app.js shows as a toast instead of swapping a page in.
The 500 page is rendered without the request: no context processor, no user, no database.
"""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

DEFAULT_403 = "You do not have permission to do that."
logger = logging.getLogger(__name__)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request that swaps a part of the page (a boosted one wants a whole page)."""
    headers = request.headers
    return headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"


def error_page(
    request: HttpRequest, template: str, status: int, context: dict | None = None
) -> HttpResponse:
    name = f"{template}#reason" if wants_fragment(request) else template
    return render(request, name, context or {}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    try:
        return error_page(request, "400.html", 400)
    except Exception:  # a request broken enough to be refused may not render with context
        logger.exception("The 400 page could not use the request.")
        return HttpResponse(loader.get_template("400.html").render(), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception or "") or DEFAULT_403
    if is_api(request):
        return JsonResponse({"detail": reason}, status=403)
    return error_page(request, "403.html", 403, {"reason": reason})


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return error_page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    template = "500.html#reason" if wants_fragment(request) else "500.html"
    return HttpResponse(loader.get_template(template).render(), status=500)
