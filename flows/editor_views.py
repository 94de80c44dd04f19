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
from flows.editor_rows import EditorState, editor_context, editor_rows, link_targets
from flows.forms import (
    AddNodeForm,
    AddStepForm,
    AttachForm,
    DetailsForm,
    EditorForm,
    IntakeFieldForm,
    OptionForm,
    add_service_errors,
    node_form,
)
from flows.models import Tree
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


def _checked_key(tree: Tree) -> str:
    return f"rf-editor-checked-{tree.pk}"


def render_editor(
    request: HttpRequest, tree: Tree, state: EditorState | None = None, *, status: int = 200
) -> HttpResponse:
    """The editor page (or its body for htmx). Once the author tried to publish, every render
    lists what publishing still needs (remembered in the login session, per flow)."""
    state = state or EditorState()
    state.checked = state.checked or bool(request.session.get(_checked_key(tree)))
    template = f"{TEMPLATE}#body" if request.htmx else TEMPLATE
    return render(request, template, editor_context(request.user, tree, state), status=status)


# --- running a change -----------------------------------------------------------------------


def apply_change(
    request: HttpRequest,
    tree: Tree,
    service: Callable[..., editor.Edited],
    *,
    form: EditorForm | None = None,
    form_key: str = "",
    **arguments: Any,
) -> HttpResponse:
    """The shape of every editor change: check the posted form (422 with the form beside its
    node), call the editor service with the revision the page was rendered from (stale: 409
    with the latest version; refused: 422 with the errors next to the fields), then answer with
    the refreshed body, or redirect back to the page without htmx.

    The service gets `tree`, `user`, `revision`, `arguments` and the form's
    `service_arguments()`; `form_key` names the form in `EditorState.failed`."""
    if form is not None:
        if not form.is_valid():
            return form_failed(request, tree, form, form_key)
        arguments.update(form.service_arguments())
    try:
        edited = service(
            tree=tree, user=request.user, revision=posted_revision(request), **arguments
        )
    except editor.EditConflict as conflict:
        state = EditorState(alerts=[error.message for error in conflict.errors])
        return render_editor(request, reloaded(tree), state, status=409)
    except structure.StructureInvalid as refused:
        state = EditorState()
        if form is not None:
            state.alerts = add_service_errors(form, refused, form.aliases)
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


def _missing_node(*, node_id: str, **_: Any) -> editor.Edited:
    """The "service" of a change to a node that is gone (or of a type the editor lacks)."""
    short = f"{node_id[:60]}…" if len(node_id) > 60 else node_id
    raise editor.refuse(
        f"There is no node '{short}' (any more); it may have been removed in another tab. "
        "The editor now shows the current version."
    )


def _targets(tree: Tree) -> list[tuple[str, str]]:
    return link_targets(tree, tree.editing_structure)


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
    rows = editor_rows(tree, data, EditorState(open_id=node_id, staff=request.user.is_staff))
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
        # Details only: they apply at once, also on a published flow (no revision needed).
        tree = services.tree_update(tree=tree, user=request.user, **form.changes())
        messages.success(request, "Details saved." if tree.is_published else "Draft saved.")
        if not request.htmx:
            return redirect("flows:edit", pk=tree.pk)
        tree = reloaded(tree)
        form = DetailsForm(user=request.user, tree=tree)
        status = 200
    template = f"{TEMPLATE}#details" if request.htmx else TEMPLATE
    state = EditorState(checked=bool(request.session.get(_checked_key(tree))))
    context = editor_context(request.user, tree, state, details_form=form)
    return render(request, template, context, status=status)


