"""The visual flow editors: one page per flow, every change an htmx POST that answers with the
re-rendered editor body (`flows/editor.html#body`).

Every form carries the revision the page was rendered from; the services refuse a stale one
(409) and the body then shows the latest version with a message. Form and service errors
answer 422 with the errors next to the fields (not 400: in DEBUG, django-htmx's debug script
replaces the whole page with any 400 response). Without JavaScript the same forms post and
redirect back to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from flows import editor, selectors, services, structure
from flows.forms import (
    AddNodeForm,
    AddStepForm,
    DetailsForm,
    EditorForm,
    IntakeFieldForm,
    OptionForm,
    add_service_errors,
    node_form,
)
from flows.models import Category, Tree
from flows.views import visible_tree

TEMPLATE = "flows/editor.html"
INVALID = 422  # a form or change with errors, answered with the re-rendered form


def editable_tree(request: HttpRequest, pk: Any) -> Tree:
    """Other accounts' flows are 404 (via `visible_tree`); viewers get 403."""
    tree = visible_tree(request, pk)
    services.ensure_can_edit(tree=tree, user=request.user)
    return tree


def reloaded(tree: Tree) -> Tree:
    return Tree.objects.with_card_data().get(pk=tree.pk)


def posted_revision(request: HttpRequest) -> int:
    """The revision the page was rendered from; a missing one counts as stale."""
    try:
        return int(request.POST.get("revision", ""))
    except ValueError:
        return -1


# --- what the page shows --------------------------------------------------------------------


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
        node = self.node
        return str(node.get("question") or node.get("title") or node.get("id") or "(untitled)")


def _titles(tree: Tree, data: Any) -> dict[str, str]:
    """Each node's id and a short heading, in document order."""
    titles = {}
    for node_id, node in structure.node_index(tree.tree_type, data).items():
        text = str(node.get("question") or node.get("title") or "(untitled)")
        titles[node_id] = f"{text[:70]}…" if len(text) > 70 else text
    return titles


def _targets(tree: Tree, data: Any) -> list[tuple[str, str]]:
    """Every node an option or action can lead to, labelled for a select."""
    return [(node_id, f"{text} · {node_id}") for node_id, text in _titles(tree, data).items()]


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
    targets = [(node_id, f"{text} · {node_id}") for node_id, text in titles.items()]
    counts = _id_counts(tree, data)
    rows: list[NodeRow] = []
    stack: list[tuple[Any, int, bool, bool]] = [(data, 0, True, True)]
    while stack:
        node, depth, first, last = stack.pop()
        if not isinstance(node, dict):
            continue
        key = f"n{len(rows)}"
        node_id = node.get("id") if isinstance(node.get("id"), str) else ""
        row = NodeRow(key=key, node=node, depth=depth, is_root=not rows, first=first, last=last)
        row.addressable = bool(node_id) and counts.get(node_id) == 1
        row.errors = ctx.errors_by_node.get(node_id, []) if node_id else []
        row.open = row.addressable and ctx.is_open(node_id)
        if row.open:  # the other rows load their forms when opened (editor_node_form)
            _attach_tree_forms(row, ctx, targets)
        options = node.get("options") if isinstance(node.get("options"), list) else []
        for option in options:
            if isinstance(option, dict):
                target = str(option.get("next_node_id") or "")
                row.links.append(
                    {
                        "label": str(option.get("label", "")),
                        "target": target,
                        "title": titles.get(target, ""),
                    }
                )
        if node.get("type") == "action" and node.get("next_node_id"):
            target = str(node["next_node_id"])
            row.links.append({"label": "Then", "target": target, "title": titles.get(target, "")})
        rows.append(row)
        children = node.get("children")
        if isinstance(children, list):
            count = len(children)
            stack.extend(
                (child, depth + 1, index == 0, index == count - 1)
                for index, child in reversed(list(enumerate(children)))
            )
    _count_nested(rows)
    return rows


def _attach_tree_forms(row: NodeRow, ctx: EditorState, targets: list[tuple[str, str]]) -> None:
    node, node_id, key = row.node, row.node_id, row.key
    row.form = ctx.failed.get(f"node:{node_id}") or node_form(node, key=key, targets=targets)
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
    steps = data.get("steps") if isinstance(data, dict) else None
    steps = steps if isinstance(steps, list) else []
    counts = _id_counts(tree, data)
    rows: list[NodeRow] = []
    in_section = False
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
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
            row.form = ctx.failed.get(f"node:{node_id}") or node_form(step, key=row.key, targets=[])
        row.is_root = is_end  # the end step cannot move or go
        rows.append(row)
    return rows


def editor_rows(tree: Tree, data: Any, state: EditorState) -> list[NodeRow]:
    return _step_rows(tree, data, state) if tree.is_checklist else _tree_rows(tree, data, state)


