"""Flow pages: library, my flows, detail, create, JSON edit, publish/unpublish/retire, fork,
export and import. The visual editors live in `flows/editor_views.py`."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from flows import diagram, selectors, services, structure
from flows.filters import TreeFilterSet
from flows.forms import ForkForm, ImportForm, TreeForm
from flows.models import Tree
from resolutionflow.pages import is_partial, paginate_capped

PAGE_SIZE = 24


def render_list(request: HttpRequest, template: str, filterset: TreeFilterSet, **extra: Any):
    """Full page, or only the results when htmx filters the list in place."""
    context = {
        "filterset": filterset,
        "page": paginate_capped(request, filterset.qs, PAGE_SIZE),
        **extra,
    }
    if is_partial(request):
        template = f"{template}#results"
    return render(request, template, context)


@login_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    base = Tree.objects.for_user(request.user).runnable().for_lists()
    filterset = TreeFilterSet(request.GET, queryset=base, request=request)
    return render_list(request, "flows/library.html", filterset)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    base = selectors.trees_of_own_account(user=request.user).for_lists()
    filterset = TreeFilterSet(request.GET, queryset=base, request=request)
    return render_list(request, "flows/mine.html", filterset)


def visible_tree(request: HttpRequest, pk: Any) -> Tree:
    """Another account's flow (or a draft a viewer may not see) is a 404, never a 403."""
    return get_object_or_404(Tree.objects.for_user(request.user).with_card_data(), pk=pk)


def render_detail(request: HttpRequest, tree: Tree, *, errors=None, status: int = 200):
    parent_visible = bool(
        tree.parent_tree_id
        and Tree.objects.for_user(request.user).filter(pk=tree.parent_tree_id).exists()
    )
    context = {
        "tree": tree,
        "fork_info": tree.fork_info,
        "parent_visible": parent_visible,
        "structure": tree.normalised_structure(),
        "outline": selectors.tree_outline(tree, errors or []),
        "sections": selectors.checklist_sections(tree, errors or []),
        "can_edit": tree.can_be_edited_by(request.user),
        "publish_errors": errors or [],
    }
    return render(request, "flows/detail.html", context, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: Any) -> HttpResponse:
    return render_detail(request, visible_tree(request, pk))


@login_required
@require_GET
def diagram_partial(request: HttpRequest, pk: Any) -> HttpResponse:
    """The flow page's diagram, loaded when the reader switches to it: the live version, like
    the outline beside it."""
    tree = visible_tree(request, pk)
    if tree.is_checklist:
        raise Http404("Checklists are shown as their list of steps.")
    if not request.htmx:  # a bare fragment is no page: show it where it belongs
        return redirect("flows:detail", pk=tree.pk)
    drawing = diagram.flow_diagram(tree.normalised_structure(), dom_id="flow-diagram")
    return render(request, "flows/_flow_diagram.html", {"diagram": drawing, "mode": "view"})


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if not request.user.can_edit_content:
        raise PermissionDenied("Viewers cannot create flows.")
    form = TreeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        tree = form.save_new()
        if tree is not None:
            messages.success(request, f"Draft “{tree.name}” created.")
            return redirect("flows:edit", pk=tree.pk)
    return render(request, "flows/form.html", {"form": form, "tree": None})


@login_required
@require_http_methods(["GET", "POST"])
def edit_json(request: HttpRequest, pk: Any) -> HttpResponse:
    """Advanced: the whole structure as JSON. A published flow's changes go to its working
    copy, like the visual editor's."""
    tree = visible_tree(request, pk)
    services.ensure_can_edit(tree=tree, user=request.user)
    form = TreeForm(request.POST or None, user=request.user, instance=tree)
    if request.method == "POST" and form.is_valid():
        saved = form.save_existing()
        if saved is not None:
            messages.success(request, f"Saved “{saved.name}”.")
            return redirect("flows:edit", pk=saved.pk)
    status = 409 if form.conflict else 422 if form.errors else 200
    return render(request, "flows/form.html", {"form": form, "tree": tree}, status=status)


