"""Copy the steps of published flows into the library (SPEC §6 "Sync from published flows").

Each published flow owns one entry per syncable node, keyed on (source_tree, source_node_id).
A sync is one upsert for every row plus one UPDATE for the nodes that left the flow, so a
1,000-step flow costs the same handful of queries as a 3-step one. The upsert never names
``usage_count``, ``helpful_yes`` or ``helpful_no``: re-publishing keeps what engineers built up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from flows import structure
from flows.models import Tree
from steplibrary.models import LibraryStep, StepType, Visibility, search_text_for
from steplibrary.services import synced_search_vector

TITLE_MAX = LibraryStep._meta.get_field("title").max_length
NODE_ID_MAX = LibraryStep._meta.get_field("source_node_id").max_length

# What a re-sync rewrites; counts and creation facts are deliberately absent.
UPSERT_FIELDS = [
    "title",
    "step_type",
    "content",
    "visibility",
    "created_by",
    "account",
    "search_text",
    "search_vector",
    "is_active",
    "is_flow_synced",
    "last_synced_at",
    "updated_at",
]


@dataclass(frozen=True)
class NodeEntry:
    """A flow node as a library entry, before it has an owner or a row."""

    node_id: str
    title: str
    step_type: str
    content: dict[str, Any]
    visibility: str


def _text(node: dict, key: str) -> str:
    value = node.get(key)
    return value.strip() if isinstance(value, str) else ""


def library_commands(value: Any) -> list[dict[str, str]]:
    """Flow commands (text, or a list of {language, code, label}) in the library's shape."""
    return [
        {"label": c["label"], "command": c["code"], "command_type": c["language"]}
        for c in structure.normalise_commands(value)
    ]


def flow_visibility(tree: Tree) -> str:
    return Visibility.PUBLIC if tree.is_public else Visibility.TEAM


def _entry(
    node: dict, *, step_type: str, help_text: str, group_label: str, default_visibility: str
) -> NodeEntry | None:
    node_id = node.get("id")
    if not isinstance(node_id, str) or not node_id or len(node_id) > NODE_ID_MAX:
        return None  # publish validation forbids this; a draft read for prefill may not
    title = _text(node, "title") or node_id
    # A node may narrow its flow's visibility to Team, never widen it: a synced step is public
    # only if its flow is public (and only staff make flows public).
    override = node.get("library_visibility")
    visibility = Visibility.TEAM if override == Visibility.TEAM else None
    return NodeEntry(
        node_id=node_id,
        title=title[:TITLE_MAX],
        step_type=step_type,
        content={
            "instructions": _text(node, "description") or title,
            "help_text": help_text,
            "commands": library_commands(node.get("commands")),
            "group_label": group_label,
        },
        visibility=visibility or default_visibility,
    )


def node_entries(tree: Tree) -> Iterator[NodeEntry]:
    """Every syncable node of the flow, in document order.

    Checklists: each procedure_step is an action, grouped under the nearest preceding section
    header. Troubleshooting: actions and solutions. Section headers, ends and decisions are not
    steps anyone reuses on their own.
    """
    default_visibility = flow_visibility(tree)
    if tree.is_checklist:
        group_label = ""
        for node in structure.iter_nodes(tree.tree_type, tree.tree_structure):
            if node.get("type") == "section_header":
                group_label = _text(node, "title")
            elif node.get("type") == "procedure_step":
                entry = _entry(
                    node,
                    step_type=StepType.ACTION,
                    help_text=_text(node, "expected_outcome"),
                    group_label=group_label,
                    default_visibility=default_visibility,
                )
                if entry is not None:
                    yield entry
        return
    for node in structure.iter_nodes(tree.tree_type, tree.tree_structure):
        if node.get("type") in (StepType.ACTION, StepType.SOLUTION):
            entry = _entry(
                node,
                step_type=node["type"],
                help_text="",
                group_label="",
                default_visibility=default_visibility,
            )
            if entry is not None:
                yield entry