@dataclass
class EditorState:
    """What a render needs beyond the flow: forms that failed, the node to open, messages."""

    failed: dict[str, EditorForm] = field(default_factory=dict)
    open_id: str | None = None
    alerts: list[str] = field(default_factory=list)
    errors_by_node: dict[str | None, list] = field(default_factory=dict)

    def is_open(self, node_id: str) -> bool:
        """The node just changed (or asked for) and nodes whose form failed show their form."""
        failed = any(key.split(":")[1:2] == [node_id] for key in self.failed)
        return node_id == self.open_id or failed


def editor_context(
    request: HttpRequest,
    tree: Tree,
    state: EditorState | None = None,
    details_form: DetailsForm | None = None,
) -> dict[str, Any]:
    state = state or EditorState()
    data = structure.normalise_structure(tree.tree_type, tree.editing_structure)
    structure_errors = structure.validate_structure(tree.tree_type, tree.editing_structure)
    intake = tree.editing_intake_form
    intake_errors = structure.validate_intake_form(intake) if tree.is_checklist else []
    state.errors_by_node = selectors.errors_by_node(structure_errors)
    rows = editor_rows(tree, data, state)
    intake_rows = []
    if tree.is_checklist and isinstance(intake, list):
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
        "intake_rows": intake_rows,
        "intake_add_form": state.failed.get("intake-add") or IntakeFieldForm(key="q-new"),
        "step_add_form": state.failed.get("step-add") or AddStepForm(key="step-new"),
        "structure_errors": structure_errors,
        "intake_errors": intake_errors,
        "problem_count": len(structure_errors) + len(intake_errors),
        "alerts": state.alerts,
        "open_key": state.open_id,
        "details_form": details_form or DetailsForm(user=request.user, tree=tree),
        "category_names": Category.objects.values_list("name", flat=True),
    }


def render_editor(
    request: HttpRequest, tree: Tree, state: EditorState | None = None, *, status: int = 200
) -> HttpResponse:
    template = f"{TEMPLATE}#body" if request.htmx else TEMPLATE
    return render(request, template, editor_context(request, tree, state), status=status)


# --- running a change -----------------------------------------------------------------------


