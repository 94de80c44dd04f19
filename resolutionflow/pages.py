"""Page plumbing shared by every app's list views: pagination and htmx fragments."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(request: HttpRequest, queryset: QuerySet, size: int) -> Page:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for pagination links to append `page=` to."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def is_partial(request: HttpRequest) -> bool:
    """htmx swaps a fragment; a boosted request (or a plain one) gets the whole page."""
    return bool(request.htmx and not request.htmx.boosted)
