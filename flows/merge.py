"""Pull a parent's changes into a fork: a three-way merge, node by node (both flow kinds).

`base` is the parent version the fork was made from (or last pulled), `theirs` the parent's
live version now, `mine` the fork's working copy. Nodes are matched by id. Per node:

- Content (every field but `id` and `children`): changed on one side only → that side wins;
  changed identically on both → taken once; changed differently → a **conflict**.
- Existence: added on one side → kept/inserted (a parent's new node goes under the same
  parent node, after the same previous sibling, else at the end); deleted on one side and
  unchanged on the other → deleted; deleted on one side and edited on the other → a
  **conflict** (deleted-vs-edited). A deleted node's surviving children take its place.
- Place: a move on the parent's side only is applied; when both sides moved a node, the
  fork's place is kept (a place is never a conflict: the owner sees it in the diff).

Intake-form fields merge the same way, matched by their variable name: a whole field changed
on one side wins, the same change on both is taken once, different changes (or deleted on one
side and changed on the other) are conflicts with the id `intake:<name>` (node ids cannot
contain a colon). A field new in the parent goes after the same previous field, else first;
the fork's order of its fields is kept.

Conflicts are resolved per node with `theirs` (the parent's content, or its deletion), `mine`
(the fork's) or `{"edit": …}`: content the owner wrote, which `clean_edit` (the caller's, with
the editor's rules) checks and returns as the node or field to use (None when refused, which
leaves the conflict open). Without a base (forks made before versions) the merge is two-way: a node
on both sides that differs is a conflict, a node only in the parent is added, and deletions in
the parent cannot be told apart from the fork's additions, so nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flows import nodes
from flows.diff import Place, content, intake_fields, places

THEIRS, MINE, EDIT = "theirs", "mine", "edit"
RESOLUTIONS = (THEIRS, MINE)
NODE, INTAKE = "node", "intake"
INTAKE_PREFIX = "intake:"
BOTH_CHANGED = "both_changed"
DELETED_IN_PARENT = "deleted_in_parent"
DELETED_IN_FORK = "deleted_in_fork"
CONFLICT_LABELS = {
    BOTH_CHANGED: "Changed in the parent and in this fork",
    DELETED_IN_PARENT: "Deleted in the parent, edited in this fork",
    DELETED_IN_FORK: "Edited in the parent, deleted in this fork",
}


def is_edit(choice: Any) -> bool:
    """`{"edit": …}`: the owner's own merged content for a conflict."""
    return isinstance(choice, dict) and set(choice) == {EDIT}


@dataclass
class Conflict:
    id: str  # the node id, or `intake:<name>` for an intake field
    kind: str
    base: dict | None
    theirs: dict | None
    mine: dict | None
    resolution: str | None = None  # theirs | mine | edit
    scope: str = NODE
    edited: dict | None = None  # the owner's content when resolved with edit

    @property
    def key(self) -> str:
        """The node id, or the intake field's name."""
        return self.id.removeprefix(INTAKE_PREFIX) if self.scope == INTAKE else self.id

    @property
    def side(self) -> dict:
        """What an edit starts from: the fork's version, else the parent's."""
        return self.mine or self.theirs or self.base or {}

    @property
    def node_type(self) -> Any:
        return self.side.get("type")

    @property
    def heading(self) -> str:
        if self.scope == INTAKE:
            label = self.side.get("label")
            return label if isinstance(label, str) and label.strip() else self.key
        return nodes.heading(self.side)

    @property
    def label(self) -> str:
        return CONFLICT_LABELS[self.kind]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "kind": self.kind,
            "heading": self.heading,
            "theirs": self.theirs,
            "mine": self.mine,
            "resolution": self.resolution,
            "edited": self.edited,
        }


EditCleaner = Callable[[Conflict, Any], dict | None]


@dataclass
class MergeResult:
    structure: Any
    conflicts: list[Conflict] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # ids of nodes changed by the pull
    three_way: bool = True
    intake_form: Any = None  # the merged intake form (None when it was not merged)
    applied_intake: list[str] = field(default_factory=list)  # names of fields changed

    @property
    def unresolved(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.resolution is None]


