"""Shared reads on flows: what pages show, shaped for templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.models import User
from flows import structure
from flows.models import Tree, TreeQuerySet

# The export document: bump the version when a field changes meaning; the importer refuses
# versions it does not know rather than guessing.
EXPORT_FORMAT = "resolutionflow.flow"
EXPORT_VERSION = 1


def trees_of_own_account(*, user: User) -> TreeQuerySet:
    """My flows: the account's flows (drafts included for engineers+); staff without an
    account manage the official content."""
    queryset = Tree.objects.for_user(user)
    if user.account_id is None:
        return queryset.filter(account__isnull=True) if user.is_staff else queryset.none()
    return queryset.filter(account_id=user.account_id)


@dataclass
class OutlineRow:
    node: dict[str, Any]
    depth: int
    links: list[dict[str, str]] = field(default_factory=list)
    errors: list[structure.StructureError] = field(default_factory=list)

    @property
    def heading(self) -> str:
        node = self.node
        return str(node.get("question") or node.get("title") or node.get("id") or "(untitled)")


@dataclass
class Section:
    header: dict[str, Any] | None
    steps: list[dict[str, Any]] = field(default_factory=list)
    errors: list[structure.StructureError] = field(default_factory=list)


def errors_by_node(errors: list[structure.StructureError]) -> dict[str | None, list]:
    grouped: dict[str | None, list] = {}
    for error in errors:
        grouped.setdefault(error.node_id, []).append(error)
    return grouped


def tree_outline(
    tree: Tree, errors: list[structure.StructureError] = (), *, data: Any = None
) -> list[OutlineRow]:
    """A troubleshooting tree flattened depth-first, each row knowing where its options lead.

    Flat rows (not a recursive template) keep rendering safe on deeply nested drafts.
    `data` renders another version of the structure (the editor's working copy)."""
    if tree.is_checklist:
        return []
    if data is None:
        data = tree.normalised_structure()
    titles = {
        node_id: node.get("title") or node.get("question") or node_id
        for node_id, node in structure.node_index(tree.tree_type, data).items()
    }
    by_node = errors_by_node(list(errors))
    rows: list[OutlineRow] = []
    stack: list[tuple[Any, int]] = [(data, 0)] if isinstance(data, dict) and data else []
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        links = [
            {
                "label": str(option.get("label", "")),
                "target": str(option.get("next_node_id", "")),
                "title": titles.get(option.get("next_node_id"), "missing node"),
            }
            for option in node.get("options", []) or []
            if isinstance(option, dict)
        ]
        if node.get("type") == "action" and node.get("next_node_id"):
            target = node["next_node_id"]
            links.append({"label": "Then", "target": target, "title": titles.get(target, "")})
        rows.append(OutlineRow(node, depth, links, by_node.get(node.get("id"), [])))
        children = node.get("children") or []
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in reversed(children))
    return rows


def checklist_sections(
    tree: Tree, errors: list[structure.StructureError] = (), *, data: Any = None
) -> list[Section]:
    """Procedure steps grouped under the section header that precedes them."""
    if not tree.is_checklist:
        return []
    if data is None:
        data = tree.normalised_structure()
    steps = data.get("steps", []) if isinstance(data, dict) else []
    by_node = errors_by_node(list(errors))
    sections = [Section(header=None)]
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        if step.get("type") == "section_header":
            sections.append(Section(header=step, errors=by_node.get(step.get("id"), [])))
        elif step.get("type") == "procedure_end":
            continue
        else:
            step = {**step, "errors": by_node.get(step.get("id"), [])}
            sections[-1].steps.append(step)
    return [s for s in sections if s.header is not None or s.steps]


def tree_export(tree: Tree) -> dict[str, Any]:
    """A flow as a versioned JSON document that `services.tree_import` reads back.

    The live version is exported: a published flow's unpublished edits are not."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "name": tree.name,
        "description": tree.description,
        "tree_type": tree.tree_type,
        "category": tree.category.name if tree.category else "",
        "tags": [tag.name for tag in tree.tags.all()],
        "tree_structure": tree.tree_structure,
        "intake_form": tree.intake_form,
    }
