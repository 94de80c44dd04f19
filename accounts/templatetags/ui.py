"""Small presentation helpers shared by every app's templates."""

import uuid
from functools import lru_cache
from typing import Any

from django import forms, template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def bootstrap_widget(field: forms.BoundField) -> SafeString:
    """Render a field's widget with Bootstrap classes, marked invalid when it has errors."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    attrs = {"class": f"{css} {widget.attrs.get('class', '')}".strip()}
    if field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-describedby"] = f"{field.id_for_label}-errors"
    return field.as_widget(attrs=attrs)


# A UUID the <uuid:…> converters accept, standing in for the real one in a reversed URL.
_MARKER = "00000000-0000-4000-8000-000000000000"


@lru_cache(maxsize=512)
def _url_around_pk(name: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    url = reverse(name, args=[_MARKER], urlconf=urlconf)
    head, marker, tail = url.partition(_MARKER)
    if not marker:
        raise NoReverseMatch(f"{name} takes no UUID argument")
    return head, tail


def pk_url(pk: Any, name: str) -> str:
    """reverse(name, args=[pk]) for a URL whose one argument is a UUID, without resolving the
    pattern every time: a list page links each of its 24 cards four to eight times, and the
    {% url %} tag was a quarter of the library page's rendering."""
    if pk is None or pk == "":
        raise NoReverseMatch(f"{name} needs a primary key")
    head, tail = _url_around_pk(name, get_script_prefix(), get_urlconf())
    return f"{head}{pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))}{tail}"


@register.filter(name="pk_url")
def pk_url_filter(pk: Any, name: str) -> str:
    """`{{ step.pk|pk_url:"steplibrary:detail" }}`: `{% url 'steplibrary:detail' step.pk %}`."""
    return pk_url(pk, name)


@lru_cache(maxsize=256)
def _plain_url(name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(name, urlconf=urlconf)


@register.filter
def named_url(name: str) -> str:
    """`{{ "steplibrary:create"|named_url }}`: `{% url 'steplibrary:create' %}`, resolved once."""
    return _plain_url(name, get_script_prefix(), get_urlconf())
