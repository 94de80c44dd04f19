"""What changed between two structures of one flow, node by node (both flow kinds).

Nodes are matched by id (ids are stable: the editors never reuse or rename them).

- **added**: the id is only in the newer structure; **removed**: only in the older one.
- **changed**: the id is in both and some field other than `id` and `children` differs;
  changed text and commands carry a word-level diff.
- **moved**: the id is in both and its place differs: a troubleshooting node now hangs under
  another parent, or (both kinds) its order among the siblings that exist on both sides
  changed. Of a reordered list, only the fewest nodes that explain the new order count as
  moved (those outside the longest common subsequence): swapping two steps moves one step,
  not every step after it; an insertion or removal moves nothing.
A node both moved and edited is reported once as `changed`, with `moved` true.

Intake-form fields are matched by their variable name (`key`): added, removed, changed (label,
type, required, options… with a word-level diff; options as one line each) and moved (their
order changed, fewest moves as for steps). A field without a usable name is skipped.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from flows import nodes

ADDED, REMOVED, MOVED, CHANGED = "added", "removed", "moved", "changed"
CHANGE_LABELS = {ADDED: "Added", REMOVED: "Removed", MOVED: "Moved", CHANGED: "Changed"}
# Not colour alone: every change has its own sign and icon.
CHANGE_SIGNS = {ADDED: "+", REMOVED: "−", MOVED: "↕", CHANGED: "✎"}
CHANGE_ICONS = {
    ADDED: "bi-plus-circle",
    REMOVED: "bi-dash-circle",
    MOVED: "bi-arrows-move",
    CHANGED: "bi-pencil",
}
STRUCTURAL_KEYS = ("id", "children")
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Place:
    node: dict
    parent_id: str | None
    index: int
    order: int  # document order


@dataclass
class Word:
    op: str  # equal | insert | delete
    text: str


@dataclass
class FieldChange:
    name: str
    before: Any
    after: Any
    words: list[Word] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()

    def as_json(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "words": [{"op": w.op, "text": w.text} for w in self.words],
        }


class Marked:
    """What a changed node or intake question shows beside it: the word, sign and icon of its
    `change` (added, removed, moved, changed)."""

    change: str

    @property
    def label(self) -> str:
        return CHANGE_LABELS[self.change]

    @property
    def sign(self) -> str:
        return CHANGE_SIGNS[self.change]

    @property
    def icon(self) -> str:
        return CHANGE_ICONS[self.change]


@dataclass
class NodeChange(Marked):
    id: str
    change: str
    before: dict | None
    after: dict | None
    fields: list[FieldChange] = field(default_factory=list)
    moved: bool = False
    before_parent: str | None = None
    after_parent: str | None = None

    @property
    def node(self) -> dict:
        return self.after if self.after is not None else self.before or {}

    @property
    def heading(self) -> str:
        return nodes.heading(self.node)

    def as_json(self) -> dict[str, Any]:
        fields = {f.name: f.as_json() for f in self.fields}
        if self.moved and self.before_parent != self.after_parent:
            fields["parent"] = {"before": self.before_parent, "after": self.after_parent}
        return {
            "id": self.id,
            "change": self.change,
            "heading": self.heading,
            "moved": self.moved,
            "fields": fields,
        }


@dataclass
class IntakeChange(Marked):
    """One intake-form field (a question asked when a run starts) that changed."""

    key: str
    change: str
    before: dict | None
    after: dict | None
    fields: list[FieldChange] = field(default_factory=list)
    moved: bool = False

    @property
    def heading(self) -> str:
        question = (self.after or self.before or {}).get("label")
        return question if isinstance(question, str) and question.strip() else self.key

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "change": self.change,
            "heading": self.heading,
            "moved": self.moved,
            "fields": {f.name: f.as_json() for f in self.fields},
        }


@dataclass
class StructureDiff:
    changes: list[NodeChange]
    name_before: str = ""
    name_after: str = ""
    intake: list[IntakeChange] = field(default_factory=list)

    @property
    def by_id(self) -> dict[str, NodeChange]:
        return {c.id: c for c in self.changes}

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.change == change)

    @property
    def counts(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in CHANGE_LABELS}

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.intake and self.name_before == self.name_after

    @property
    def intake_counts(self) -> dict[str, int]:
        return {kind: sum(1 for c in self.intake if c.change == kind) for kind in CHANGE_LABELS}

    def as_json(self) -> dict[str, Any]:
        return {
            "name": {"before": self.name_before, "after": self.name_after},
            "counts": self.counts,
            "nodes": [c.as_json() for c in self.changes],
            "intake": [c.as_json() for c in self.intake],
        }


def places(tree_type: str, data: Any) -> dict[str, Place]:
    """Every node by id with its parent and position (the first occurrence of a repeated id)."""
    found: dict[str, Place] = {}
    for order, visit in enumerate(nodes.walk(tree_type, data)):
        node_id = visit.node.get("id")
        if not isinstance(node_id, str) or node_id in found:
            continue
        parent = visit.parent.get("id") if visit.parent else None
        found[node_id] = Place(visit.node, parent, visit.index or 0, order)
    return found


def content(node: dict) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k not in STRUCTURAL_KEYS}


def as_text(value: Any) -> str:
    """A field value as readable text for the word diff (options and other lists as lines)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "\n".join(value)  # an intake choice's options, one per line
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return "\n".join(
            " → ".join(str(v) for v in item.values() if isinstance(v, str | int)) for item in value
        )
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def word_diff(before: Any, after: Any) -> list[Word]:
    """Word-level difference of two values (whitespace kept as its own tokens)."""
    old, new = _WORDS.findall(as_text(before)), _WORDS.findall(as_text(after))
    words: list[Word] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            words.append(Word("equal", "".join(old[i1:i2])))
            continue
        if op in ("delete", "replace"):
            words.append(Word("delete", "".join(old[i1:i2])))
        if op in ("insert", "replace"):
            words.append(Word("insert", "".join(new[j1:j2])))
    return words


