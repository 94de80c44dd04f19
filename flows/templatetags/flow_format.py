"""Human names from the flow format table (``flows/nodes.py``) for templates."""

from typing import Any

from django import template

from flows import nodes

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