@login_required
@require_POST
def publish(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = visible_tree(request, pk)
    try:
        tree = services.tree_publish(
            tree=tree, user=request.user, note=request.POST.get("note", "")[: services.NOTE_LIMIT]
        )
    except services.PublishRefused as refused:
        messages.error(request, str(refused))
        return render_detail(request, tree, errors=refused.errors, status=400)
    messages.success(request, f"“{tree.name}” is published.")
    return redirect_back(request, tree)


@login_required
@require_POST
def unpublish(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = services.tree_unpublish(tree=visible_tree(request, pk), user=request.user)
    messages.success(request, f"“{tree.name}” is a draft again.")
    return redirect_back(request, tree)


@login_required
@require_POST
def retire(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = services.tree_set_active(tree=visible_tree(request, pk), user=request.user, active=False)
    messages.success(request, f"“{tree.name}” is retired: hidden from the library, history kept.")
    return redirect_back(request, tree)


@login_required
@require_POST
def reactivate(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = services.tree_set_active(tree=visible_tree(request, pk), user=request.user, active=True)
    messages.success(request, f"“{tree.name}” is active again.")
    return redirect_back(request, tree)


@login_required
@require_POST
def verify(request: HttpRequest, pk: Any) -> HttpResponse:
    """Mark verified: back to the page it was pressed on (analytics, review, detail)."""
    tree = visible_tree(request, pk)
    services.tree_mark_verified(tree=tree, user=request.user)
    messages.success(request, f"“{tree.name}” is marked verified.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("flows:detail", pk=tree.pk)


def redirect_back(request: HttpRequest, tree: Tree) -> HttpResponse:
    """Actions are offered on My flows and on the detail page: return where the user was."""
    if request.POST.get("next") == "mine":
        return redirect(reverse("flows:mine"))
    return redirect("flows:detail", pk=tree.pk)


@login_required
@require_http_methods(["GET", "POST"])
def fork(request: HttpRequest, pk: Any) -> HttpResponse:
    """The fork form: the modal's content for htmx, a page without JavaScript."""
    tree = visible_tree(request, pk)
    if not request.user.can_edit_content:
        raise PermissionDenied("Viewers cannot fork flows.")
    initial = {"name": f"Copy of {tree.name}"[: services.FORK_TEXT_LIMIT]}
    form = ForkForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.tree_fork(
                tree=tree,
                user=request.user,
                name=form.cleaned_data["name"],
                fork_reason=form.cleaned_data["fork_reason"],
            )
        except ValidationError as invalid:
            form.add_error(None, invalid)
        else:
            messages.success(request, f"Forked “{tree.name}”: “{copy.name}” is your draft now.")
            url = reverse("flows:detail", args=[copy.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    template = "flows/fork.html#modal" if request.htmx else "flows/fork.html"
    status = 422 if form.errors else 200
    return render(request, template, {"tree": tree, "form": form}, status=status)


@login_required
@require_GET
def export(request: HttpRequest, pk: Any) -> HttpResponse:
    """Download the flow as a versioned JSON document (see `selectors.tree_export`)."""
    tree = visible_tree(request, pk)
    document = selectors.tree_export(tree)
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    filename = f"{slugify(tree.name)[:80] or 'flow'}.resolutionflow.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_flow(request: HttpRequest) -> HttpResponse:
    """Upload an exported flow; it becomes a draft in the user's account, or nothing at all."""
    if not request.user.can_edit_content:
        raise PermissionDenied("Viewers cannot import flows.")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            tree = services.tree_import_file(user=request.user, content=form.cleaned_data["file"])
        except structure.StructureInvalid as invalid:
            for error in invalid.errors[:20]:
                form.add_error("file", str(error))
        except ValidationError as invalid:
            for field, problems in invalid_messages(invalid):
                prefix = f"{field}: " if field else ""
                for problem in problems:
                    form.add_error("file", f"{prefix}{problem}")
        except PermissionDenied as denied:
            form.add_error(None, str(denied))
        else:
            problems = len(tree.publish_errors())
            note = f" {problems} problem(s) to fix before publishing." if problems else ""
            messages.success(request, f"Imported “{tree.name}” as a draft.{note}")
            return redirect("flows:edit", pk=tree.pk)
    status = 422 if form.errors else 200
    return render(request, "flows/import.html", {"form": form}, status=status)


def invalid_messages(invalid: ValidationError) -> list[tuple[str, list[str]]]:
    if hasattr(invalid, "error_dict"):
        return [(field, list(problems)) for field, problems in invalid.message_dict.items()]
    return [("", list(invalid.messages))]
