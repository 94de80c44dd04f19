"""What the visual editor page shows: one row per node (or step) with its forms, the intake
questions, the add forms and the problems, built from a flow's editor version.

The views in `flows/editor_views.py` parse the posted change and call the editor service; they
render whatever `editor_context` builds here (with the forms that failed, if any)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.models import User
from flows import diagram, editor, nodes, selectors, structure
from flows.forms import (
    AddNodeForm,
    AddStepForm,
    AttachForm,
    DetailsForm,
    EditorForm,
    IntakeFieldForm,
    OptionForm,
    node_form,
)
from flows.models import Category, Tree


@dataclass
class NodeRow:
    """One node (or step) of the editor with its forms."""

    key: str  # a DOM-safe id prefix; node ids may contain dots
    node: dict[str, Any]
    depth: int = 0
    is_root: bool = False
    first: bool = True
    last: bool = True
    addressable: bool = True  # has a unique id, so the editor can change it
    in_section: bool = False
    nested: int = 0
    open: bool = False
    errors: list[structure.StructureError] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    form: EditorForm | None = None
    option_forms: list[tuple[int, OptionForm]] = field(default_factory=list)
    new_option_form: OptionForm | None = None
    add_form: AddNodeForm | None = None

    @property
    def node_id(self) -> str:
        return str(self.node.get("id") or "")

    @property
    def node_type(self) -> str:
        return str(self.node.get("type") or "")

    @property
    def heading(self) -> str:
        """The question or title; an empty one gets a hint instead of the node's id."""
        text = nodes.heading(self.node, fallback="", with_id=False)
        if text:
            return text
        if self.is_root and self.node_type == "decision":
            return "Your first question (not written yet)"
        return f"New {nodes.node_label(self.node_type).lower()} (no title yet)"

    @property
    def is_blank(self) -> bool:
        return not nodes.heading(self.node, fallback="", with_id=False)


def _titles(tree: Tree, data: Any) -> dict[str, str]:
    """Each node's id and a short heading, in document order."""
    titles = {}
    for node_id, node in structure.node_index(tree.tree_type, data).items():
        text = nodes.heading(node, with_id=False, fallback="(no title yet)")
        titles[node_id] = f"{text[:70]}…" if len(text) > 70 else text
    return titles


def _targets(titles: dict[str, str]) -> list[tuple[str, str]]:
    """Select choices named by heading; ids are hidden unless two headings are the same."""
    seen: dict[str, int] = {}
    for text in titles.values():
        seen[text] = seen.get(text, 0) + 1
    return [
        (node_id, f"{text} · {node_id}" if seen[text] > 1 else text)
        for node_id, text in titles.items()
    ]


def link_targets(tree: Tree, data: Any) -> list[tuple[str, str]]:
    """Every node an option or action can lead to, labelled for a select."""
    return _targets(_titles(tree, data))


