"""Where each node of a troubleshooting tree sits in a drawing, and what the drawing shows.

Pure geometry over the structure (one walk). Two layouts: `tree_layout`, one node per row
indented by depth (the analytics drop-off view, whose bars need the width), and
`tidy_layout`, a top-down tidy tree that `flow_diagram` turns into the boxes and labelled
edges of `templates/flows/_flow_diagram.html` (flow page, editor, runner, version diffs)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flows import diff, nodes

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


# --- the flow diagram: a layered, top-down tidy tree ----------------------------------------
#
# Reingold–Tilford in its plain form, written here rather than vendored (a layout library
# would be JavaScript, or a C binary such as Graphviz, for a few dozen lines of geometry):
# children are laid out first, each subtree keeps its contour (leftmost and rightmost centre
# per level), the next sibling's subtree is pushed right until it is one slot clear of the
# ones before it on every level they share, and the parent is centred over its first and last
# child. Boxes on one level are therefore at least a slot apart and levels are a row apart:
# no two boxes can overlap. Cost is O(nodes × depth), bounded by the caps below.

BOX_W = 184
BOX_H = 60
SLOT = BOX_W + 28  # horizontal distance between neighbouring centres
LEVEL = BOX_H + 56  # vertical distance between levels (room for an edge label)
MARGIN = 24
MAX_DIAGRAM_NODES = 2000  # structure.MAX_NODES: a valid flow always fits
MAX_DIAGRAM_DEPTH = 100  # structure.MAX_DEPTH
LINE_CHARS = 27  # heading characters per line in a box (12px text)
LABEL_CHARS = 30  # option label characters on an edge


@dataclass
class TidyNode:
    index: int  # document order
    node: dict[str, Any]
    id: str
    depth: int
    parent: int | None
    children: list[int]
    x: float = 0.0  # left edge, SVG units
    y: float = 0.0  # top edge

    @property
    def centre_x(self) -> float:
        return self.x + BOX_W / 2


@dataclass
class TidyLayout:
    nodes: list[TidyNode]
    width: float
    height: float
    truncated: bool = False  # the structure had more than the caps allow


def tidy_layout(
    structure: Any,
    *,
    max_nodes: int = MAX_DIAGRAM_NODES,
    max_depth: int = MAX_DIAGRAM_DEPTH,
) -> TidyLayout:
    """Every node of a troubleshooting tree placed top-down: one level per depth, parents
    centred above their children, subtrees side by side without overlapping. Deterministic
    (document order decides left to right) and safe on hostile drafts: beyond the caps the
    rest is left out and `truncated` says so."""
    placed: list[TidyNode] = []
    by_dict: dict[int, int] = {}
    truncated = False
    for visit in nodes.walk_tree(structure, max_depth=max_depth - 1):
        if len(placed) >= max_nodes or visit.depth >= max_depth:
            truncated = True
            continue
        parent = by_dict.get(id(visit.parent)) if visit.parent is not None else None
        if visit.parent is not None and parent is None:
            continue  # its parent was left out
        item = TidyNode(len(placed), visit.node, str(visit.node.get("id")), visit.depth, parent, [])
        by_dict[id(visit.node)] = item.index
        if parent is not None:
            placed[parent].children.append(item.index)
        placed.append(item)
    if not placed:
        return TidyLayout([], 0, 0, truncated)

    offsets = _relative_offsets(placed)
    centres = [0.0] * len(placed)
    for item in placed:  # document order: a parent comes before its children
        if item.parent is not None:
            centres[item.index] = centres[item.parent] + offsets[item.index]
    left = min(centres)
    for item in placed:
        item.x = MARGIN + (centres[item.index] - left) * SLOT
        item.y = MARGIN + item.depth * LEVEL
    width = MARGIN * 2 + (max(centres) - left) * SLOT + BOX_W
    height = MARGIN * 2 + max(item.depth for item in placed) * LEVEL + BOX_H
    return TidyLayout(placed, width, height, truncated)


def _relative_offsets(placed: list[TidyNode]) -> list[float]:
    """Each node's centre relative to its parent's, in slots (children before parents)."""
    offsets = [0.0] * len(placed)
    contours: list[list[list[float]] | None] = [None] * len(placed)
    for item in reversed(placed):
        merged: list[list[float]] = []
        shifts: list[float] = []
        for child in item.children:
            contour = contours[child] or [[0.0, 0.0]]
            contours[child] = None  # merged into the parent's: free it
            shared = min(len(merged), len(contour))
            shift = max((merged[lv][1] - contour[lv][0] + 1 for lv in range(shared)), default=0)
            for level, (low, high) in enumerate(contour):
                if level < len(merged):
                    merged[level][1] = high + shift  # this child is the rightmost so far
                else:
                    merged.append([low + shift, high + shift])
            shifts.append(shift)
        middle = (shifts[0] + shifts[-1]) / 2 if shifts else 0.0
        for child, shift in zip(item.children, shifts, strict=True):
            offsets[child] = shift - middle
        contours[item.index] = [[0.0, 0.0]] + [[lo - middle, hi - middle] for lo, hi in merged]
    return offsets


# --- what is drawn ----------------------------------------------------------------------------

_NUMBERS = re.compile(r"-?\d+(?:\.\d+)?")
TYPE_SIGNS = {"decision": "◆", "action": "▶", "solution": "⚑"}


@dataclass(frozen=True)
class NodeMark:
    """Something a page says about a node besides its text: visited, "you are here", a
    change. `sign` and `label` are drawn (never colour alone); `css` picks the colours."""

    css: str
    sign: str
    label: str


@dataclass
class DiagramNode:
    id: str
    type: str
    type_label: str
    heading: str
    lines: list[str]
    x: int  # whole SVG units: the template prints them as they are
    y: int
    parent_id: str | None
    depth: int
    addressable: bool  # a unique id: the editor can open it, links can point at it
    can_add: bool  # the editor can add a child (decisions) or a next node (actions)
    marks: list[NodeMark]
    leads: list[str]  # "Yes → Restart the service", for the accessible name

    @property
    def css(self) -> str:
        return " ".join(f"is-{mark.css}" for mark in self.marks)

    @property
    def aria_label(self) -> str:
        parts = [_sentence(f"{self.type_label}: {self.heading}")]
        parts += [f"{mark.label}." for mark in self.marks]
        if self.leads:
            parts.append(_sentence("Leads to: " + "; ".join(self.leads)))
        return " ".join(parts)

    @property
    def sign(self) -> str:
        return TYPE_SIGNS.get(self.type, "?")

    @property
    def is_cut(self) -> bool:
        """The box shows only part of the heading (the whole is its tooltip)."""
        return " ".join(self.lines) != " ".join(self.heading.split())

    @property
    def mark_text(self) -> str:
        return " · ".join(f"{mark.sign} {mark.label}" for mark in self.marks)

    # Where the parts of the box are drawn (templates cannot add floats).
    @property
    def text_x(self) -> int:
        return self.x + 10

    @property
    def right_x(self) -> int:
        return self.x + BOX_W - 8

    @property
    def type_y(self) -> int:
        return self.y + 17

    @property
    def heading_y(self) -> int:
        return self.y + 35

    @property
    def add_x(self) -> int:
        return self.x + BOX_W - 14

    @property
    def add_y(self) -> int:
        return self.y + BOX_H


@dataclass
class DiagramEdge:
    source: str
    target: str
    label: str
    kind: str  # tree: parent to child; link: elsewhere down or across; back: up to an ancestor
    path: str
    label_x: int
    label_y: int
    on_path: bool = False


@dataclass
class FlowDiagram:
    dom_id: str
    nodes: list[DiagramNode]
    edges: list[DiagramEdge]
    width: float
    height: float
    truncated: bool = False
    left: float = 0.0  # the viewBox's origin: loops may bend out past the first box
    top: float = 0.0
    focus_id: str = ""  # the node the keyboard starts on: the current one, else the root

    @property
    def view_box(self) -> str:
        return f"{self.left:.0f} {self.top:.0f} {self.width:.0f} {self.height:.0f}"

    @property
    def box_w(self) -> int:
        return BOX_W

    @property
    def box_h(self) -> int:
        return BOX_H


def _sentence(text: str) -> str:
    return text if text.rstrip().endswith((".", "?", "!", "…")) else f"{text}."


def _wrap(text: str, width: int = LINE_CHARS, lines: int = 2) -> list[str]:
    """A heading in at most `lines` lines of about `width` characters, the last cut with …"""
    words, out, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            out.append(line)
        line = word
        if len(out) == lines:
            break
    if line and len(out) < lines:
        out.append(line)
    out = [part if len(part) <= width else part[: width - 1] + "…" for part in out[:lines]]
    if out and " ".join(out) != " ".join(words):
        last = out[-1]
        out[-1] = last if last.endswith("…") else last[: width - 1].rstrip() + "…"
    return out or [""]


def _short(text: str, width: int = LABEL_CHARS) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _links(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, target id) of a decision's options or an action's next node, text only."""
    found = []
    options = node.get("options") if node.get("type") == "decision" else None
    for option in options if isinstance(options, list) else []:
        if isinstance(option, dict) and isinstance(option.get("next_node_id"), str):
            label = option.get("label")
            found.append((label if isinstance(label, str) else "", option["next_node_id"]))
    target = node.get("next_node_id")
    if node.get("type") == "action" and isinstance(target, str) and target:
        found.append(("Then", target))
    return found


