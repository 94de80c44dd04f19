"""Receivers that keep flows' search vectors current; ``flows.services`` does the work.

They only decide *whether* a flow's searchable text changed: a save naming none of its
``SEARCH_FIELDS`` (a working-copy edit, a usage count) costs nothing.
"""

from __future__ import annotations

from typing import Any

from flows import services
from flows.models import Category, Tag, Tree
from resolutionflow.search import is_postgres


def refresh_after_tree_save(
    sender: type[Tree],
    instance: Tree,
    raw: bool = False,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    if raw or (update_fields is not None and not services.SEARCH_FIELDS & update_fields):
        return
    services.trees_search_refresh(trees=Tree.objects.filter(pk=instance.pk))


def refresh_after_tags_change(
    sender: type, instance: Tree | Tag, action: str, reverse: bool, pk_set: set | None, **kwargs
) -> None:
    """Tree.tags changed from either side (tree.tags.set(...), tag.trees.add(...))."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        services.trees_search_refresh(trees=Tree.objects.filter(pk=instance.pk))
    elif pk_set:
        services.trees_search_refresh(trees=Tree.objects.filter(pk__in=pk_set))


def refresh_after_rename(
    sender: type, instance: Category | Tag, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """A category or tag renamed (the admin): its flows' vectors hold the old name."""
    if raw or created:
        return
    services.trees_search_refresh(trees=instance.trees.all())


def remember_tag_trees(sender: type[Tag], instance: Tag, **kwargs: Any) -> None:
    """pre_delete: the links vanish with the tag, without an m2m signal; note whose they were."""
    if not is_postgres():
        return
    instance._search_tree_ids = list(instance.trees.values_list("pk", flat=True))


def refresh_after_tag_delete(sender: type[Tag], instance: Tag, **kwargs: Any) -> None:
    tree_ids = getattr(instance, "_search_tree_ids", [])
    if tree_ids:
        services.trees_search_refresh(trees=Tree.objects.filter(pk__in=tree_ids))
