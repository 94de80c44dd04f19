"""What a running session looks like, derived from its snapshot, path, state and custom steps.

Pure functions over one FlowSession: the runner pages, the API and the exports all read the
session through here, so they always agree on order, numbering and progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows import nodes, structure
from sessions.models import FlowSession

TICKABLE = ("procedure_step", "custom")


@dataclass
class RuntimeStep:
    """One row of a procedural checklist as the engineer sees it (variables filled in)."""

    id: str
    kind: str  # section_header | procedure_step | custom
    title: str
    description: str = ""
    commands: list[dict[str, str]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    done: bool = False
    note: str = ""
    at: str | None = None
    number: int | None = None
    section: str = ""
    source: str = ""
    library_step: Any = None
    inserted_after: str | None = None
    vote: bool | None = None  # this user's thumbs up/down, filled in by the runner view

    @property
    def is_custom(self) -> bool:
        return self.kind == "custom"

    @property
    def is_tickable(self) -> bool:
        return self.kind in TICKABLE


def filled_commands(session: FlowSession, raw: Any) -> list[dict[str, str]]:
    return [
        {**command, "code": session.fill(command["code"]), "label": session.fill(command["label"])}
        for command in structure.normalise_commands(raw)
    ]


def snapshot_steps(session: FlowSession) -> list[dict[str, Any]]:
    """A checklist's steps (dicts only); a troubleshooting session has none."""
    if session.is_troubleshooting:
        return []
    return [visit.node for visit in nodes.walk(session.tree_type, session.structure_snapshot)]


def custom_steps_after(session: FlowSession) -> dict[str, list[dict[str, Any]]]:
    after: dict[str, list[dict[str, Any]]] = {}
    for custom in session.custom_steps:
        after.setdefault(custom.get("inserted_after", ""), []).append(custom)
    return after


# Shown as the row itself, or not to the engineer at all (who finds the step in the library).
_NOT_EXTRA = ("title", "description", "commands", "library_visibility")


def step_fields(session: FlowSession, node: dict[str, Any]) -> dict[str, Any]:
    """A step's other fields that are set, read by their kind in the format table: text with
    variables filled in, links only when they are http(s), the rest as stored."""
    kind = nodes.node_type(node.get("type"))
    extra: dict[str, Any] = {}
    for spec in kind.fields if kind else ():
        value = node.get(spec.name)
        if spec.name in _NOT_EXTRA or value in (None, ""):
            continue
        if spec.kind in nodes.TEXT_KINDS:
            extra[spec.name] = session.fill(value)
        elif spec.kind == "url":
            if nodes.is_http_url(value):
                extra[spec.name] = value
        else:
            extra[spec.name] = value
    return extra


def runtime_step_from_node(session: FlowSession, node: dict[str, Any], section: str) -> RuntimeStep:
    extra = step_fields(session, node)
    return RuntimeStep(
        id=str(node.get("id")),
        kind=str(node.get("type")),
        title=session.fill(nodes.heading(node, fallback="")),
        description=session.fill(node.get("description")),
        commands=filled_commands(session, node.get("commands")),
        fields=extra,
        section=section,
    )


def runtime_step_from_custom(session: FlowSession, custom: dict[str, Any], section: str):
    return RuntimeStep(
        id=str(custom["id"]),
        kind="custom",
        title=session.fill(custom.get("title")),
        description=session.fill(custom.get("instructions")),
        commands=filled_commands(session, custom.get("commands")),
        section=section,
        source=custom.get("source", "ad-hoc"),
        library_step=custom.get("library_step"),
        inserted_after=custom.get("inserted_after"),
    )