def _tree_edge(parent: TidyNode, child: TidyNode) -> tuple[str, float, float]:
    """An elbow from the parent's bottom to the child's top; the label sits above the child."""
    top, bottom = child.y, parent.y + BOX_H
    elbow = bottom + (top - bottom) / 2 - 8
    px, cx = parent.centre_x, child.centre_x
    return f"M{px:.0f} {bottom:.0f}V{elbow:.0f}H{cx:.0f}V{top - 2:.0f}", cx, top - 8


def _link_edge(source: TidyNode, target: TidyNode) -> tuple[str, float, float]:
    """A curve: down into the target's top when it is lower, else out of the source's right
    side and back into the target's right side (a loop drawn beside the boxes)."""
    if target.y > source.y:
        x0, y0 = source.centre_x + 24, source.y + BOX_H
        x3, y3 = target.centre_x + 24, target.y - 2
        bend = (y3 - y0) / 2
        x1, y1, x2, y2 = x0, y0 + bend, x3, y3 - bend
    else:
        # Out of the side facing away from the target, so the loop bends around the
        # source's own branch rather than through its siblings.
        side = -1 if source.centre_x < target.centre_x else 1
        edge = 0 if side < 0 else BOX_W
        x0, y0 = source.x + edge, source.y + BOX_H / 2 + 8
        x3, y3 = target.x + edge + 2 * side, target.y + BOX_H / 2 - 8
        reach = (40 + abs(source.depth - target.depth) * 10) * side
        x1, y1, x2, y2 = x0 + reach, y0, x3 + reach, y3
    middle_x = 0.125 * x0 + 0.375 * x1 + 0.375 * x2 + 0.125 * x3
    middle_y = 0.125 * y0 + 0.375 * y1 + 0.375 * y2 + 0.125 * y3
    path = f"M{x0:.0f} {y0:.0f}C{x1:.0f} {y1:.0f} {x2:.0f} {y2:.0f} {x3:.0f} {y3:.0f}"
    return path, middle_x, middle_y