@login_required
@require_POST
def node_update(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    tree = editable_tree(request, pk)
    node = _current_node(tree, node_id)
    form = (
        node_form(
            node,
            key="failed",
            targets=_targets(tree),
            data=request.POST,
            staff=request.user.is_staff,
        )
        if node
        else None
    )
    if form is None:  # removed in another tab, or a type the editor does not know
        return apply_change(request, tree, _missing_node, node_id=node_id)
    return apply_change(
        request,
        tree,
        editor.tree_node_update,
        form=form,
        form_key=f"node:{node_id}",
        node_id=node_id,
    )


@login_required
@require_POST
def node_remove(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    tree = editable_tree(request, pk)
    return apply_change(request, tree, editor.tree_node_remove, node_id=node_id)


def move_arguments(request: HttpRequest) -> dict[str, Any]:
    """A move posts `direction` (the up/down buttons) or `to` (a drag and drop's new place)."""
    to = request.POST.get("to")
    if to is None:
        return {"direction": request.POST.get("direction", "")}
    return {"to": int(to) if to.strip().isdigit() else to}


@login_required
@require_POST
def node_move(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    tree = editable_tree(request, pk)
    return apply_change(
        request, tree, editor.tree_node_move, node_id=node_id, **move_arguments(request)
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
    return apply_change(
        request,
        tree,
        editor.tree_node_add,
        form=form,
        form_key=f"add:{node_id}",
        parent_id=node_id,
    )


@login_required
@require_POST
def node_attach(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    """Repair: connect a node nothing leads to from a question (new answer) or an action."""
    tree = editable_tree(request, pk)
    data = tree.editing_structure
    index = structure.node_index(tree.tree_type, data)
    decisions = {key for key, node in index.items() if node.get("type") == "decision"}
    form = AttachForm(request.POST, key="failed", sources=_targets(tree), decisions=decisions)
    return apply_change(
        request,
        tree,
        editor.tree_node_attach,
        form=form,
        form_key=f"attach:{node_id}",
        node_id=node_id,
    )


@login_required
@require_POST
def option_add(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = OptionForm(request.POST, key="failed", targets=_targets(tree))
    return apply_change(
        request,
        tree,
        editor.tree_option_add,
        form=form,
        form_key=f"option-add:{node_id}",
        node_id=node_id,
    )


@login_required
@require_POST
def option_update(request: HttpRequest, pk: Any, node_id: str, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = OptionForm(request.POST, key="failed", targets=_targets(tree))
    return apply_change(
        request,
        tree,
        editor.tree_option_update,
        form=form,
        form_key=f"option:{node_id}:{index}",
        node_id=node_id,
        index=index,
    )


@login_required
@require_POST
def option_move(request: HttpRequest, pk: Any, node_id: str, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    return apply_change(
        request,
        tree,
        editor.tree_option_move,
        node_id=node_id,
        index=index,
        **move_arguments(request),
    )


@login_required
@require_POST
def option_remove(request: HttpRequest, pk: Any, node_id: str, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    return apply_change(request, tree, editor.tree_option_remove, node_id=node_id, index=index)


@login_required
@require_POST
def step_add(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = AddStepForm(request.POST, key="step-new")
    after_id = request.POST.get("after") or None
    return apply_change(
        request, tree, editor.tree_step_add, form=form, form_key="step-add", after_id=after_id
    )


@login_required
@require_POST
def intake_add(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = editable_tree(request, pk)
    form = IntakeFieldForm(request.POST, key="q-new")
    return apply_change(
        request, tree, editor.tree_intake_field_add, form=form, form_key="intake-add"
    )


@login_required
@require_POST
def intake_update(request: HttpRequest, pk: Any, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    intake = tree.editing_intake_form if isinstance(tree.editing_intake_form, list) else []
    current = intake[index] if index < len(intake) else {}
    form = IntakeFieldForm.for_field(current, key=f"q{index}", data=request.POST)
    return apply_change(
        request,
        tree,
        editor.tree_intake_field_update,
        form=form,
        form_key=f"intake:{index}",
        index=index,
    )


@login_required
@require_POST
def intake_remove(request: HttpRequest, pk: Any, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    return apply_change(request, tree, editor.tree_intake_field_remove, index=index)


@login_required
@require_POST
def intake_move(request: HttpRequest, pk: Any, index: int) -> HttpResponse:
    tree = editable_tree(request, pk)
    return apply_change(
        request, tree, editor.tree_intake_field_move, index=index, **move_arguments(request)
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: Any) -> HttpResponse:
    """Validate the editor's version and make it live; errors show beside their nodes."""
    tree = editable_tree(request, pk)
    try:
        tree = services.tree_publish(
            tree=tree,
            user=request.user,
            revision=posted_revision(request),
            note=request.POST.get("note", "")[: services.NOTE_LIMIT],
        )
    except services.EditConflict:
        alerts = [editor.CONFLICT_MESSAGE]
        return render_editor(request, reloaded(tree), EditorState(alerts=alerts), status=409)
    except services.PublishRefused as refused:
        request.session[_checked_key(tree)] = True
        count = len(refused.errors)
        alert = (
            f"Not published: {count} problem{'s' if count != 1 else ''} must be fixed first; "
            "each is listed below and marked on its node."
        )
        return render_editor(request, tree, EditorState(alerts=[alert]), status=INVALID)
    request.session.pop(_checked_key(tree), None)
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
