"""Page plumbing shared by every app: pagination, htmx fragments, read-only JSON."""

import json

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django_htmx.http import trigger_client_event


def paginate(request: HttpRequest, queryset: QuerySet, size: int) -> Page:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


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
