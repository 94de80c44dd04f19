"""Per-user facts about a library entry, for templates (which cannot pass arguments), and the
library's cards, rendered once per version of what they show."""

from typing import Any

from django import template
from django.template.context import Context
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

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


# The HTML of a library card, by everything it shows: the entry's version (updated_at moves on
# every edit and sync), its counters, its category, tags and source flow, and what the viewer
# may do with it. A page of 24 cards renders in a few milliseconds once its cards were seen;
# rendering them was most of a search's cost. Per process, bounded.
CARD_VERSION = 1
CARD_MEMO_SIZE = 5_000
_card_memo: dict[tuple, str] = {}


def card_key(step: LibraryStep, user: Any, can_edit_content: bool) -> tuple:
    category = step.shown_category
    source = step.source_tree if step.is_flow_synced else None
    return (
        CARD_VERSION,
        step.pk,
        step.updated_at,
        step.title,
        step.usage_count,
        step.helpful_yes,
        step.helpful_no,
        step.is_active,
        step.visibility,
        step.step_type,
        step.is_flow_synced,
        (category.pk, category.name) if category else None,
        tuple((tag.pk, tag.name) for tag in step.shown_tags),
        (source.pk, source.name, step.source_visible_to(user)) if source else None,
        step.source_tree_id,
        step.source_node_id,
        bool(can_edit_content),
        editable_by(step, user),
        deletable_by(step, user),
    )


@register.simple_tag(takes_context=True)
def library_card(context: Context, step: LibraryStep) -> SafeString:
    """`{% library_card step %}`: steplibrary/_step_card.html for this entry and viewer."""
    user = context.get("user")
    key = card_key(step, user, context.get("can_edit_content", False))
    html = _card_memo.get(key)
    if html is None:
        if len(_card_memo) >= CARD_MEMO_SIZE:
            _card_memo.clear()
        card = get_template("steplibrary/_step_card.html")
        values = {"step": step, "user": user, "can_edit_content": key[-3]}
        html = _card_memo[key] = card.render(values)
    return mark_safe(html)  # rendered by the escaping template above