def node_entry(tree: Tree, node_id: str) -> NodeEntry | None:
    """One node as the library would store it (prefills "Save to library" from a flow)."""
    return next((e for e in node_entries(tree) if e.node_id == node_id), None)


def service_account_id() -> int:
    """The owner of entries whose flow has no author. One cheap query; created if missing."""
    found = (
        User.objects.filter(email=settings.SERVICE_ACCOUNT_EMAIL, is_service_account=True)
        .values_list("pk", flat=True)
        .first()
    )
    if found is not None:
        return found
    from accounts.services import service_account_ensure

    return service_account_ensure().pk


def library_rows(tree: Tree, *, now: datetime) -> list[LibraryStep]:
    """Unsaved rows, one per node; a repeated node id keeps its first occurrence (one upsert
    may not touch the same row twice on PostgreSQL)."""
    entries: dict[str, NodeEntry] = {}
    for entry in node_entries(tree):
        entries.setdefault(entry.node_id, entry)
    if not entries:
        return []
    owner_id = tree.author_id or service_account_id()
    return [
        LibraryStep(
            title=entry.title,
            step_type=entry.step_type,
            content=entry.content,
            visibility=entry.visibility,
            created_by_id=owner_id,
            account_id=tree.account_id,
            source_tree_id=tree.pk,
            source_node_id=entry.node_id,
            is_flow_synced=True,
            is_active=True,
            last_synced_at=now,
            search_text=search_text_for(entry.title, entry.content),
            search_vector=synced_search_vector(
                title=entry.title, content=entry.content, tree_id=tree.pk
            ),
            created_at=now,
            updated_at=now,
        )
        for entry in entries.values()
    ]


@transaction.atomic
def steps_sync_from_tree(*, tree: Tree) -> int:
    """Upsert the flow's entries and deactivate those whose node is gone; returns the number of
    entries the flow now has. Two statements whatever the size of the flow."""
    now = timezone.now()
    rows = library_rows(tree, now=now)
    if rows:
        LibraryStep.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["source_tree", "source_node_id"],
            update_fields=UPSERT_FIELDS,
        )
    # Every row still in the flow now carries exactly this timestamp; the rest left the flow.
    LibraryStep.objects.filter(source_tree_id=tree.pk, is_flow_synced=True, is_active=True).exclude(
        last_synced_at=now
    ).update(is_active=False, updated_at=now)
    return len(rows)


@transaction.atomic
def steps_deactivate_for_tree(*, tree: Tree) -> int:
    """Retire every synced entry of this flow (it was retired, unpublished or is being deleted).
    Hand-made entries and copies never point at a flow, so they are untouched."""
    return LibraryStep.objects.filter(
        source_tree_id=tree.pk, is_flow_synced=True, is_active=True
    ).update(is_active=False, updated_at=timezone.now())


@dataclass
class SyncAllReport:
    flows_synced: int = 0
    entries: int = 0
    flows_deactivated: int = 0
    failures: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"{self.flows_synced} published flow(s) synced ({self.entries} entries), "
            f"{self.flows_deactivated} unpublished or retired flow(s) checked"
        )
        return f"{text}; {len(self.failures)} failed" if self.failures else text


def steps_sync_all() -> SyncAllReport:
    """Re-sync every flow (for upgrades): runnable flows upsert, the others deactivate.
    Idempotent; each flow in its own transaction, so one bad flow does not stop the rest."""
    report = SyncAllReport()
    for tree in Tree.objects.order_by("pk").iterator(chunk_size=200):
        try:
            if tree.is_runnable:
                report.entries += steps_sync_from_tree(tree=tree)
                report.flows_synced += 1
            else:
                steps_deactivate_for_tree(tree=tree)
                report.flows_deactivated += 1
        except Exception as exc:  # report and carry on; the command lists the failures
            report.failures.append(f"{tree.pk} {tree.name}: {exc}")
    return report