def field_changes(before: dict, after: dict) -> list[FieldChange]:
    old, new = content(before), content(after)
    changed = []
    for name in list(old) + [k for k in new if k not in old]:
        if old.get(name) != new.get(name):
            changed.append(
                FieldChange(
                    name, old.get(name), new.get(name), word_diff(old.get(name), new.get(name))
                )
            )
    return changed


def _kept_in_order(old_order: list[str], new_order: list[str]) -> set[str]:
    """The longest common subsequence of two id orders: the nodes that did not move."""
    matcher = difflib.SequenceMatcher(a=old_order, b=new_order, autojunk=False)
    kept: set[str] = set()
    for block in matcher.get_matching_blocks():
        kept.update(old_order[block.a : block.a + block.size])
    return kept


def moved_ids(old: dict[str, Place], new: dict[str, Place]) -> set[str]:
    common = old.keys() & new.keys()
    moved = {i for i in common if old[i].parent_id != new[i].parent_id}
    # Order among siblings that stayed under the same parent and exist on both sides.
    groups: dict[str | None, tuple[list[str], list[str]]] = {}
    stayed = common - moved
    for node_id in sorted(stayed, key=lambda i: old[i].order):
        groups.setdefault(old[node_id].parent_id, ([], []))[0].append(node_id)
    for node_id in sorted(stayed, key=lambda i: new[i].order):
        groups.setdefault(new[node_id].parent_id, ([], []))[1].append(node_id)
    for old_order, new_order in groups.values():
        moved.update(set(new_order) - _kept_in_order(old_order, new_order))
    return moved


def intake_fields(form: Any) -> dict[str, tuple[int, dict]]:
    """Each intake field by its name, with its position (the first of a repeated name)."""
    found: dict[str, tuple[int, dict]] = {}
    for position, item in enumerate(form if isinstance(form, list) else []):
        key = item.get("name") if isinstance(item, dict) else None
        if isinstance(key, str) and key and key not in found:
            found[key] = (position, item)
    return found