class _Doc:
    """The working structure being merged, with lookups that survive edits."""

    def __init__(self, tree_type: str, data: Any) -> None:
        self.tree_type = tree_type
        self.data = nodes.copy_json(data)

    def locate(self, node_id: str) -> tuple[dict, list | None, dict | None] | None:
        for visit in nodes.walk(self.tree_type, self.data):
            if visit.node.get("id") == node_id:
                return visit.node, visit.siblings, visit.parent
        return None

    def container(self, parent_id: str | None) -> list | None:
        """The list a node with this parent lives in (steps, or the parent's children)."""
        if self.tree_type in nodes.STEP_TREE_TYPES:
            steps = self.data.setdefault("steps", []) if isinstance(self.data, dict) else None
            return steps if isinstance(steps, list) else None
        if parent_id is None:
            return None
        found = self.locate(parent_id)
        if found is None:
            return None
        return found[0].setdefault("children", [])

    def remove(self, node_id: str) -> None:
        found = self.locate(node_id)
        if found is None or found[1] is None:
            return
        node, siblings, _parent = found
        at = next(i for i, item in enumerate(siblings) if item is node)
        lifted = [c for c in node.get("children") or [] if isinstance(c, dict)]
        siblings[at : at + 1] = lifted

    def insert(self, node: dict, parent_id: str | None, after_id: str | None) -> bool:
        siblings = self.container(parent_id)
        if siblings is None:
            return False
        at = len(siblings)
        if after_id is None:
            at = 0
        else:
            for i, item in enumerate(siblings):
                if isinstance(item, dict) and item.get("id") == after_id:
                    at = i + 1
        siblings.insert(at, node)
        return True

    def set_content(self, node_id: str, new: dict) -> None:
        found = self.locate(node_id)
        if found is None:
            return
        node = found[0]
        children = node.get("children")
        node.clear()
        node["id"] = node_id
        node.update(nodes.copy_json(content(new)))
        if children is not None:
            node["children"] = children


def previous_siblings(side: dict[str, Place]) -> dict[str, str | None]:
    """Each node's previous sibling on that side (None for a first child or step)."""
    by_parent: dict[str | None, list[tuple[int, str]]] = {}
    for node_id, place in side.items():
        by_parent.setdefault(place.parent_id, []).append((place.index, node_id))
    previous: dict[str, str | None] = {}
    for children in by_parent.values():
        children.sort()
        for at, (_index, node_id) in enumerate(children):
            previous[node_id] = children[at - 1][1] if at else None
    return previous


def _bare(node: dict) -> dict:
    """A node without its children (they are merged one by one)."""
    copy = {"id": node["id"], **nodes.copy_json(content(node))}
    if "children" in node:
        copy["children"] = []
    return copy


def merge(
    tree_type: str,
    *,
    base: Any | None,
    theirs: Any,
    mine: Any,
    resolutions: dict[str, Any] | None = None,
    intake: tuple[Any, Any, Any] | None = None,
    clean_edit: EditCleaner | None = None,
) -> MergeResult:
    """`intake` is (base, theirs, mine) of the intake forms, merged alongside."""
    resolutions = resolutions or {}
    three_way = base is not None
    b = places(tree_type, base) if three_way else {}
    t, m = places(tree_type, theirs), places(tree_type, mine)
    prev_b, prev_t, prev_m = previous_siblings(b), previous_siblings(t), previous_siblings(m)
    doc = _Doc(tree_type, mine)
    result = MergeResult(doc.data, three_way=three_way)

    def decide(found: Conflict) -> str | None:
        choice = resolutions.get(found.id)
        if is_edit(choice) and clean_edit is not None:
            found.edited = clean_edit(found, choice[EDIT])
            found.resolution = EDIT if found.edited is not None else None
        else:
            found.resolution = choice if choice in RESOLUTIONS else None
        result.conflicts.append(found)
        return found.resolution

    def conflict(node_id: str, kind: str) -> str | None:
        return decide(
            Conflict(
                node_id,
                kind,
                b[node_id].node if node_id in b else None,
                t[node_id].node if node_id in t else None,
                m[node_id].node if node_id in m else None,
            )
        )

    def take(node_id: str, new: dict) -> None:
        doc.set_content(node_id, new)
        result.applied.append(node_id)

    # Content and deletions of nodes the fork still has.
    for node_id in sorted(m, key=lambda i: m[i].order):
        mine_node = m[node_id].node
        if node_id in t:
            theirs_node = t[node_id].node
            base_node = b[node_id].node if node_id in b else None
            mc, tc = content(mine_node), content(theirs_node)
            if mc == tc:
                continue
            bc = content(base_node) if base_node is not None else None
            if bc is not None and tc == bc:
                continue
            if bc is not None and mc == bc:
                take(node_id, theirs_node)
                continue
            choice = conflict(node_id, BOTH_CHANGED)
            if choice == THEIRS:
                take(node_id, theirs_node)
            elif choice == EDIT:
                take(node_id, result.conflicts[-1].edited)
        elif node_id in b:
            # Deleted in the parent: gone when the fork left it alone, else a conflict.
            choice = (
                THEIRS
                if content(mine_node) == content(b[node_id].node)
                else conflict(node_id, DELETED_IN_PARENT)
            )
            if choice == THEIRS:
                doc.remove(node_id)
                result.applied.append(node_id)
            elif choice == EDIT:
                take(node_id, result.conflicts[-1].edited)

    # Nodes the parent has and the fork does not: new in the parent, or deleted in the fork.
    for node_id in sorted(t, key=lambda i: t[i].order):
        if node_id in m:
            continue
        place = t[node_id]
        node = _bare(place.node)
        if node_id in b:
            if content(place.node) == content(b[node_id].node):
                continue  # deleted in the fork, untouched in the parent
            choice = conflict(node_id, DELETED_IN_FORK)
            if choice == EDIT:
                node = _bare({**result.conflicts[-1].edited, "id": node_id})
                if "children" in place.node:
                    node["children"] = []
            elif choice != THEIRS:
                continue
        if place.parent_id is None and tree_type not in nodes.STEP_TREE_TYPES:
            continue  # a tree's root is never inserted
        after = prev_t.get(node_id)
        if doc.insert(node, place.parent_id, after):
            result.applied.append(node_id)

    # Moves made in the parent only.
    if three_way:
        for node_id in sorted(t, key=lambda i: t[i].order):
            if node_id not in b or node_id not in m:
                continue
            was, now, ours = b[node_id], t[node_id], m[node_id]
            if now.parent_id is None and tree_type not in nodes.STEP_TREE_TYPES:
                continue  # a tree's root stays the root
            theirs_moved = now.parent_id != was.parent_id or prev_t[node_id] != prev_b[node_id]
            we_moved = ours.parent_id != was.parent_id or prev_m[node_id] != prev_b[node_id]
            if not theirs_moved or we_moved:
                continue
            found = doc.locate(node_id)
            if found is None or found[1] is None:
                continue
            node, siblings, _parent = found
            siblings.remove(node)
            if not doc.insert(node, now.parent_id, prev_t[node_id]):
                siblings.append(node)
            elif node_id not in result.applied:
                result.applied.append(node_id)

    if intake is not None:
        _merge_intake(result, *intake, three_way=three_way, decide=decide)
    return result


