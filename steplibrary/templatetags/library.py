"""Per-user facts about a library entry, for templates (which cannot pass arguments)."""

from typing import Any

from django import template

from steplibrary.models import LibraryStep

register = template.Library()


@register.filter
def source_visible_to(step: LibraryStep, user: Any) -> bool:
    return step.source_visible_to(user)


@register.filter
def editable_by(step: LibraryStep, user: Any) -> bool:
    return not step.is_flow_synced and step.can_be_edited_by(user)


@register.filter
def deletable_by(step: LibraryStep, user: Any) -> bool:
    return not step.is_flow_synced and step.can_be_deleted_by(user)
