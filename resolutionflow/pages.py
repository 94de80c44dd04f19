"""Page plumbing shared by every app: pagination, htmx fragments, read-only JSON."""

import json
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django_htmx.http import trigger_client_event


def paginate(request: HttpRequest, queryset: QuerySet, size: int) -> Page:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


class CappedPaginator(Paginator):
    """Counts up to `limit` + 1 rows: a library of 50,000 entries need not be counted to the
    last one on every page view to say "1,000+" (pages beyond the limit are not offered)."""

    def __init__(self, object_list: Any, per_page: int, limit: int | None = None) -> None:
        from resolutionflow import search

        super().__init__(object_list, per_page)
        self.limit = search.RANK_LIMIT if limit is None else limit

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return self.object_list.order_by().values("pk")[: self.limit + 1].count()
        return min(super().count, self.limit + 1)  # RankedResults caps its own count

    @property
    def count_label(self) -> str:
        """What a page shows: the count, or "1,000+" past the limit."""
        return f"{self.limit:,}+" if self.count > self.limit else f"{self.count:,}"


def paginate_capped(request: HttpRequest, results: Any, size: int) -> Page:
    return CappedPaginator(results, size).get_page(request.GET.get("page"))


def is_partial(request: HttpRequest) -> bool:
    """htmx swaps a fragment; a boosted request (or a plain one) gets the whole page."""
    return bool(request.htmx and not request.htmx.boosted)


def pretty_json(value: object) -> str:
    """JSON shown read-only in the admin: indented, escaped, scrolling when long."""
    return format_html(
        '<pre class="json-readonly">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False),
    )


def with_toast(response: HttpResponse, message: str, level: str = "danger") -> HttpResponse:
    """Show `message` in a toast once htmx has the response (base.html listens for rf:toast)."""
    return trigger_client_event(response, "rf:toast", {"message": message, "level": level})


def refusal_text(refused: Exception) -> str:
    """One line for a toast or a message, from a service refusal or a validation error."""
    if isinstance(refused, ValidationError):
        return "; ".join(refused.messages)
    return str(refused)
