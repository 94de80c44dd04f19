"""Versions and lineage pages: history, diffs, restore, publish review, compare and pull a
fork's parent changes. Every write calls flows.services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from flows import diagram, diff, merge, selectors, services
from flows.models import Tree
from flows.views import invalid_messages, visible_tree


def _editable(request: HttpRequest, pk: Any) -> Tree:
    tree = visible_tree(request, pk)
    services.ensure_can_edit(tree=tree, user=request.user)
    return tree


def _diff_context(tree: Tree, before: Any, after: Any) -> dict[str, Any]:
    before_label = selectors.tree_side(tree, before)[0]
    after_label, after_structure, _name = selectors.tree_side(tree, after)
    changes = selectors.tree_diff(tree, before, after)
    return {
        "diff": changes,
        "diagram": diff.diff_diagram(tree.tree_type, after_structure, changes),
        "tree_diagram": None
        if tree.is_checklist
        else diagram.flow_diagram(
            after_structure, dom_id="diff-flow-diagram", marks=diagram.change_marks(changes.changes)
        ),
        "before_label": before_label,
        "after_label": after_label,
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


@login_required
@require_GET
def compare(request: HttpRequest, pk: Any) -> HttpResponse:
    """A fork beside its parent: the parent's changes since the fork and the fork's own, and
    a preview of pulling the parent's changes (conflicts to choose)."""
    tree = visible_tree(request, pk)
    parent = tree.parent_tree
    can_edit = tree.can_be_edited_by(request.user)
    if parent is None or not Tree.objects.for_user(request.user).filter(pk=parent.pk).exists():
        messages.error(request, "This flow has no parent you can compare with.")
        return redirect("flows:detail", pk=tree.pk)
    context: dict[str, Any] = {
        "tree": tree,
        "parent": parent,
        "comparison": selectors.fork_compare(tree, working_copy=can_edit),
        "can_edit": can_edit,
        "tab": "compare",
    }
    if parent.is_published and can_edit:
        context["preview"] = services.fork_merge(tree, request.user)
    return render(request, "flows/compare.html", context)


@login_required
@require_POST
def pull_parent(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = visible_tree(request, pk)
    resolutions = {
        key.removeprefix("resolve-"): value
        for key, value in request.POST.items()
        if key.startswith("resolve-") and value in merge.RESOLUTIONS
    }
    try:
        result = services.tree_pull_parent(tree=tree, user=request.user, resolutions=resolutions)
    except ValidationError as invalid:
        for _field, problems in invalid_messages(invalid):
            messages.error(request, " ".join(problems))
        return redirect("flows:compare", pk=tree.pk)
    if result.unresolved:
        count = len(result.unresolved)
        messages.error(
            request,
            f"Nothing pulled yet: choose the parent's or your version for {count} "
            f"conflicting node{'s' if count != 1 else ''}.",
        )
        return redirect("flows:compare", pk=tree.pk)
    messages.success(
        request,
        f"Pulled the parent's changes ({len(result.applied)} node(s)) into the working copy. "
        "Review and publish when ready.",
    )
    return redirect("flows:edit", pk=tree.pk)
