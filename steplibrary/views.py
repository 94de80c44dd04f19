"""Library pages: browse, the create/edit/copy/delete modal, the embeddable browser.

Every modal view answers a full page to a plain request (links work without JavaScript) and
only the modal's content to htmx. After a successful write an htmx request gets 204 with a
`libraryStepSaved`/`libraryStepDeleted` event: the modal closes, a toast says what happened and
the list (if the page has one) refreshes itself with its current filters.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from flows.models import Tree
from resolutionflow.pages import is_partial, paginate_capped, with_toast
from steplibrary import selectors, services, sync
from steplibrary.filters import LibraryStepFilterSet
from steplibrary.forms import LibraryStepForm, initial_for_copy, initial_from_step
from steplibrary.models import LibraryStep

PAGE_SIZE = 24
BROWSER_PAGE_SIZE = 10


def visible_step(request: HttpRequest, pk: Any) -> LibraryStep:
    """Another account's or a teammate's private entry is a 404, never a 403."""
    return get_object_or_404(selectors.visible_steps(user=request.user), pk=pk)


# --- the library page -----------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    filterset = LibraryStepFilterSet(
        request.GET, queryset=selectors.visible_steps(user=request.user)
    )
    context = {
        "filterset": filterset,
        "page": paginate_capped(request, filterset.qs, PAGE_SIZE),
        "choices": selectors.filter_choices(user=request.user),  # lazy: unused by the partial
        "filtered": any(v for k, v in request.GET.items() if k not in ("page", "ordering")),
    }
    template = "steplibrary/index.html"
    return render(request, f"{template}#results" if is_partial(request) else template, context)


@login_required
@require_GET
def detail(request: HttpRequest, pk: Any) -> HttpResponse:
    step = visible_step(request, pk)
    template = "steplibrary/detail.html"
    context = {"step": step}
    return render(request, f"{template}#modal" if is_partial(request) else template, context)


# --- the embeddable browser (sessions insert a library step with it) ------------------------


def safe_choose_url(request: HttpRequest) -> str:
    """Where a Choose button posts: a path on this site only (it carries the CSRF header)."""
    url = request.GET.get("choose_url", "")
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return ""


def safe_element_id(value: str, default: str = "library-browser") -> str:
    """An HTML id usable in a CSS selector (#id): ASCII letters, digits, - and _."""
    cleaned = "".join(c for c in value[:40] if c.isascii() and (c.isalnum() or c in "-_"))
    return cleaned if cleaned[:1].isalpha() else default


@login_required
@require_GET
def browse(request: HttpRequest) -> HttpResponse:
    """The browser: search + filters + a short result list, each entry with a Choose button
    posting ``library_step=<id>`` to ``choose_url``. ``part=results`` answers the list only."""
    filterset = LibraryStepFilterSet(
        request.GET, queryset=selectors.visible_steps(user=request.user)
    )
    browser_id = safe_element_id(request.GET.get("browser", ""))
    context = {
        "filterset": filterset,
        "page": paginate_capped(request, filterset.qs, BROWSER_PAGE_SIZE),
        "choices": selectors.filter_choices(user=request.user),
        "choose_url": safe_choose_url(request),
        "choose_label": request.GET.get("choose_label", "")[:40] or "Choose",
        "browser_id": browser_id,
    }
    part = "results" if request.GET.get("part") == "results" else "browser"
    return render(request, f"steplibrary/_browser.html#{part}", context)


# --- create / edit / copy / delete ----------------------------------------------------------


def saved_response(request: HttpRequest, step: LibraryStep, message: str) -> HttpResponse:
    if is_partial(request):
        response = HttpResponse(status=204)
        return trigger_client_event(
            response, "libraryStepSaved", {"message": message, "id": str(step.pk)}
        )
    messages.success(request, message)
    return redirect("steplibrary:index")


def render_form(
    request: HttpRequest,
    form: LibraryStepForm,
    *,
    title: str,
    action: str,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = {"form": form, "modal_title": title, "action": action, **extra}
    if form.has_errors:
        status = 422  # the project's "form with errors" answer; htmx swaps it in (app.js)
    template = "steplibrary/step_form.html"
    return render(
        request, f"{template}#modal" if is_partial(request) else template, context, status=status
    )


def prefill(request: HttpRequest) -> tuple[dict[str, Any], str]:
    """Initial values for a new entry and a note saying where they come from:
    ``?copy=<entry>`` (Save a copy) or ``?tree=<flow>&node=<node id>`` (Save to library)."""
    if request.GET.get("copy"):
        step = visible_step(request, request.GET["copy"])
        return initial_for_copy(services.copy_initial(step)), f"A personal copy of “{step.title}”."
    if request.GET.get("tree"):
        tree = get_object_or_404(Tree.objects.for_user(request.user), pk=request.GET["tree"])
        entry = sync.node_entry(tree, request.GET.get("node", ""))
        if entry is None:
            raise Http404("That step is not in this flow.")
        initial = {"title": entry.title, "step_type": entry.step_type, **entry.content}
        category = tree.category.name if tree.category else ""
        tags = [tag.name for tag in tree.tags.all()]
        return initial_for_copy({**initial, "category": category, "tags": tags}), (
            f"From the flow “{tree.name}”."
        )
    return {}, ""


def create_form_response(
    request: HttpRequest, *, initial: dict[str, Any], source_note: str = ""
) -> HttpResponse:
    """The create modal, prefilled. Other apps call this for their own "Save to library"
    (e.g. a session's custom step); the form posts to this app's create view."""
    services.ensure_can_create(user=request.user)
    form = LibraryStepForm(initial=initial, user=request.user)
    title = "Save to library" if initial else "New library step"
    action = reverse("steplibrary:create")
    return render_form(request, form, title=title, action=action, source_note=source_note)


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    services.ensure_can_create(user=request.user)
    if request.method == "POST":
        form = LibraryStepForm(request.POST, user=request.user)
        step = form.save()
        if step is not None:
            return saved_response(request, step, f"“{step.title}” saved to your library.")
        return render_form(request, form, title="Save to library", action=request.path)
    try:
        initial, source_note = prefill(request)
    except ValidationError as bad_id:  # a malformed UUID in the query string
        raise Http404("No such step.") from bad_id
    return create_form_response(request, initial=initial, source_note=source_note)


def read_only_response(
    request: HttpRequest, step: LibraryStep, read_only: services.LibraryStepReadOnly
) -> HttpResponse:
    """Why a synced entry cannot change: the modal when asked (GET), a refusal with a toast
    when a change is posted anyway (htmx swaps no error body)."""
    status = 400 if request.method == "POST" else 200
    template = "steplibrary/read_only.html"
    context = {"step": step, "reason": str(read_only)}
    partial = is_partial(request)
    response = render(request, f"{template}#modal" if partial else template, context, status=status)
    return with_toast(response, str(read_only)) if partial and status == 400 else response


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: Any) -> HttpResponse:
    step = visible_step(request, pk)
    try:
        services.ensure_can_edit(step=step, user=request.user)
    except services.LibraryStepReadOnly as read_only:
        return read_only_response(request, step, read_only)
    if request.method == "POST":
        form = LibraryStepForm(request.POST, user=request.user, instance=step)
        saved = form.save()
        if saved is not None:
            return saved_response(request, saved, f"Saved “{saved.title}”.")
    else:
        form = LibraryStepForm(initial=initial_from_step(step), user=request.user, instance=step)
    return render_form(request, form, title="Edit library step", action=request.path, step=step)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, pk: Any) -> HttpResponse:
    step = visible_step(request, pk)
    try:
        services.ensure_can_delete(step=step, user=request.user)
    except services.LibraryStepReadOnly as read_only:
        return read_only_response(request, step, read_only)
    if request.method == "GET":
        template = "steplibrary/delete.html"
        return render(
            request, f"{template}#modal" if is_partial(request) else template, {"step": step}
        )
    title = step.title
    services.library_step_delete(step=step, user=request.user)
    message = f"Deleted “{title}”."
    if is_partial(request):
        return trigger_client_event(
            HttpResponse(status=204), "libraryStepDeleted", {"message": message, "id": str(pk)}
        )
    messages.success(request, message)
    return redirect("steplibrary:index")
