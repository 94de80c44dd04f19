"""Versions and lineage pages: history, diffs, restore, publish review, compare and pull a
fork's parent changes. Every write calls flows.services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from flows import diagram, diff, merge, selectors, services
from flows.forms.editor import IntakeFieldForm, add_service_errors, node_form
from flows.models import Tree
from flows.structure import StructureInvalid
from flows.views import invalid_messages, visible_tree


def _editable(request: HttpRequest, pk: Any) -> Tree:
    tree = visible_tree(request, pk)
    services.ensure_can_edit(tree=tree, user=request.user)
    return tree


def _diff_context(tree: Tree, before: Any, after: Any) -> dict[str, Any]:
    old, new = selectors.tree_side(tree, before), selectors.tree_side(tree, after)
    changes = selectors.sides_diff(tree.tree_type, old, new)
    return {
        "diff": changes,
        "diagram": diff.diff_diagram(tree.tree_type, new.structure, changes),
        "tree_diagram": None
        if tree.is_checklist
        else diagram.flow_diagram(
            new.structure, dom_id="diff-flow-diagram", marks=diagram.change_marks(changes.changes)
        ),
        "before_label": old.label,
        "after_label": new.label,
    }


@login_required
@require_GET
def history(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = visible_tree(request, pk)
    context = {
        "tree": tree,
        "versions": list(selectors.tree_versions(tree)),
        "can_edit": tree.can_be_edited_by(request.user),
        "tab": "history",
    }
    return render(request, "flows/history.html", context)


@login_required
@require_GET
def version_detail(request: HttpRequest, pk: Any, number: int) -> HttpResponse:
    """One published version, read-only: who published it, when and why, its runs, its
    structure and intake form, and links to compare or restore it."""
    tree = visible_tree(request, pk)
    version = get_object_or_404(selectors.tree_version_details(tree), number=number)
    latest = tree.versions.order_by("-number").values_list("number", flat=True).first()
    context = {
        "tree": tree,
        "version": version,
        "is_live": tree.is_published and version.number == latest,
        "previous": version.number - 1 if version.number > 1 else None,
        "outline": selectors.tree_outline(tree, data=version.tree_structure),
        "sections": selectors.checklist_sections(tree, data=version.tree_structure),
        "intake": selectors.intake_rows(version.intake_form),
        "can_edit": tree.can_be_edited_by(request.user),
        "tab": "history",
    }
    return render(request, "flows/version.html", context)


@login_required
@require_GET
def diff_page(request: HttpRequest, pk: Any) -> HttpResponse:
    """Side by side: `from` and `to` are version numbers, `draft` or `live` (the default)."""
    tree = visible_tree(request, pk)
    can_edit = tree.can_be_edited_by(request.user)
    before = request.GET.get("from") or "live"
    after = request.GET.get("to") or ("draft" if can_edit else "live")
    if selectors.DRAFT in (before, after) and not can_edit:
        raise PermissionDenied("Only the flow's editors see its unpublished changes.")
    try:
        context = _diff_context(tree, before, after)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
        return redirect("flows:history", pk=tree.pk)
    context.update(tree=tree, tab="history", can_edit=tree.can_be_edited_by(request.user))
    return render(request, "flows/diff.html", context)


@login_required
@require_POST
def restore(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = visible_tree(request, pk)
    try:
        number = int(request.POST.get("version", ""))
        services.tree_restore(tree=tree, user=request.user, number=number)
    except (ValueError, ValidationError):
        messages.error(request, "Choose a version of this flow to restore.")
        return redirect("flows:history", pk=tree.pk)
    messages.success(
        request, f"Version {number} is in the working copy. Review it and publish to make it live."
    )
    latest = tree.versions.order_by("-number").values_list("number", flat=True).first()
    return redirect(f"{reverse('flows:diff', args=[tree.pk])}?from={latest or 'live'}&to=draft")


@login_required
@require_GET
def publish_review(request: HttpRequest, pk: Any) -> HttpResponse:
    """The Publish dialog: what is about to go live (working copy against live) and a note."""
    tree = _editable(request, pk)
    context = _diff_context(tree, "live", "draft") if tree.is_published else {}
    context.update(tree=tree, errors=tree.editing_errors())
    return render(request, "flows/publish_review.html", context)


def _edit_form(user: Any, conflict: merge.Conflict, targets: list, data: Any = None) -> Any:
    """The inline "edit" form of one conflict, prefilled from the fork's side (else the
    parent's); its fields are named `edit-<conflict id>-<field>`."""
    prefix, key = f"edit-{conflict.id}", f"c-{conflict.id}"
    if conflict.scope == merge.INTAKE:
        form = IntakeFieldForm.for_field(conflict.side, key=key, data=data, prefix=prefix)
        form.fields["name"].disabled = True  # fields are matched by name: it stays
        return form
    return node_form(
        conflict.side, key=key, targets=targets, data=data, staff=user.is_staff, prefix=prefix
    )


def _edit_content(conflict: merge.Conflict, form: Any) -> dict[str, Any]:
    """What the form says, in the shape `services.tree_pull_parent` takes for an edit."""
    if conflict.scope == merge.INTAKE:
        data = form.service_arguments()
        return {
            "label": data["label"],
            "type": data["field_type"],
            "required": data["required"],
            "options": data["options"],
        }
    return form.changes()