def run_change(
    request: HttpRequest,
    tree: Tree,
    change: Callable[[int], editor.Edited],
    *,
    form: EditorForm | None = None,
    form_key: str = "",
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    """Call an editor service and answer with the body: refreshed, or with the errors."""
    try:
        edited = change(posted_revision(request))
    except editor.EditConflict as conflict:
        state = EditorState(alerts=[error.message for error in conflict.errors])
        return render_editor(request, reloaded(tree), state, status=409)
    except structure.StructureInvalid as refused:
        state = EditorState()
        if form is not None:
            state.alerts = add_service_errors(form, refused, aliases)
            state.failed[form_key] = form
        else:
            state.alerts = [error.message for error in refused.errors]
        return render_editor(request, reloaded(tree), state, status=INVALID)
    if edited.message:
        messages.success(request, edited.message)
    if not request.htmx:
        anchor = f"#node-{edited.node_id}" if edited.node_id else ""
        return redirect(reverse("flows:edit", args=[tree.pk]) + anchor)
    state = EditorState(open_id=edited.node_id)
    return render_editor(request, reloaded(edited.tree), state)


def form_failed(request: HttpRequest, tree: Tree, form: EditorForm, key: str) -> HttpResponse:
    return render_editor(request, tree, EditorState(failed={key: form}), status=INVALID)


def _current_node(tree: Tree, node_id: str) -> dict[str, Any] | None:
    index = structure.node_index(tree.tree_type, tree.editing_structure)
    return index.get(node_id)


# --- pages ----------------------------------------------------------------------------------


@login_required
@require_GET
def edit(request: HttpRequest, pk: Any) -> HttpResponse:
    """The editor; `?open=<node id>` shows that node's form (the no-JavaScript Edit link)."""
    state = EditorState(open_id=request.GET.get("open") or None)
    return render_editor(request, editable_tree(request, pk), state)


@login_required
@require_GET
def node_edit_form(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    """One node's edit area, loaded when its Edit button is first pressed."""
    tree = editable_tree(request, pk)
    if not request.htmx:
        query = urlencode({"open": node_id})
        return redirect(f"{reverse('flows:edit', args=[tree.pk])}?{query}#node-{node_id}")
    data = structure.normalise_structure(tree.tree_type, tree.editing_structure)
    rows = editor_rows(tree, data, EditorState(open_id=node_id))
    row = next((row for row in rows if row.open and row.node_id == node_id), None)
    if row is None:
        raise Http404("That node does not exist any more.")
    return render(request, "flows/editor/_node_edit.html", {"tree": tree, "row": row})


@login_required
@require_POST
def details(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = DetailsForm(request.POST, user=request.user, tree=tree)
    status = INVALID
    if form.is_valid():
        try:
            tree = services.tree_update(tree=tree, user=request.user, **form.changes())
        except services.PublishRefused as refused:  # the live flow is invalid (admin edit)
            form.add_error(None, str(refused))
        else:
            label = "Details saved." if tree.is_published else "Draft saved."
            messages.success(request, label)
            if not request.htmx:
                return redirect("flows:edit", pk=tree.pk)
            tree = reloaded(tree)
            form = DetailsForm(user=request.user, tree=tree)
            status = 200
    template = f"{TEMPLATE}#details" if request.htmx else TEMPLATE
    context = editor_context(request, tree, details_form=form)
    return render(request, template, context, status=status)


@login_required
@require_POST
def node_update(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    tree = editable_tree(request, pk)
    node = _current_node(tree, node_id)
    targets = _targets(tree, tree.editing_structure)
    form = node_form(node, key="failed", targets=targets, data=request.POST) if node else None
    if form is None:  # removed in another tab, or a type the editor does not know
        return run_change(request, tree, lambda revision: _unknown(node_id))
    key = f"node:{node_id}"
    if not form.is_valid():
        return form_failed(request, tree, form, key)
    changes = form.changes()
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_node_update(
            tree=tree, user=request.user, revision=revision, node_id=node_id, changes=changes
        ),
        form=form,
        form_key=key,
    )


def _unknown(node_id: str) -> editor.Edited:
    short = f"{node_id[:60]}…" if len(node_id) > 60 else node_id
    raise editor.refuse(
        f"There is no node '{short}' (any more); it may have been removed in another tab. "
        "The editor now shows the current version."
    )


@login_required
@require_POST
def node_remove(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    tree = editable_tree(request, pk)
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_node_remove(
            tree=tree, user=request.user, revision=revision, node_id=node_id
        ),
    )


@login_required
@require_POST
def node_move(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    tree = editable_tree(request, pk)
    direction = request.POST.get("direction", "")
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_node_move(
            tree=tree,
            user=request.user,
            revision=revision,
            node_id=node_id,
            direction=direction,  # type: ignore[arg-type]
        ),
    )


@login_required
@require_POST
def node_add(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    """Add a troubleshooting node under a decision or after an action."""
    tree = editable_tree(request, pk)
    parent = _current_node(tree, node_id)
    options = None
    if parent is not None and parent.get("type") == "decision":
        options = parent.get("options") if isinstance(parent.get("options"), list) else []
    form = AddNodeForm(request.POST, key="failed", options=options)
    key = f"add:{node_id}"
    if not form.is_valid():
        return form_failed(request, tree, form, key)
    arguments = form.service_arguments()
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_node_add(
            tree=tree, user=request.user, revision=revision, parent_id=node_id, **arguments
        ),
        form=form,
        form_key=key,
        aliases=AddNodeForm.aliases,
    )


@login_required
@require_POST
def option_add(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = OptionForm(request.POST, key="failed", targets=_targets(tree, tree.editing_structure))
    key = f"option-add:{node_id}"
    if not form.is_valid():
        return form_failed(request, tree, form, key)
    data = form.cleaned_data
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_option_add(
            tree=tree,
            user=request.user,
            revision=revision,
            node_id=node_id,
            label=data["label"],
            next_node_id=data["next_node_id"],
        ),
        form=form,
        form_key=key,
    )


@login_required
@require_POST
def option_update(request: HttpRequest, pk: Any, node_id: str, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = OptionForm(request.POST, key="failed", targets=_targets(tree, tree.editing_structure))
    key = f"option:{node_id}:{index}"
    if not form.is_valid():
        return form_failed(request, tree, form, key)
    data = form.cleaned_data
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_option_update(
            tree=tree,
            user=request.user,
            revision=revision,
            node_id=node_id,
            index=index,
            label=data["label"],
            next_node_id=data["next_node_id"],
        ),
        form=form,
        form_key=key,
    )


@login_required
@require_POST
def option_remove(request: HttpRequest, pk: Any, node_id: str, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_option_remove(
            tree=tree, user=request.user, revision=revision, node_id=node_id, index=index
        ),
    )


@login_required
@require_POST
def step_add(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = AddStepForm(request.POST, key="step-new")
    if not form.is_valid():
        return form_failed(request, tree, form, "step-add")
    data = form.cleaned_data
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_step_add(
            tree=tree,
            user=request.user,
            revision=revision,
            step_type=data["step_type"],
            title=data["title"],
            after_id=request.POST.get("after") or None,
        ),
        form=form,
        form_key="step-add",
    )


@login_required
@require_POST
def intake_add(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = IntakeFieldForm(request.POST, key="q-new")
    if not form.is_valid():
        return form_failed(request, tree, form, "intake-add")
    arguments = form.service_arguments()
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_intake_field_add(
            tree=tree, user=request.user, revision=revision, **arguments
        ),
        form=form,
        form_key="intake-add",
        aliases=IntakeFieldForm.aliases,
    )


@login_required
@require_POST
def intake_update(request: HttpRequest, pk: Any, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    key = f"intake:{index}"
    intake = tree.editing_intake_form if isinstance(tree.editing_intake_form, list) else []
    current = intake[index] if index < len(intake) else {}
    form = IntakeFieldForm.for_field(current, key=f"q{index}", data=request.POST)
    if not form.is_valid():
        return form_failed(request, tree, form, key)
    arguments = form.service_arguments()
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_intake_field_update(
            tree=tree, user=request.user, revision=revision, index=index, **arguments
        ),
        form=form,
        form_key=key,
        aliases=IntakeFieldForm.aliases,
    )


@login_required
@require_POST
def intake_remove(request: HttpRequest, pk: Any, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_intake_field_remove(
            tree=tree, user=request.user, revision=revision, index=index
        ),
    )


@login_required
@require_POST
def intake_move(request: HttpRequest, pk: Any, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    direction = request.POST.get("direction", "")
    return run_change(
        request,
        tree,
        lambda revision: editor.tree_intake_field_move(
            tree=tree,
            user=request.user,
            revision=revision,
            index=index,
            direction=direction,  # type: ignore[arg-type]
        ),
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: Any) -> HttpResponse:
    """Validate the editor's version and make it live; errors show beside their nodes."""
    tree = editable_tree(request, pk)
    if posted_revision(request) != tree.revision:
        alerts = [editor.CONFLICT_MESSAGE]
        return render_editor(request, tree, EditorState(alerts=alerts), status=409)
    try:
        tree = services.tree_publish(tree=tree, user=request.user)
    except services.PublishRefused as refused:
        count = len(refused.errors)
        alert = (
            f"Not published: {count} problem{'s' if count != 1 else ''} must be fixed first; "
            "each is listed below and marked on its node."
        )
        return render_editor(request, tree, EditorState(alerts=[alert]), status=INVALID)
    messages.success(request, f"“{tree.name}” is published.")
    url = reverse("flows:detail", args=[tree.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def discard(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = services.tree_changes_discard(tree=editable_tree(request, pk), user=request.user)
    messages.success(request, "Unpublished changes discarded; the published version is back.")
    if not request.htmx:
        return redirect("flows:edit", pk=tree.pk)
    return render_editor(request, reloaded(tree))


@login_required
@require_GET
def preview(request: HttpRequest, pk: Any) -> HttpResponse:
    """A read-only walk-through of the editor's version: nothing is recorded anywhere.

    Troubleshooting: one node at a time, following options through `?at=` and `?trail=`.
    Checklists: every section and step as an engineer would see them."""
    tree = editable_tree(request, pk)
    data = structure.normalise_structure(tree.tree_type, tree.editing_structure)
    context: dict[str, Any] = {"tree": tree}
    if tree.is_checklist:
        context["sections"] = selectors.checklist_sections(tree, data=data)
        context["intake_form"] = tree.editing_intake_form
    else:
        context.update(preview_step(request, tree, data))
    return render(request, "flows/preview.html", context)


def preview_step(request: HttpRequest, tree: Tree, data: Any) -> dict[str, Any]:
    """Where a troubleshooting walk-through is: the node, the path so far, where Back goes."""
    index = structure.node_index(tree.tree_type, data)
    root_id = data.get("id") if isinstance(data, dict) else None
    at = request.GET.get("at") or root_id
    trail = [t for t in request.GET.get("trail", "").split(",") if t in index][:200]
    node = index.get(at) if isinstance(at, str) else None
    url = reverse("flows:editor_preview", args=[tree.pk])
    onward = ",".join([*trail, at]) if node is not None else ",".join(trail)
    back = None
    if trail:
        back = f"{url}?{urlencode({'at': trail[-1], 'trail': ','.join(trail[:-1])})}"
    choices = []
    if node is not None:
        links = node.get("options") if node.get("type") == "decision" else None
        if node.get("type") == "action":
            links = [{"label": "Done, continue", "next_node_id": node.get("next_node_id")}]
        for link in links if isinstance(links, list) else []:
            target = link.get("next_node_id") if isinstance(link, dict) else None
            if isinstance(target, str) and target in index:
                query = urlencode({"at": target, "trail": onward})
                choices.append({"label": link.get("label") or target, "url": f"{url}?{query}"})
            elif isinstance(link, dict):
                choices.append({"label": link.get("label") or "Next", "url": None})
    return {
        "node": node,
        "trail": [index[t] for t in trail],
        "choices": choices,
        "back_url": back,
        "restart_url": url,
    }
