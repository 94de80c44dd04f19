"""Where each node of a troubleshooting tree sits in a drawing: a layered, indented layout.

Pure geometry over the structure (one walk), so any picture of a tree — the analytics
drop-off view today, a full flow diagram later — places nodes the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows import nodes

ROW = 56  # vertical distance between rows, in SVG units
INDENT = 28  # horizontal step per level
BOX_HEIGHT = 44


@dataclass
class PlacedNode:
    node: dict[str, Any]
    id: str
    depth: int
    row: int
    x: int
    y: int
    parent_id: str | None
    parent_x: int | None = None
    parent_y: int | None = None

    @property
    def mid_y(self) -> int:
        return self.y + BOX_HEIGHT // 2


def tree_layout(structure: Any, *, row: int = ROW, indent: int = INDENT) -> list[PlacedNode]:
    """Nodes in document order, one per row, indented by depth; each knows where its parent
    is so an elbow line can join them. Links back up the tree (loops) are not drawn here."""
    placed: list[PlacedNode] = []
    by_id: dict[str, PlacedNode] = {}
    for index, visit in enumerate(nodes.walk_tree(structure)):
        node_id = str(visit.node.get("id"))
        parent_id = str(visit.parent.get("id")) if visit.parent else None
        parent = by_id.get(parent_id) if parent_id else None
        item = PlacedNode(
            node=visit.node,
            id=node_id,
            depth=visit.depth,
            row=index,
            x=visit.depth * indent,
            y=index * row,
            parent_id=parent_id,
            parent_x=parent.x if parent else None,
            parent_y=parent.y + BOX_HEIGHT if parent else None,
        )
        placed.append(item)
        by_id.setdefault(node_id, item)
    return placed


def layout_height(placed: list[PlacedNode], *, row: int = ROW) -> int:
    return max(row, len(placed) * row)
