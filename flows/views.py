"""Flow pages: library, my flows, detail, create/edit, publish/unpublish/retire."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flows import selectors, services
from flows.filters import TreeFilterSet
from flows.forms import TreeForm
from flows.models import Tree

PAGE_SIZE = 24


def paginate(request: HttpRequest, queryset: QuerySet[Tree]) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def render_list(request: HttpRequest, template: str, filterset: TreeFilterSet, **extra: Any):
    """Full page, or only the results when htmx filters the list in place."""
    context = {
        "filterset": filterset,
        "page": paginate(request, filterset.qs),
        "query": query_without_page(request),
        **extra,
    }
    if request.htmx and not request.htmx.boosted:
        template = f"{template}#results"
    return render(request, template, context)


@login_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    base = Tree.objects.for_user(request.user).runnable().with_card_data()
    filterset = TreeFilterSet(request.GET, queryset=base)
    return render_list(request, "flows/library.html", filterset)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    base = selectors.trees_of_own_account(user=request.user).with_card_data()
    filterset = TreeFilterSet(request.GET, queryset=base)
    return render_list(request, "flows/mine.html", filterset)


def visible_tree(request: HttpRequest, pk: Any) -> Tree:
    """Another account's flow (or a draft a viewer may not see) is a 404, never a 403."""
    return get_object_or_404(Tree.objects.for_user(request.user).with_card_data(), pk=pk)


def render_detail(request: HttpRequest, tree: Tree, *, errors=None, status: int = 200):
    context = {
        "tree": tree,
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
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if not request.user.can_edit_content:
        raise PermissionDenied("Viewers cannot create flows.")
    form = TreeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        tree = form.save_new()
        if tree is not None:
            messages.success(request, f"Draft “{tree.name}” created.")
            return redirect("flows:detail", pk=tree.pk)
    return render(request, "flows/form.html", {"form": form, "tree": None})


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = visible_tree(request, pk)
    services.ensure_can_edit(tree=tree, user=request.user)
    form = TreeForm(request.POST or None, user=request.user, instance=tree)
    if request.method == "POST" and form.is_valid():
        saved = form.save_existing()
        if saved is not None:
            messages.success(request, f"Saved “{saved.name}”.")
            return redirect("flows:detail", pk=saved.pk)
    return render(request, "flows/form.html", {"form": form, "tree": tree})


@login_required
@require_POST
def publish(request: HttpRequest, pk: Any) -> HttpResponse:
    tree = visible_tree(request, pk)
    try:
        tree = services.tree_publish(tree=tree, user=request.user)
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


def redirect_back(request: HttpRequest, tree: Tree) -> HttpResponse:
    """Actions are offered on My flows and on the detail page: return where the user was."""
    if request.POST.get("next") == "mine":
        return redirect(reverse("flows:mine"))
    return redirect("flows:detail", pk=tree.pk)
