"""Server-rendered SVG charts for the analytics page: geometry only, the templates draw it.

Every mark carries its numbers as text (an SVG <title> on a focusable element) and every
series has a pattern as well as a colour, so nothing is told by colour alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.utils.safestring import mark_safe

from flows.diagram import BOX_HEIGHT, layout_height, tree_layout
from sessions.analytics import BUCKET_LABELS, BUCKETS, NodeRow

WIDTH = 640
HEIGHT = 220
PLOT_TOP = 10
PLOT_BOTTOM = 180  # the x axis; labels below it
PLOT_LEFT = 40


@dataclass
class Segment:
    name: str
    label: str
    value: int
    y: float
    height: float


@dataclass
class Bar:
    label: str
    total: int
    x: float
    width: float
    segments: list[Segment] = field(default_factory=list)

    @property
    def title(self) -> str:
        parts = ", ".join(f"{s.label} {s.value}" for s in self.segments if s.value)
        return f"{self.label}: {self.total} — {parts}" if parts else f"{self.label}: {self.total}"


@dataclass
class Chart:
    bars: list[Bar]
    top: int  # the largest value the axis shows
    width: int = WIDTH
    height: int = HEIGHT
    plot_bottom: int = PLOT_BOTTOM
    plot_left: int = PLOT_LEFT

    @property
    def gridlines(self) -> list[dict[str, Any]]:
        if not self.top:
            return []
        steps = 4
        return [
            {
                "y": PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * i / steps,
                "value": round(self.top * i / steps),
            }
            for i in range(steps + 1)
        ]


def scale(value: int, top: int) -> float:
    return (PLOT_BOTTOM - PLOT_TOP) * value / top if top else 0


def stacked_bars(rows: list[dict[str, Any]], labels: list[str], series=BUCKETS) -> Chart:
    """One bar per row (a week), its segments stacked in `series` order from the axis up."""
    top = max((sum(row.get(name, 0) for name in series) for row in rows), default=0)
    slot = (WIDTH - PLOT_LEFT) / max(1, len(rows))
    bars = []
    for index, (row, label) in enumerate(zip(rows, labels, strict=True)):
        bar = Bar(
            label=label,
            total=sum(row.get(name, 0) for name in series),
            x=PLOT_LEFT + index * slot + slot * 0.15,
            width=slot * 0.7,
        )
        base = PLOT_BOTTOM
        for name in series:
            height = scale(row.get(name, 0), top)
            base -= height
            bar.segments.append(
                Segment(name, BUCKET_LABELS.get(name, name), row.get(name, 0), base, height)
            )
        bars.append(bar)
    return Chart(bars=bars, top=top)


def simple_bars(values: list[tuple[str, int]]) -> Chart:
    """A histogram: one bar per bin."""
    rows = [{"count": value} for _, value in values]
    chart = stacked_bars(rows, [label for label, _ in values], series=("count",))
    for bar in chart.bars:
        bar.segments[0].label = "runs"
    return chart


@dataclass
class DiagramNode:
    row: NodeRow
    x: int
    y: int
    width: int
    reach_width: float
    parent_x: int | None
    parent_y: int | None
    box_height: int = BOX_HEIGHT

    @property
    def title(self) -> str:
        text = f"{self.row.heading}: reached by {self.row.reached}"
        if self.row.ended:
            text += f", {self.row.ended} ended here"
        if self.row.abandoned:
            text += f", {self.row.abandoned} abandoned here"
        return text


@dataclass
class Diagram:
    nodes: list[DiagramNode]
    width: int
    height: int

    def edges_svg(self) -> str:
        """Elbow lines from each parent down and across to its children (numbers only)."""
        return mark_safe(  # noqa: S308 - integers only
            "".join(
                f'<path class="chart-edge" d="M{item.parent_x} {item.parent_y}'
                f'V{item.y + BOX_HEIGHT // 2}H{item.x}"/>'
                for item in self.nodes
                if item.parent_x is not None
            )
        )

    def nodes_svg(self) -> str:
        """Each node: a focusable group whose <title> and aria-label say its figures, a box, a
        bar as long as its reach, its heading and its counts written out (■ ended, ◌ abandoned).
        Plain strings with every text escaped (not template tags: trees have hundreds of nodes,
        and the page must stay fast)."""
        return mark_safe("".join(node_svg(item) for item in self.nodes))  # noqa: S308


def node_svg(item: DiagramNode) -> str:
    row = item.row
    figures = f"reached {row.reached}"
    if row.ended:
        figures += f" · ■ ended {row.ended}"
    if row.abandoned:
        figures += f" · ◌ abandoned {row.abandoned}"
    figures += "".join(f" · ⚑ {label}" for label in row.flag_labels)
    heading = row.heading if len(row.heading) <= 70 else row.heading[:69] + "…"
    title = escape(item.title)
    x, y = item.x, item.y
    return (
        f'<g class="drop-node" tabindex="0" data-node="{escape(row.id)}" '
        f'data-reached="{row.reached}" aria-label="{title}"><title>{title}</title>'
        f'<rect class="drop-box drop-{escape(row.type)}" x="{x}" y="{y}" width="{item.width}" '
        f'height="{item.box_height}" rx="4"/>'
        f'<rect class="drop-reach" x="{x}" y="{y + 36}" width="{item.reach_width:.1f}" '
        'height="8"/>'
        f'<text class="drop-heading" x="{x + 8}" y="{y + 16}">{escape(heading)}</text>'
        f'<text class="drop-figures" x="{x + 8}" y="{y + 31}">{escape(figures)}</text></g>'
    )


def node_table_rows(rows: list[NodeRow]) -> str:
    """The drop-off table's rows, built like the diagram (every text escaped)."""
    return mark_safe(  # noqa: S308
        "".join(
            f'<tr data-node="{escape(row.id)}"><th scope="row" class="fw-normal '
            f'ps-{min(row.depth + 1, 5)}">{escape(row.heading)}</th>'
            f'<td class="text-end">{row.reached}</td><td class="text-end">{row.ended}</td>'
            f'<td class="text-end">{row.abandoned}</td><td>'
            + " ".join(
                f'<span class="badge text-bg-warning">{escape(label)}</span>'
                for label in row.flag_labels
            )
            + "</td></tr>"
            for row in rows
        )
    )


def drop_off_diagram(structure: Any, rows: list[NodeRow], width: int = WIDTH) -> Diagram:
    """The tree with each node's reach drawn as a bar inside its box, and its end counts."""
    by_id = {row.id: row for row in rows}
    placed = tree_layout(structure)
    most = max((row.reached for row in rows), default=0)
    drawn = []
    for item in placed:
        row = by_id.get(item.id)
        if row is None:
            continue
        box = width - item.x - 2
        drawn.append(
            DiagramNode(
                row=row,
                x=item.x + 1,
                y=item.y + 1,
                width=box,
                reach_width=(box * row.reached / most) if most else 0,
                parent_x=None if item.parent_x is None else item.parent_x + 12,
                parent_y=item.parent_y,
            )
        )
    return Diagram(nodes=drawn, width=width, height=layout_height(placed) + 2)


def share_strip(counts: dict[str, int], width: int = 100) -> list[Segment]:
    """One horizontal bar split by outcome group: `y` is the x offset, `height` the width."""
    total = sum(counts.get(name, 0) for name in BUCKETS)
    strip, offset = [], 0.0
    for name in BUCKETS:
        value = counts.get(name, 0)
        size = width * value / total if total else 0
        strip.append(Segment(name, BUCKET_LABELS[name], value, offset, size))
        offset += size
    return strip
