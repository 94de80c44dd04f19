"""Human names from the flow format table (``flows/nodes.py``) for templates."""

import re
from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from flows import nodes

# The same token as flows/structure.py fills in; names are letters, digits, "_" and "-", so
# escaping never changes them.
_VAR_RE = re.compile(r"\[VAR:([A-Za-z0-9_-]+)\]")

register = template.Library()


@register.filter
def heading(node: Any) -> str:
    """What a node is called: its question, else its title, else its id."""
    return nodes.heading(node)


@register.filter
def node_label(node_type: Any) -> str:
    """ "Section header" for "section_header"."""
    return nodes.node_label(node_type)


@register.filter
def node_noun(node_type: Any) -> str:
    """ "section header" for "section_header", for use inside a sentence."""
    known = nodes.node_type(node_type)
    return known.noun if known else "node"


@register.filter
def choice_label(value: Any, field: str) -> str:
    """`{{ step.content_type|choice_label:"content_type" }}` → "Informational"."""
    return nodes.choice_label(field, value)


@register.filter
def safe_url(value: Any) -> str:
    """A link from user content, only when it is http(s); anything else (javascript:, data:…)
    gives "" so the template shows the text instead of a link."""
    return value if nodes.is_http_url(value) else ""


@register.filter
def var_chips(value: Any) -> str:
    """Text with each `[VAR:name]` shown as a readable chip (the name, marked as filled in when
    a session starts) instead of the raw token; everything else is escaped."""
    return mark_safe(  # noqa: S308 - built from escaped text and our own markup only
        _VAR_RE.sub(_chip, conditional_escape("" if value is None else str(value)))
    )


def _chip(match: re.Match[str]) -> str:
    name = match.group(1)
    return (
        f'<span class="var-chip" title="Filled in when the session starts">'
        f'<span class="visually-hidden">placeholder </span>{name}</span>'
    )