def intake_diff(before: Any, after: Any) -> list[IntakeChange]:
    """Field-level diff of two intake forms, in the newer form's order, removed ones last."""
    old, new = intake_fields(before), intake_fields(after)
    common = old.keys() & new.keys()
    old_order = sorted(common, key=lambda k: old[k][0])
    new_order = sorted(common, key=lambda k: new[k][0])
    moved = set(new_order) - _kept_in_order(old_order, new_order)
    changes: list[IntakeChange] = []
    for key, (_position, item) in sorted(new.items(), key=lambda pair: pair[1][0]):
        if key not in old:
            changes.append(IntakeChange(key, ADDED, None, item))
            continue
        was = old[key][1]
        fields = field_changes(was, item)  # same name: only label, type, options… differ
        if fields or key in moved:
            kind = CHANGED if fields else MOVED
            changes.append(IntakeChange(key, kind, was, item, fields, moved=key in moved))
    changes += [
        IntakeChange(key, REMOVED, item, None)
        for key, (_position, item) in sorted(old.items(), key=lambda pair: pair[1][0])
        if key not in new
    ]
    return changes


def structure_diff(
    tree_type: str,
    before: Any,
    after: Any,
    *,
    name_before: str = "",
    name_after: str = "",
    intake_before: Any = None,
    intake_after: Any = None,
) -> StructureDiff:
    """Node-level diff, in the newer structure's order, removed nodes after the rest, and
    the field-level diff of the intake forms."""
    old, new = places(tree_type, before), places(tree_type, after)
    moved = moved_ids(old, new)
    changes: list[NodeChange] = []
    for node_id, place in sorted(new.items(), key=lambda item: item[1].order):
        if node_id not in old:
            changes.append(
                NodeChange(node_id, ADDED, None, place.node, after_parent=place.parent_id)
            )
            continue
        was = old[node_id]
        fields = field_changes(was.node, place.node)
        if fields or node_id in moved:
            changes.append(
                NodeChange(
                    node_id,
                    CHANGED if fields else MOVED,
                    was.node,
                    place.node,
                    fields,
                    moved=node_id in moved,
                    before_parent=was.parent_id,
                    after_parent=place.parent_id,
                )
            )
    for node_id, place in sorted(old.items(), key=lambda item: item[1].order):
        if node_id not in new:
            changes.append(
                NodeChange(node_id, REMOVED, place.node, None, before_parent=place.parent_id)
            )
    return StructureDiff(
        changes,
        name_before=name_before,
        name_after=name_after,
        intake=intake_diff(intake_before, intake_after),
    )


# --- the diagram ----------------------------------------------------------------------------

ROW, INDENT, BOX = 56, 28, 44


@dataclass
class DiffBox:
    id: str
    heading: str
    change: str  # "" = unchanged
    x: int
    y: int
    width: int
    parent_x: int | None
    parent_y: int | None

    @property
    def sign(self) -> str:
        return CHANGE_SIGNS.get(self.change, "")

    @property
    def label(self) -> str:
        return CHANGE_LABELS.get(self.change, "Unchanged")


@dataclass
class DiffDiagram:
    boxes: list[DiffBox]
    width: int
    height: int


def diff_diagram(tree_type: str, after: Any, diff: StructureDiff, width: int = 720) -> DiffDiagram:
    """The newer structure drawn one node per row (indented by depth), each box marked with
    its change; removed nodes are drawn last, under a "removed" band."""
    kinds = {c.id: c.change for c in diff.changes}
    boxes: list[DiffBox] = []
    where: dict[str, DiffBox] = {}
    for row, visit in enumerate(nodes.walk(tree_type, after)):
        node_id = str(visit.node.get("id"))
        parent = where.get(str(visit.parent.get("id"))) if visit.parent else None
        x = visit.depth * INDENT
        box = DiffBox(
            node_id,
            nodes.heading(visit.node),
            kinds.get(node_id, ""),
            x + 1,
            row * ROW + 1,
            width - x - 2,
            None if parent is None else parent.x + 12,
            None if parent is None else parent.y + BOX,
        )
        boxes.append(box)
        where.setdefault(node_id, box)
    for change in diff.changes:
        if change.change == REMOVED:
            boxes.append(
                DiffBox(
                    change.id,
                    change.heading,
                    REMOVED,
                    1,
                    len(boxes) * ROW + 1,
                    width - 2,
                    None,
                    None,
                )
            )
    return DiffDiagram(boxes, width, max(ROW, len(boxes) * ROW) + 2)
