"""Small filters for the analytics and dashboard pages."""

from datetime import timedelta
from typing import Any

from django import template

from sessions.models import humanise_duration

register = template.Library()


@register.filter
def get_value(mapping: Any, key: Any) -> Any:
    """`{{ figures.outcomes|get_value:name }}`: a dict's value for a key held in a variable."""
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.filter
def duration_text(seconds: Any) -> str:
    """Seconds as "23 min" / "1 h 5 min" (under a minute: "45 s")."""
    if seconds is None or seconds == "":
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    return humanise_duration(timedelta(seconds=seconds))


@register.filter
def indent_class(depth: Any) -> str:
    """Bootstrap left padding for a tree row's depth (capped: deep trees stay readable)."""
    return f"ps-{min(int(depth or 0) + 1, 5)}"


@register.simple_tag
def health_by_node(tree: Any) -> dict[str, list[str]]:
    """`{% health_by_node tree as health %}`: each step's or node's health-flag labels (the
    editor's badges), computed once per page; drafts have no runs, so no flags."""
    from sessions.analytics import FLAG_LABELS, health_flags

    if tree is None or not getattr(tree, "is_published", False):
        return {}
    labels: dict[str, list[str]] = {}
    for flag in health_flags([tree])[tree.pk]:
        key = "flow" if flag.flag == "stale" else flag.id
        labels.setdefault(key, []).append(FLAG_LABELS[flag.flag])
    return labels