def _is_ancestor(placed: list[TidyNode], ancestor: int, node: int) -> bool:
    current: int | None = node
    while current is not None:
        if current == ancestor:
            return True
        current = placed[current].parent
    return False


def flow_diagram(
    structure: Any,
    *,
    dom_id: str = "flow-diagram",
    marks: dict[str, list[NodeMark]] | None = None,
    path: set[tuple[str, str]] = frozenset(),
    editable: bool = False,
    fill: Any = None,
    focus_id: str = "",
) -> FlowDiagram:
    """A troubleshooting tree ready to draw: boxes with heading and type, edges labelled
    with the option text, links that jump elsewhere (or loop back up) drawn apart from the
    tree's own edges. `marks` adds signs to nodes, `path` highlights (source, target) edges,
    `fill` fills variables into the text (a session's answers)."""
    layout = tidy_layout(structure)
    marks = marks or {}
    text = fill or (lambda value: value)
    counts: dict[str, int] = {}
    for item in layout.nodes:
        counts[item.id] = counts.get(item.id, 0) + 1
    by_id = {item.id: item for item in reversed(layout.nodes)}  # the first of a repeated id
    headings = {
        item.id: text(nodes.heading(item.node, with_id=False, fallback="(no text yet)"))
        for item in reversed(layout.nodes)
    }
    drawn_nodes, edges = [], []
    for item in layout.nodes:
        node_type = item.node.get("type")
        node_type = node_type if isinstance(node_type, str) else ""
        links = _links(item.node)
        heading = headings[item.id] if counts[item.id] == 1 else text(nodes.heading(item.node))
        leads = [
            f"{text(label) or 'unlabelled'} → {headings.get(target, 'a missing node')}"
            for label, target in links
        ]
        addressable = counts[item.id] == 1 and isinstance(item.node.get("id"), str)
        drawn_nodes.append(
            DiagramNode(
                id=item.id,
                type=node_type,
                type_label=nodes.node_label(node_type),
                heading=heading,
                lines=_wrap(heading),
                x=round(item.x),
                y=round(item.y),
                parent_id=layout.nodes[item.parent].id if item.parent is not None else None,
                depth=item.depth,
                addressable=addressable,
                can_add=editable and addressable and node_type in ("decision", "action"),
                marks=marks.get(item.id, []),
                leads=leads,
            )
        )
        edges += _edges_of(layout.nodes, item, links, by_id, path, text)
    bends = [
        float(n) for edge in edges if edge.kind != "tree" for n in _NUMBERS.findall(edge.path)[::2]
    ]
    left = min([0.0, *(x - 8 for x in bends)])
    right = max([layout.width, *(x + 8 for x in bends)])
    return FlowDiagram(
        dom_id,
        drawn_nodes,
        edges,
        round(right - left),
        round(layout.height),
        truncated=layout.truncated,
        left=round(left),
        focus_id=focus_id if focus_id in by_id else (drawn_nodes[0].id if drawn_nodes else ""),
    )