def _id_counts(tree: Tree, data: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in structure.iter_nodes(tree.tree_type, data):
        node_id = node.get("id")
        if isinstance(node_id, str):
            counts[node_id] = counts.get(node_id, 0) + 1
    return counts


def _tree_rows(tree: Tree, data: Any, ctx: EditorState) -> list[NodeRow]:
    """The troubleshooting tree as flat, indented rows (depth-first, like the detail page)."""
    titles = _titles(tree, data)
    targets = _targets(titles)
    counts = _id_counts(tree, data)
    rows: list[NodeRow] = []
    for visit in nodes.walk(tree.tree_type, data):
        node, key = visit.node, f"n{len(rows)}"
        node_id = node.get("id") if isinstance(node.get("id"), str) else ""
        row = NodeRow(
            key=key,
            node=node,
            depth=visit.depth,
            is_root=not rows,
            first=visit.is_first,
            last=visit.is_last,
        )
        row.addressable = bool(node_id) and counts.get(node_id) == 1
        row.errors = ctx.errors_by_node.get(node_id, []) if node_id else []
        row.open = row.addressable and ctx.is_open(node_id)
        if row.open:  # the other rows load their forms when opened (editor_node_form)
            _attach_tree_forms(row, ctx, targets)
        row.links = selectors.node_links(node, titles)
        rows.append(row)
    _count_nested(rows)
    return rows


def _attach_tree_forms(row: NodeRow, ctx: EditorState, targets: list[tuple[str, str]]) -> None:
    node, node_id, key = row.node, row.node_id, row.key
    row.form = ctx.failed.get(f"node:{node_id}") or node_form(
        node, key=key, targets=targets, staff=ctx.staff
    )
    if node.get("type") == "decision":
        options = node.get("options") if isinstance(node.get("options"), list) else []
        for index, option in enumerate(options):
            if not isinstance(option, dict):
                continue
            failed = ctx.failed.get(f"option:{node_id}:{index}")
            initial = {"label": option.get("label"), "next_node_id": option.get("next_node_id")}
            row.option_forms.append(
                (
                    index,
                    failed or OptionForm(key=f"{key}-o{index}", targets=targets, initial=initial),
                )
            )
        row.new_option_form = ctx.failed.get(f"option-add:{node_id}") or OptionForm(
            key=f"{key}-new", targets=targets
        )
        row.add_form = ctx.failed.get(f"add:{node_id}") or AddNodeForm(
            key=f"{key}-add", options=options
        )
    elif node.get("type") == "action":
        row.add_form = ctx.failed.get(f"add:{node_id}") or AddNodeForm(key=f"{key}-add")


def _count_nested(rows: list[NodeRow]) -> None:
    """How many nodes a delete takes with it: the following rows that are deeper."""
    for index, row in enumerate(rows):
        nested = 0
        for later in rows[index + 1 :]:
            if later.depth <= row.depth:
                break
            nested += 1
        row.nested = nested


def _step_rows(tree: Tree, data: Any, ctx: EditorState) -> list[NodeRow]:
    counts = _id_counts(tree, data)
    rows: list[NodeRow] = []
    in_section = False
    for visit in nodes.walk(tree.tree_type, data):
        step, index, steps = visit.node, visit.index, visit.siblings
        node_id = step.get("id") if isinstance(step.get("id"), str) else ""
        following = steps[index + 1] if index + 1 < len(steps) else None
        is_end = step.get("type") == "procedure_end"
        in_section = in_section or step.get("type") == "section_header"
        row = NodeRow(
            key=f"s{index}",
            node=step,
            first=index == 0,
            last=following is None or editor._is_end(following),
            in_section=in_section and step.get("type") == "procedure_step",
        )
        row.addressable = bool(node_id) and counts.get(node_id) == 1
        row.errors = ctx.errors_by_node.get(node_id, []) if node_id else []
        row.open = row.addressable and ctx.is_open(node_id)
        if row.open:
            row.form = ctx.failed.get(f"node:{node_id}") or node_form(
                step, key=row.key, targets=[], staff=ctx.staff
            )
        row.is_root = is_end  # the end step cannot move or go
        rows.append(row)
    return rows


def editor_rows(tree: Tree, data: Any, state: EditorState) -> list[NodeRow]:
    """The rows of the editor: a checklist's steps in order, or a tree's nodes depth-first."""
    return _step_rows(tree, data, state) if tree.is_checklist else _tree_rows(tree, data, state)


@dataclass
class EditorState:
    """What a render needs beyond the flow: forms that failed, the node to open, messages."""

    failed: dict[str, EditorForm] = field(default_factory=dict)
    open_id: str | None = None
    alerts: list[str] = field(default_factory=list)
    errors_by_node: dict[str | None, list] = field(default_factory=dict)
    staff: bool = False  # only staff may pick "Public" library visibility
    # Completeness problems (what publishing needs) show once the author has tried to publish;
    # until then a new flow is not covered in errors for what nobody has written yet.
    checked: bool = False

    def is_open(self, node_id: str) -> bool:
        """The node just changed (or asked for) and nodes whose form failed show their form."""
        failed = any(key.split(":")[1:2] == [node_id] for key in self.failed)
        return node_id == self.open_id or failed


@dataclass
class RepairRow:
    """A node nothing leads to, with the form that attaches it (its delete reuses the row's)."""

    key: str
    node_id: str
    heading: str
    noun: str
    form: AttachForm


def repair_rows(tree: Tree, data: Any, state: EditorState) -> list[RepairRow]:
    """The troubleshooting nodes no path from the first question reaches, each offered to be
    attached to a reached question or action, or deleted."""
    unreachable = structure.unreachable_ids(tree.tree_type, data)
    if not unreachable:
        return []
    index = structure.node_index(tree.tree_type, data)
    titles = _titles(tree, data)
    sources = [
        (node_id, f"{nodes.node_label(node.get('type'))}: {titles[node_id]}")
        for node_id, node in index.items()
        if node_id not in unreachable and node.get("type") in ("decision", "action")
    ]
    decisions = {node_id for node_id, node in index.items() if node.get("type") == "decision"}
    rows = []
    for number, node_id in enumerate(unreachable):
        key = f"r{number}"
        form = state.failed.get(f"attach:{node_id}") or AttachForm(
            key=key, sources=sources, decisions=decisions
        )
        node = index[node_id]
        kind = nodes.node_type(node.get("type"))
        rows.append(RepairRow(key, node_id, titles[node_id], kind.noun if kind else "node", form))
    return rows


def _open_blank_start(tree: Tree, data: Any, state: EditorState) -> None:
    """A new troubleshooting flow opens on its empty first question, ready to type."""
    if state.open_id or tree.is_checklist or not isinstance(data, dict):
        return
    if not nodes.heading(data, fallback="", with_id=False) and isinstance(data.get("id"), str):
        state.open_id = data["id"]


def editor_diagram(data: Any, errors: dict[str | None, list]) -> diagram.FlowDiagram:
    """The editor's tree drawn with a + on every node that can take a child, and a sign on
    the nodes with problems (the list above says which)."""
    marks = {
        node_id: [diagram.NodeMark("problem", "⚠", f"{len(found)} problem{'s' * (len(found) > 1)}")]
        for node_id, found in errors.items()
        if node_id
    }
    return diagram.flow_diagram(data, dom_id="editor-diagram", marks=marks, editable=True)


def editor_context(
    user: User,
    tree: Tree,
    state: EditorState | None = None,
    details_form: DetailsForm | None = None,
) -> dict[str, Any]:
    state = state or EditorState()
    state.staff = user.is_staff
    data = structure.normalise_structure(tree.tree_type, tree.editing_structure)
    structure_errors = structure.validate_structure(
        tree.tree_type, tree.editing_structure, for_publish=state.checked
    )
    intake = tree.editing_intake_form
    intake_errors = structure.validate_intake_form(intake)
    state.errors_by_node = selectors.errors_by_node(structure_errors)
    _open_blank_start(tree, data, state)
    rows = editor_rows(tree, data, state)
    intake_rows = []
    if isinstance(intake, list):
        intake_rows = [
            (
                index,
                state.failed.get(f"intake:{index}")
                or IntakeFieldForm.for_field(item, key=f"q{index}"),
            )
            for index, item in enumerate(intake)
        ]
    return {
        "tree": tree,
        "rows": rows,
        "diagram": None if tree.is_checklist else editor_diagram(data, state.errors_by_node),
        "intake_rows": intake_rows,
        "repair_rows": [] if tree.is_checklist else repair_rows(tree, data, state),
        "intake_add_form": state.failed.get("intake-add") or IntakeFieldForm(key="q-new"),
        "step_add_form": state.failed.get("step-add") or AddStepForm(key="step-new"),
        "structure_errors": structure_errors,
        "intake_errors": intake_errors,
        "problem_count": len(structure_errors) + len(intake_errors),
        "checked": state.checked,
        "alerts": state.alerts,
        "open_key": state.open_id,
        "details_form": details_form or DetailsForm(user=user, tree=tree),
        "category_names": Category.objects.values_list("name", flat=True),
    }
