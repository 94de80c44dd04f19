"""Receivers that keep the library in step with flows. They only decide *whether* to sync;
``steplibrary.sync`` does the work.

To know what changed without re-reading the row, each ``Tree`` remembers at load (post_init)
and after every save (post_save) whether it was runnable and a fingerprint of what the entries
are made of. A save then syncs when the flow became runnable (published and active) or when a
runnable flow's fingerprint changed; it deactivates when the flow stopped being runnable.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from flows.models import Tree
from steplibrary import sync

STATE_ATTR = "_library_sync_state"
# Fields whose change can alter the entries or whether the flow has any.
TRACKED_FIELDS = {
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


@dataclass(frozen=True)
class SyncState:
    runnable: bool
    fingerprint: tuple[Any, ...] | None  # None: unknown (deferred or unreadable structure)


def sync_state(tree: Tree) -> SyncState:
    if "tree_structure" in tree.get_deferred_fields() or "status" in tree.get_deferred_fields():
        return SyncState(runnable=False, fingerprint=None)
    try:
        # A hash of the serialised structure, not a copy: cheap to keep on every loaded flow,
        # and it still notices in-place edits of the dict.
        shape = hash(json.dumps(tree.tree_structure, default=str))
    except (TypeError, ValueError, RecursionError):
        shape = None
    fingerprint = (
        (tree.tree_type, tree.is_public, tree.account_id, tree.author_id, shape)
        if shape is not None
        else None
    )
    return SyncState(runnable=tree.is_runnable, fingerprint=fingerprint)


def remember_sync_state(sender: type[Tree], instance: Tree, **kwargs: Any) -> None:
    """post_init: the state as loaded (or as constructed, for a new flow)."""
    setattr(instance, STATE_ATTR, sync_state(instance))


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
    before: SyncState | None = getattr(instance, STATE_ATTR, None)
    after = sync_state(instance)
    setattr(instance, STATE_ATTR, after)
    if update_fields is not None and not TRACKED_FIELDS & set(update_fields):
        return  # e.g. a usage counter: nothing the library cares about
    if after.runnable:
        changed = (
            created
            or before is None
            or not before.runnable
            or before.fingerprint is None
            or before.fingerprint != after.fingerprint
        )
        if changed:
            sync.steps_sync_from_tree(tree=instance)
    elif not created and (before is None or before.runnable):
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
