"""Maintenance batches and target lists: the flow's batch panel, launch, status page, Start."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from flows.models import Tree, TreeType
from resolutionflow.pages import is_partial, paginate, with_toast
from sessions import batch_control, batch_live, batch_report, selectors, services
from sessions.forms import BatchLaunchForm, TargetListForm
from sessions.models import Batch, FlowSession, TargetList

HISTORY_PAGE_SIZE = 10


def maintenance_tree(request: HttpRequest, tree_id: Any) -> Tree:
    queryset = Tree.objects.for_user(request.user).filter(tree_type=TreeType.MAINTENANCE)
    return get_object_or_404(queryset, pk=tree_id)


def visible_batch(request: HttpRequest, tree: Tree, batch_id: Any) -> Batch:
    return get_object_or_404(
        Batch.objects.for_user(request.user).select_related("tree", "created_by"),
        pk=batch_id,
        tree=tree,
    )


def panel_context(request: HttpRequest, tree: Tree, form: BatchLaunchForm | None = None):
    history = selectors.with_history_dots(selectors.batches_of_tree(tree, request.user))
    page = paginate(request, history, HISTORY_PAGE_SIZE)
    return {
        "tree": tree,
        "active": list(selectors.unfinished_batches(tree, request.user)[:5]),
        "history": [(batch, selectors.batch_dots(batch)) for batch in page],
        "page": page,
        "form": form or BatchLaunchForm(tree=tree, user=request.user),
        "can_launch": request.user.can_edit_content and tree.is_runnable,
    }


@login_required
@require_GET
def panel(request: HttpRequest, tree_id: Any) -> HttpResponse:
    """The maintenance part of the flow detail page: banners, Run form, run history."""
    tree = maintenance_tree(request, tree_id)
    return render(request, "flowsessions/_batch_panel.html", panel_context(request, tree))


@login_required
@require_POST
def launch(request: HttpRequest, tree_id: Any) -> HttpResponse:
    tree = maintenance_tree(request, tree_id)
    form = BatchLaunchForm(request.POST, tree=tree, user=request.user)
    if form.is_valid():
        try:
            batch = services.batch_launch(
                tree=tree,
                user=request.user,
                targets=form.targets(),
                target_list=form.cleaned_data.get("target_list"),
                ticket_number=form.cleaned_data["ticket_number"],
                variables=form.intake_answers(),
                canary=form.cleaned_data.get("canary") or 0,
                assign=form.cleaned_data.get("assign") or None,
            )
        except ValidationError as invalid:
            form.add_service_errors(invalid)
        except services.SessionError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Batch launched: {batch.sessions.count()} targets.")
            return redirect("batches:status", tree_id=tree.pk, batch_id=batch.pk)
    if request.htmx:
        return render(
            request, "flowsessions/_batch_panel.html#launch", panel_context(request, tree, form)
        )
    return render(
        request, "flowsessions/batch_launch.html", panel_context(request, tree, form), status=400
    )


# --- the live status page: cheap polls, see sessions/batch_live.py ----------------------


@login_required
@require_GET
def status(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    """The batch hub. Its cards refresh through htmx every 5 s until every target is done;
    the refresh of a finished batch answers 286 so htmx stops polling."""
    revision = batch_live.visible_revision(request.user, tree_id, batch_id)
    if revision is None:
        raise Http404("No such batch.")
    card_filter = selectors.CardFilter.from_query(request.GET, request.user.pk)
    if is_partial(request):
        return batch_live.poll_response(request, batch_id, revision, card_filter)
    html, etag = batch_live.page_cards(request.user.pk, batch_id, revision, card_filter)
    tree = maintenance_tree(request, tree_id)
    batch = visible_batch(request, tree, batch_id)
    context = {
        "tree": tree,
        "batch": batch,
        **batch_control_context(request, batch),
        "card_filter": card_filter,
        "cards": mark_safe(html),  # rendered by render_cards from the escaping template
        "etag": etag,
    }
    response = render(request, "flowsessions/batch_status.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def batch_control_context(request: HttpRequest, batch: Batch) -> dict[str, Any]:
    """The batch page's controls (who may use which) and its report for Copy for Ticket,
    redacted like a session's (a finding never leaves by the copy button)."""
    user = request.user
    document = batch_report.report_document(batch, fmt="psa")
    return {
        "can_work": can_do(batch_control.ensure_works_batch, user, batch.account_id),
        "can_control": can_do(batch_control.ensure_controls_batch, user, batch),
        "report_text": document.text(redact=True),
        "report_findings": len(document.found),
        "report_formats": list(batch_report.FORMATS),
    }


def can_do(check, *args: Any) -> bool:  # type: ignore[no-untyped-def]
    try:
        check(*args)
    except PermissionDenied:
        return False
    return True


@login_required
@require_POST
def start_target(
    request: HttpRequest, tree_id: Any, batch_id: Any, session_id: Any
) -> HttpResponse:
    tree = maintenance_tree(request, tree_id)
    batch = visible_batch(request, tree, batch_id)
    session = get_object_or_404(FlowSession, pk=session_id, batch=batch)
    try:
        session = services.batch_session_start(session=session, user=request.user)
    except batch_control.TargetRefused as refused:  # paused, or waiting for the canary
        if request.htmx:
            return with_toast(HttpResponse(status=204), str(refused), "warning")
        messages.warning(request, str(refused))
        return redirect("batches:status", tree_id=tree.pk, batch_id=batch.pk)
    except services.SessionTaken as taken:
        if request.htmx:  # the Start buttons post through htmx; the next poll shows who
            return with_toast(HttpResponse(status=204), str(taken), "info")
        messages.info(request, str(taken))
        return redirect("batches:status", tree_id=tree.pk, batch_id=batch.pk)
    run_url = reverse("flowsessions:run", args=[session.pk])
    return HttpResponseClientRedirect(run_url) if request.htmx else redirect(run_url)


# --- target lists -----------------------------------------------------------------------


@login_required
@require_GET
def target_lists(request: HttpRequest) -> HttpResponse:
    lists = TargetList.objects.for_user(request.user).select_related("created_by")
    return render(request, "flowsessions/target_lists.html", {"lists": lists})


@login_required
@require_http_methods(["GET", "POST"])
def target_list_edit(request: HttpRequest, pk: Any = None) -> HttpResponse:
    target_list = None
    if pk is not None:
        target_list = get_object_or_404(TargetList.objects.for_user(request.user), pk=pk)
    services.ensure_can_manage_targets(request.user)
    form = TargetListForm(request.POST or None, instance=target_list)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.target_list_save(
                user=request.user, target_list=target_list, **form.cleaned_data
            )
        except ValidationError as invalid:
            for field, errors in invalid.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"Saved “{saved.name}” ({len(saved.targets)} targets).")
            return redirect("targets:index")
    return render(
        request, "flowsessions/target_list_form.html", {"form": form, "target_list": target_list}
    )


@login_required
@require_POST
def target_list_delete(request: HttpRequest, pk: Any) -> HttpResponse:
    target_list = get_object_or_404(TargetList.objects.for_user(request.user), pk=pk)
    services.target_list_delete(user=request.user, target_list=target_list)
    messages.success(request, f"Deleted “{target_list.name}”.")
    return redirect("targets:index")