def _conflict_rows(
    request: HttpRequest, tree: Tree, conflicts: list[merge.Conflict], data: Any = None
) -> list[dict[str, Any]]:
    """Each conflict with its posted choice and its edit form (bound when posted)."""
    parent = tree.parent_tree
    titles = selectors.node_titles(tree.tree_type, tree.editing_structure)
    for node_id, title in selectors.node_titles(tree.tree_type, parent.tree_structure).items():
        titles.setdefault(node_id, title)
    targets = sorted(titles.items(), key=lambda pair: pair[1].casefold())
    rows = []
    for conflict in conflicts:
        choice = data.get(f"resolve-{conflict.id}") if data is not None else None
        bound = data if choice == merge.EDIT else None
        form = _edit_form(request.user, conflict, targets, bound)
        rows.append({"conflict": conflict, "choice": choice, "form": form})
    return rows


def _compare_page(
    request: HttpRequest, tree: Tree, rows: list | None = None, status: int = 200
) -> HttpResponse:
    """The compare page; `rows` are the conflicts as posted (with their errors)."""
    parent = tree.parent_tree
    can_edit = tree.can_be_edited_by(request.user)
    context: dict[str, Any] = {
        "tree": tree,
        "parent": parent,
        "comparison": selectors.fork_compare(tree, working_copy=can_edit),
        "can_edit": can_edit,
        "tab": "compare",
    }
    if parent.is_published and can_edit:
        preview = services.fork_merge(tree, request.user)
        context["preview"] = preview
        if rows is None:
            rows = _conflict_rows(request, tree, preview.conflicts)
        context["conflict_rows"] = rows
    return render(request, "flows/compare.html", context, status=status)


def _has_visible_parent(request: HttpRequest, tree: Tree) -> bool:
    parent = tree.parent_tree
    return parent is not None and Tree.objects.for_user(request.user).filter(pk=parent.pk).exists()


@login_required
@require_GET
def compare(request: HttpRequest, pk: Any) -> HttpResponse:
    """A fork beside its parent: the parent's changes since the fork and the fork's own, and
    a preview of pulling the parent's changes (conflicts to choose: theirs, mine or edit)."""
    tree = visible_tree(request, pk)
    if not _has_visible_parent(request, tree):
        messages.error(request, "This flow has no parent you can compare with.")
        return redirect("flows:detail", pk=tree.pk)
    return _compare_page(request, tree)


@login_required
@require_POST
def pull_parent(request: HttpRequest, pk: Any) -> HttpResponse:
    """Pull with the posted choices; an invalid edit re-renders the page with the errors
    next to its fields (400), nothing written."""
    tree = visible_tree(request, pk)
    try:
        services.ensure_can_edit(tree=tree, user=request.user)
        conflicts = services.fork_merge(tree, request.user).conflicts
    except ValidationError as invalid:
        for _field, problems in invalid_messages(invalid):
            messages.error(request, " ".join(problems))
        return redirect("flows:compare", pk=tree.pk)
    rows = _conflict_rows(request, tree, conflicts, request.POST)
    resolutions: dict[str, Any] = {}
    for row in rows:
        conflict, choice, form = row["conflict"], row["choice"], row["form"]
        if choice in merge.RESOLUTIONS:
            resolutions[conflict.id] = choice
        elif choice == merge.EDIT and form is not None and form.is_valid():
            resolutions[conflict.id] = {merge.EDIT: _edit_content(conflict, form)}
    if any(row["choice"] == merge.EDIT and row["form"] and row["form"].errors for row in rows):
        return _compare_page_with(request, tree, rows)
    try:
        result = services.tree_pull_parent(tree=tree, user=request.user, resolutions=resolutions)
    except services.MergeEditInvalid as refused:
        for row in rows:
            problems = refused.errors.get(row["conflict"].id)
            if problems and row["form"] is not None:
                loose = add_service_errors(
                    row["form"], StructureInvalid(problems), row["form"].aliases
                )
                for message in loose:
                    row["form"].add_error(None, message)
        return _compare_page_with(request, tree, rows)
    except ValidationError as invalid:
        for _field, problems in invalid_messages(invalid):
            messages.error(request, " ".join(problems))
        return redirect("flows:compare", pk=tree.pk)
    if result.unresolved:
        count = len(result.unresolved)
        messages.error(
            request,
            f"Nothing pulled yet: choose the parent's, yours or your own edit for {count} "
            f"conflict{'s' if count != 1 else ''}.",
        )
        return redirect("flows:compare", pk=tree.pk)
    changed = len(result.applied) + len(result.applied_intake)
    messages.success(
        request,
        f"Pulled the parent's changes ({changed} node(s) and question(s)) into the working "
        "copy. Review and publish when ready.",
    )
    return redirect("flows:edit", pk=tree.pk)


def _compare_page_with(request: HttpRequest, tree: Tree, rows: list) -> HttpResponse:
    """The compare page again with the posted choices and the edit forms' errors."""
    messages.error(request, "Nothing pulled yet: fix your edited version below.")
    return _compare_page(request, tree, rows, status=400)
