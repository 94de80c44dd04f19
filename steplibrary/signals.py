"""Receivers that keep the library in step with flows. They only decide *whether* to sync;
``steplibrary.sync`` does the work.

The write services say what they changed by saving with ``update_fields`` (`flows.services`),
so the receiver needs no copy of the row as it was loaded: a save that names none of the fields
the entries are made of does nothing; one that names them syncs a runnable flow (published and
active) and deactivates the entries of a flow that stopped being runnable. A save without
``update_fields`` (creation, the admin's add form, the default-flow loader) may have changed
anything and is treated so.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from flows.models import Tag, Tree
from resolutionflow.search import is_postgres
from steplibrary import services, sync
from steplibrary.models import LibraryStep

# Fields whose change can alter the entries or whether the flow has any.
TRACKED_FIELDS = frozenset(
    {
        "status",
        "is_active",
        "is_public",
        "tree_type",
        "tree_structure",
        "account",
        "account_id",
        "author",
        "author_id",
    }
)
# Fields whose change can make a flow stop being runnable.
RUNNABLE_FIELDS = frozenset({"status", "is_active"})


def sync_after_tree_save(
    sender: type[Tree],
    instance: Tree,
    created: bool,
    raw: bool = False,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    """post_save: runs inside the caller's transaction, so a publish and its entries commit or
    roll back together (services save inside ``transaction.atomic``)."""
    if raw:
        return  # fixture loads: the data is what it is
    named = TRACKED_FIELDS if update_fields is None else TRACKED_FIELDS & update_fields
    if not named:
        return  # e.g. a working-copy edit or a renamed flow: nothing the library is made of
    if instance.is_runnable:
        sync.steps_sync_from_tree(tree=instance)
    elif not created and (update_fields is None or RUNNABLE_FIELDS & update_fields):
        sync.steps_deactivate_for_tree(tree=instance)


def deactivate_before_tree_delete(sender: type[Tree], instance: Tree, **kwargs: Any) -> None:
    """pre_delete: the entries must be found by their foreign key before it is set to NULL."""
    sync.steps_deactivate_for_tree(tree=instance)


def lift_sqlite_variable_limit(
    sender: type[BaseDatabaseWrapper], connection: BaseDatabaseWrapper, **kwargs: Any
) -> None:
    """connection_created: Django 5.2 assumes SQLite's historical 999 bound variables per
    statement and would split the sync's upsert into many statements. SQLite ≥ 3.32 allows
    32,766 by default; ask the connection (Django 6.0 does the same itself)."""
    if connection.vendor != "sqlite":
        return
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    if limit > connection.features.max_query_params:
        connection.features.max_query_params = limit


# --- search vectors (steplibrary.services.steps_search_refresh does the work) ---------------


def refresh_after_step_save(
    sender: type[LibraryStep],
    instance: LibraryStep,
    raw: bool = False,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    """post_save: every save that may change the text (services, admin, factories). Counters
    (``.update()``) and saves naming none of SEARCH_FIELDS cost nothing."""
    if raw or (update_fields is not None and not services.SEARCH_FIELDS & update_fields):
        return
    services.steps_search_refresh(steps=LibraryStep.objects.filter(pk=instance.pk))


def refresh_after_step_tags_change(
    sender: type, instance: LibraryStep | Tag, action: str, reverse: bool, pk_set, **kwargs: Any
) -> None:
    """LibraryStep.tags changed, from either side."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        services.steps_search_refresh(steps=LibraryStep.objects.filter(pk=instance.pk))
    elif pk_set:
        services.steps_search_refresh(steps=LibraryStep.objects.filter(pk__in=pk_set))


def refresh_after_flow_tags_change(
    sender: type, instance: Tree | Tag, action: str, reverse: bool, pk_set, **kwargs: Any
) -> None:
    """Synced entries wear their flow's tags: Tree.tags changed, so do their vectors."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    tree_ids = [instance.pk] if not reverse else list(pk_set or [])
    if tree_ids:
        services.steps_search_refresh(
            steps=LibraryStep.objects.filter(source_tree_id__in=tree_ids, is_flow_synced=True)
        )


def _steps_with_tag(tag: Tag, tree_ids: list | None = None) -> Any:
    tree_ids = tree_ids if tree_ids is not None else tag.trees.values("pk")
    return LibraryStep.objects.filter(tags=tag) | LibraryStep.objects.filter(
        source_tree_id__in=tree_ids, is_flow_synced=True
    )


def refresh_after_tag_rename(sender: type[Tag], instance: Tag, created: bool, **kwargs) -> None:
    if kwargs.get("raw") or created:
        return
    services.steps_search_refresh(steps=_steps_with_tag(instance))


def remember_tag_steps(sender: type[Tag], instance: Tag, **kwargs: Any) -> None:
    """pre_delete: a deleted tag's links vanish without an m2m signal; note whose they were."""
    if not is_postgres():
        return
    ids = _steps_with_tag(instance).values_list("pk", flat=True)
    instance._search_step_ids = list(ids)


def refresh_after_tag_delete(sender: type[Tag], instance: Tag, **kwargs: Any) -> None:
    step_ids = getattr(instance, "_search_step_ids", [])
    if step_ids:
        services.steps_search_refresh(steps=LibraryStep.objects.filter(pk__in=step_ids))