def checklist(session: FlowSession) -> list[RuntimeStep]:
    """Section headers and steps in order, each custom step right after the step it follows
    (custom steps may follow custom steps), numbered, with their saved state."""
    after = custom_steps_after(session)
    rows: list[RuntimeStep] = []
    section = ""

    def add_customs(anchor: str) -> None:
        # Iterative, so a long chain of custom-after-custom cannot recurse deeply.
        pending = list(reversed(after.get(anchor, [])))
        while pending:
            custom = pending.pop()
            rows.append(runtime_step_from_custom(session, custom, section))
            pending.extend(reversed(after.get(custom["id"], [])))

    for node in snapshot_steps(session):
        kind = node.get("type")
        if kind == "procedure_end":
            continue
        if kind == "section_header":
            section = session.fill(nodes.heading(node, fallback=""))
        rows.append(runtime_step_from_node(session, node, section))
        add_customs(str(node.get("id")))

    number = 0
    for row in rows:
        state = session.step_state.get(row.id) or {}
        row.done = bool(state.get("done"))
        row.note = state.get("note") or ""
        row.at = state.get("at")
        if row.is_tickable:
            number += 1
            row.number = number
    return rows


def step_ids(session: FlowSession) -> set[str]:
    """Ids a tick or a note may name: procedure steps and custom steps (troubleshooting: nodes)."""
    if session.is_troubleshooting:
        return set(structure.node_index(session.tree_type, session.structure_snapshot))
    ids = {str(n.get("id")) for n in snapshot_steps(session) if n.get("type") == "procedure_step"}
    return ids | {str(c["id"]) for c in session.custom_steps}


def anchor_ids(session: FlowSession) -> set[str]:
    """Where a custom step may be inserted: after any step, header or custom step."""
    ids = {str(n.get("id")) for n in snapshot_steps(session) if n.get("type") != "procedure_end"}
    return ids | {str(c["id"]) for c in session.custom_steps}


@dataclass
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(session: FlowSession) -> Progress:
    if session.is_troubleshooting:
        finished = session.is_completed or (current_node(session) or {}).get("type") == "solution"
        return Progress(done=len(session.path) + (1 if finished else 0), total=0)
    tickable = [row for row in checklist(session) if row.is_tickable]
    return Progress(done=sum(row.done for row in tickable), total=len(tickable))


def node_index(session: FlowSession) -> dict[str, dict[str, Any]]:
    return structure.node_index(session.tree_type, session.structure_snapshot)


def current_node(session: FlowSession) -> dict[str, Any] | None:
    """The node the engineer is on: where the last answer led, else the root."""
    index = node_index(session)
    if session.path:
        return index.get(session.path[-1].get("next_node_id"))
    root = session.structure_snapshot
    root_id = root.get("id") if isinstance(root, dict) else None
    return root if isinstance(root_id, str) and root_id in index else None


def pending_note(session: FlowSession, node_id: str) -> str:
    """The note typed on a troubleshooting node and not yet moved onto the path by an answer
    (a solution's note stays here for good)."""
    return (session.step_state.get(node_id) or {}).get("note") or ""


@dataclass
class PathEntry:
    node: dict[str, Any]
    heading: str
    choice: str
    note: str
    at: str | None


def breadcrumb(session: FlowSession) -> list[PathEntry]:
    index = node_index(session)
    entries = []
    for entry in session.path:
        node = index.get(entry.get("node_id"), {})
        heading = nodes.heading(node, fallback=str(entry.get("node_id", "")))
        entries.append(
            PathEntry(
                node=node,
                heading=session.fill(heading),
                choice=session.fill(entry.get("choice")),
                note=entry.get("note") or "",
                at=entry.get("at"),
            )
        )
    return entries


def procedure_step_ids(tree_type: str, snapshot: Any) -> list[str]:
    """The tickable steps of a checklist snapshot, in order (none for troubleshooting)."""
    if tree_type == "troubleshooting":
        return []
    visits = nodes.walk(tree_type, snapshot)
    return [v.node.get("id") for v in visits if v.node.get("type") == "procedure_step"]


def step_of_total(session: FlowSession, procedure_ids: list[str] | None = None) -> tuple[int, int]:
    """For batch cards: "step k of n", k being the step after the ones done. Counted from the
    JSON directly: a 200-target status page must not build 200 checklists. A batch passes the
    `procedure_ids` of its one snapshot, so the cards need not load 200 copies of it."""
    if procedure_ids is None:
        procedure_ids = procedure_step_ids(session.tree_type, session.structure_snapshot)
    ids = [*procedure_ids, *(c.get("id") for c in session.custom_steps)]
    done = sum(1 for i in ids if (session.step_state.get(i) or {}).get("done"))
    return min(done + 1, len(ids)), len(ids)