def _merge_intake(
    result: MergeResult,
    base: Any,
    theirs: Any,
    mine: Any,
    *,
    three_way: bool,
    decide: Callable[[Conflict], str | None],
) -> None:
    """Merge the intake forms field by field (whole fields, matched by name) into `result`."""
    b = intake_fields(base) if three_way else {}
    t, m = intake_fields(theirs), intake_fields(mine)
    merged: list = nodes.copy_json(mine) if isinstance(mine, list) else []
    result.intake_form = merged

    def at(key: str) -> int | None:
        names = [item.get("name") if isinstance(item, dict) else None for item in merged]
        return names.index(key) if key in names else None

    def conflict(key: str, kind: str) -> Conflict:
        found = Conflict(
            f"{INTAKE_PREFIX}{key}",
            kind,
            b[key][1] if key in b else None,
            t[key][1] if key in t else None,
            m[key][1] if key in m else None,
            scope=INTAKE,
        )
        decide(found)
        return found

    def put(key: str, item: dict | None) -> None:
        """Replace the field (None removes it)."""
        index = at(key)
        if index is None:
            return
        if item is None:
            merged.pop(index)
        else:
            merged[index] = nodes.copy_json(item)
        result.applied_intake.append(key)

    for key, (_position, ours) in sorted(m.items(), key=lambda pair: pair[1][0]):
        if key in t:
            parents = t[key][1]
            was = b[key][1] if key in b else None
            if ours == parents or (was is not None and parents == was):
                continue
            if was is not None and ours == was:
                put(key, parents)
                continue
            found = conflict(key, BOTH_CHANGED)
            if found.resolution in (THEIRS, EDIT):
                put(key, parents if found.resolution == THEIRS else found.edited)
        elif key in b:
            if ours == b[key][1]:
                put(key, None)
                continue
            found = conflict(key, DELETED_IN_PARENT)
            if found.resolution in (THEIRS, EDIT):
                put(key, None if found.resolution == THEIRS else found.edited)

    order = sorted(t, key=lambda k: t[k][0])
    for position, key in enumerate(order):
        if key in m:
            continue
        item = t[key][1]
        if key in b:
            if item == b[key][1]:
                continue  # deleted in the fork, untouched in the parent
            found = conflict(key, DELETED_IN_FORK)
            if found.resolution not in (THEIRS, EDIT):
                continue
            item = item if found.resolution == THEIRS else found.edited
        previous = next((at(k) for k in reversed(order[:position]) if at(k) is not None), None)
        merged.insert(0 if previous is None else previous + 1, nodes.copy_json(item))
        result.applied_intake.append(key)
