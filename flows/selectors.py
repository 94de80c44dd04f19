"""Shared reads on flows: what pages show, shaped for templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from flows import diff, nodes, structure
from flows.models import Tree, TreeQuerySet, TreeVersion

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
        return nodes.heading(self.node)


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


def node_errors(by_node: dict[str | None, list], node: dict) -> list:
    """A node's errors; an id that is not text (a list, in a row saved before the shape
    rules) has none, and must not be used as a key."""
    node_id = node.get("id")
    return by_node.get(node_id, []) if isinstance(node_id, str) else []


def node_titles(tree_type: str, data: Any) -> dict[str, str]:
    """Each node's id and heading, in document order (what links show)."""
    return {
        node_id: nodes.heading(node)
        for node_id, node in structure.node_index(tree_type, data).items()
    }


def _text(value: Any) -> str:
    # Only text is shown: str() of a hostile nested list would recurse.
    return value if isinstance(value, str) else ""


def node_links(node: dict, titles: dict[str, str], *, missing: str = "") -> list[dict[str, str]]:
    """Where a node leads: each option of a decision, or an action's next node ("Then")."""
    options = node.get("options")
    pairs = [
        (_text(option.get("label")), _text(option.get("next_node_id")))
        for option in (options if isinstance(options, list) else [])
        if isinstance(option, dict)
    ]
    target = _text(node.get("next_node_id"))
    if node.get("type") == "action" and target:
        pairs.append(("Then", target))
    return [
        {"label": label, "target": target, "title": titles.get(target, missing)}
        for label, target in pairs
    ]


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
    if not (isinstance(data, dict) and data):
        return []
    titles = node_titles(tree.tree_type, data)
    by_node = errors_by_node(list(errors))
    rows: list[OutlineRow] = []
    for visit in nodes.walk(tree.tree_type, data):
        node = visit.node
        links = node_links(node, titles, missing="missing node")
        rows.append(OutlineRow(node, visit.depth, links, node_errors(by_node, node)))
    return rows


def checklist_sections(
    tree: Tree, errors: list[structure.StructureError] = (), *, data: Any = None
) -> list[Section]:
    """Procedure steps grouped under the section header that precedes them."""
    if not tree.is_checklist:
        return []
    if data is None:
        data = tree.normalised_structure()
    by_node = errors_by_node(list(errors))
    sections = [Section(header=None)]
    for visit in nodes.walk(tree.tree_type, data):
        step = visit.node
        if step.get("type") == "section_header":
            sections.append(Section(header=step, errors=node_errors(by_node, step)))
        elif step.get("type") == "procedure_end":
            continue
        else:
            step = {**step, "errors": node_errors(by_node, step)}
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


# --- versions and diffs ---------------------------------------------------------------------


def tree_versions(tree: Tree) -> QuerySet[TreeVersion]:
    """The flow's versions, newest first, each with the number of runs made on it."""
    return (
        tree.versions.select_related("created_by")
        .defer("tree_structure", "intake_form")
        .annotate(runs=Count("sessions"))
        .order_by("-number")
    )


@dataclass(frozen=True)
class IntakeRow:
    name: str
    label: str
    type_label: str
    required: bool
    options: list[str]


def intake_rows(form: Any) -> list[IntakeRow]:
    """An intake form as a person reads it (only text is shown; broken fields are skipped)."""
    types = dict(nodes.INTAKE_TYPE_TABLE)
    rows = []
    for item in form if isinstance(form, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        options = item.get("options")
        rows.append(
            IntakeRow(
                name=item["name"],
                label=_text(item.get("label")),
                type_label=types.get(item.get("type"), "Text")
                if isinstance(item.get("type"), str)
                else "Text",
                required=item.get("required") is True,
                options=[o for o in options if isinstance(o, str)]
                if isinstance(options, list)
                else [],
            )
        )
    return rows


def tree_version_details(tree: Tree) -> QuerySet[TreeVersion]:
    """The flow's versions with everything one version's page or API answer shows."""
    return tree.versions.select_related("created_by").annotate(runs=Count("sessions"))


DRAFT = "draft"


@dataclass(frozen=True)
class Side:
    """One side of a diff: what it is called and what it holds."""

    label: str
    structure: Any
    intake_form: Any
    name: str


def tree_side(tree: Tree, which: str | int | None) -> Side:
    """One side of a diff: a version number, `draft` (the working copy, or the draft
    itself) or None/`live` (what engineers run now)."""
    if which == DRAFT:
        return Side("Working copy", tree.editing_structure, tree.editing_intake_form, tree.name)
    if which in (None, "", "live"):
        return Side("Live", tree.tree_structure, tree.intake_form, tree.name)
    try:
        number = int(which)
    except (TypeError, ValueError):
        raise ValidationError("A version is a number, 'draft' or 'live'.") from None
    version = tree.versions.filter(number=number).first()
    if version is None:
        raise ValidationError(f"This flow has no version {number}.")
    return Side(f"Version {number}", version.tree_structure, version.intake_form, version.name)


def sides_diff(tree_type: str, old: Side, new: Side) -> diff.StructureDiff:
    return diff.structure_diff(
        tree_type,
        old.structure,
        new.structure,
        name_before=old.name,
        name_after=new.name,
        intake_before=old.intake_form,
        intake_after=new.intake_form,
    )


def tree_diff(tree: Tree, before: str | int | None, after: str | int | None) -> diff.StructureDiff:
    return sides_diff(tree.tree_type, tree_side(tree, before), tree_side(tree, after))


def fork_compare(fork: Tree, *, working_copy: bool = True) -> dict[str, Any]:
    """The parent's changes since the fork (base → parent live) beside the fork's own (base →
    fork working copy, or its live version for readers who may not see unpublished edits),
    structure and intake form. Without a recorded base (forks made before versions) both
    sides are compared directly: a two-way compare."""
    parent = fork.parent_tree
    if parent is None:
        raise ValidationError("This flow has no parent to compare with.")
    mine = (
        Side("This fork", fork.editing_structure, fork.editing_intake_form, fork.name)
        if working_copy
        else Side("This fork", fork.tree_structure, fork.intake_form, fork.name)
    )
    theirs = Side("Parent", parent.tree_structure, parent.intake_form, parent.name)
    base = fork.parent_version
    if base is None:
        direct = sides_diff(fork.tree_type, theirs, mine)
        return {"three_way": False, "base": None, "parent": None, "fork": direct}
    was = Side(f"Version {base.number}", base.tree_structure, base.intake_form, base.name)
    return {
        "three_way": True,
        "base": base,
        "parent": sides_diff(fork.tree_type, was, theirs),
        "fork": sides_diff(fork.tree_type, was, mine),
    }