def _edges_of(
    placed: list[TidyNode],
    item: TidyNode,
    links: list[tuple[str, str]],
    by_id: dict[str, TidyNode],
    path: set[tuple[str, str]],
    text: Any,
) -> list[DiagramEdge]:
    """One edge per (node, target) with the labels of every option that leads there; a child
    no option reaches still hangs from its parent, unlabelled."""
    labels: dict[str, list[str]] = {}
    for label, target in links:
        labels.setdefault(target, []).append(text(label) or "(no label)")
    children = {placed[child].id: placed[child] for child in item.children}
    edges = []
    for target_id, names in labels.items():
        target = by_id.get(target_id)
        if target is None:
            continue  # a link to a missing node: the editor's problems list says so
        label = _short(" / ".join(names))
        if children.get(target_id) is target:
            kind = "tree"
            d, lx, ly = _tree_edge(item, target)
        else:
            kind = "back" if _is_ancestor(placed, target.index, item.index) else "link"
            d, lx, ly = _link_edge(item, target)
        on_path = (item.id, target_id) in path
        edges.append(DiagramEdge(item.id, target_id, label, kind, d, round(lx), round(ly), on_path))
    for child_id, child in children.items():
        if child_id not in labels:
            d, lx, ly = _tree_edge(item, child)
            edges.append(DiagramEdge(item.id, child_id, "", "tree", d, round(lx), round(ly)))
    return edges


def change_marks(changes: list[diff.NodeChange]) -> dict[str, list[NodeMark]]:
    """A version diff drawn on the newer tree: each changed node signed + ↕ ✎ with its word
    (removed nodes are not in the newer tree; the diff lists them beside it)."""
    return {
        change.id: [NodeMark(change.change, change.sign, change.label)]
        for change in changes
        if change.change != diff.REMOVED
    }
