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

Conflicts are resolved per node with `theirs` (the parent's content, or its deletion) or
`mine` (the fork's). Without a base (forks made before versions) the merge is two-way: a node
on both sides that differs is a conflict, a node only in the parent is added, and deletions in
the parent cannot be told apart from the fork's additions, so nothing is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows import nodes
from flows.diff import Place, content, places

THEIRS, MINE = "theirs", "mine"
RESOLUTIONS = (THEIRS, MINE)
BOTH_CHANGED = "both_changed"
DELETED_IN_PARENT = "deleted_in_parent"
DELETED_IN_FORK = "deleted_in_fork"
CONFLICT_LABELS = {
    BOTH_CHANGED: "Changed in the parent and in this fork",
    DELETED_IN_PARENT: "Deleted in the parent, edited in this fork",
    DELETED_IN_FORK: "Edited in the parent, deleted in this fork",
}


@dataclass
class Conflict:
    id: str
    kind: str
    base: dict | None
    theirs: dict | None
    mine: dict | None
    resolution: str | None = None

    @property
    def heading(self) -> str:
        return nodes.heading(self.mine or self.theirs or self.base)

    @property
    def label(self) -> str:
        return CONFLICT_LABELS[self.kind]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "heading": self.heading,
            "theirs": self.theirs,
            "mine": self.mine,
            "resolution": self.resolution,
        }


@dataclass
class MergeResult:
    structure: Any
    conflicts: list[Conflict] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # ids of nodes changed by the pull
    three_way: bool = True

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


def _deletion_taken(node_id: str, mine_node: dict, b: dict[str, Place], conflict) -> bool:
    """The parent deleted a node the fork has: deleted when the fork left it alone, else a
    deleted-vs-edited conflict (deleted only when resolved as theirs)."""
    if content(mine_node) == content(b[node_id].node):
        return True
    return conflict(node_id, DELETED_IN_PARENT) == THEIRS


def merge(
    tree_type: str,
    *,
    base: Any | None,
    theirs: Any,
    mine: Any,
    resolutions: dict[str, str] | None = None,
) -> MergeResult:
    resolutions = resolutions or {}
    three_way = base is not None
    b = places(tree_type, base) if three_way else {}
    t, m = places(tree_type, theirs), places(tree_type, mine)
    prev_b, prev_t, prev_m = previous_siblings(b), previous_siblings(t), previous_siblings(m)
    doc = _Doc(tree_type, mine)
    result = MergeResult(doc.data, three_way=three_way)

    def conflict(node_id: str, kind: str) -> str | None:
        choice = resolutions.get(node_id)
        choice = choice if choice in RESOLUTIONS else None
        result.conflicts.append(
            Conflict(
                node_id,
                kind,
                b[node_id].node if node_id in b else None,
                t[node_id].node if node_id in t else None,
                m[node_id].node if node_id in m else None,
                choice,
            )
        )
        return choice

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
                doc.set_content(node_id, theirs_node)
                result.applied.append(node_id)
                continue
            if conflict(node_id, BOTH_CHANGED) == THEIRS:
                doc.set_content(node_id, theirs_node)
                result.applied.append(node_id)
        elif node_id in b and _deletion_taken(node_id, mine_node, b, conflict):
            doc.remove(node_id)
            result.applied.append(node_id)

    # Nodes the parent has and the fork does not: new in the parent, or deleted in the fork.
    for node_id in sorted(t, key=lambda i: t[i].order):
        if node_id in m:
            continue
        place = t[node_id]
        if node_id in b:
            if content(place.node) == content(b[node_id].node):
                continue  # deleted in the fork, untouched in the parent
            if conflict(node_id, DELETED_IN_FORK) != THEIRS:
                continue
        if place.parent_id is None and tree_type not in nodes.STEP_TREE_TYPES:
            continue  # a tree's root is never inserted
        after = prev_t.get(node_id)
        if doc.insert(_bare(place.node), place.parent_id, after):
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
    return result
