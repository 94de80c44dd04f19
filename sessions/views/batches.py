"""Batch pages: the flow's batch panel, launch, the live status page, Start on a target, and
the batch controls (mark, retry, assign, pause, resume, cancel, retry failed, relaunch, report).
Each view parses the form, calls one service from sessions.services.batches and goes back where
the person was."""

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
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseClientRefresh,
)

from flows.models import Tree, TreeType
from resolutionflow.errors import ServiceError
from resolutionflow.pages import is_partial, paginate, refusal_text, with_toast
from sessions import batch_live, batch_report, exports, selectors
from sessions.forms import BatchLaunchForm
from sessions.models import Batch, FlowSession
from sessions.services import batches
from sessions.views.copying import record_copy

HISTORY_PAGE_SIZE = 10


def maintenance_tree(request: HttpRequest, tree_id: Any) -> Tree:
    queryset = Tree.objects.for_user(request.user).filter(tree_type=TreeType.MAINTENANCE)
    return get_object_or_404(queryset, pk=tree_id)


def visible_batch(request: HttpRequest, tree: Tree, batch_id: Any) -> Batch:
    return get_object_or_404(
        Batch.objects.for_user(request.user).select_related("tree", "created_by", "account"),
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
            batch = batches.batch_launch(
                tree=tree,
                user=request.user,
                targets=form.targets(),
                target_list=form.cleaned_data.get("target_list"),
                ticket_number=form.cleaned_data["ticket_number"],
                variables=form.intake_answers(),
                canary=form.cleaned_data.get("canary") or 0,
                assign=form.assignment(),
            )
        except ValidationError as invalid:
            form.add_service_errors(invalid)
        except batches.SessionError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Batch launched: {batch.sessions.count()} targets.")
            return redirect("batches:detail", tree_id=tree.pk, batch_id=batch.pk)
    if request.htmx:
        return render(
            request, "flowsessions/_batch_panel.html#launch", panel_context(request, tree, form)
        )
    return render(
        request, "flowsessions/batch_launch.html", panel_context(request, tree, form), status=400
    )


@login_required
@require_GET
def launch_assignees(request: HttpRequest, tree_id: Any) -> HttpResponse:
    """The launch form's "By hand, per target" rows: one select of the team's engineers per
    target typed or in the chosen list. htmx asks again when the targets or the choice change."""
    tree = maintenance_tree(request, tree_id)
    if not request.user.can_edit_content:
        raise PermissionDenied("Engineers launch maintenance batches.")
    form = BatchLaunchForm(request.GET, tree=tree, user=request.user)
    return render(request, "flowsessions/_assign_rows.html", {"hand": form.hand_rows()})


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
    # With findings, Copy for Ticket opens the same safe-copy review as a session's.
    review = {
        "findings": list(enumerate(document.found)),
        "segments": [
            (text, index, None if index is None else document.found[index])
            for text, index in document.segments()
        ],
        "finding_kinds": exports.finding_summary(document.found),
        "always_redact": batch.account.always_redact,
        "record_url": reverse("batches:copied", args=[batch.tree_id, batch.pk]),
        "copy_subject": "the batch",
    }
    return {
        **(review if document.found else {}),
        "can_work": can_do(batches.ensure_works_batch, user, batch.account_id),
        "can_control": (can_control := can_do(batches.ensure_controls_batch, user, batch)),
        # The "Assign…" dialog's choices: the team's engineers, for those who may assign.
        "engineers": batches.account_engineers(batch.account_id) if can_control else [],
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
        session = batches.batch_session_start(session=session, user=request.user)
    except batches.TargetRefused as refused:  # paused, or waiting for the canary
        if request.htmx:
            return with_toast(HttpResponse(status=204), str(refused), "warning")
        messages.warning(request, str(refused))
        return redirect("batches:detail", tree_id=tree.pk, batch_id=batch.pk)
    except batches.SessionTaken as taken:
        if request.htmx:  # the Start buttons post through htmx; the next poll shows who
            return with_toast(HttpResponse(status=204), str(taken), "info")
        messages.info(request, str(taken))
        return redirect("batches:detail", tree_id=tree.pk, batch_id=batch.pk)
    run_url = reverse("sessions:run", args=[session.pk])
    return HttpResponseClientRedirect(run_url) if request.htmx else redirect(run_url)


# --- the batch controls (issue 13): a card's Mark, Retry, Assign; pause, resume, cancel,
# retry all failed, relaunch failed, and the report. Cards post through htmx and reload.

REFUSALS = (ServiceError, ValidationError, PermissionDenied)


def batch_of(request: HttpRequest, tree_id: Any, batch_id: Any) -> Batch:
    return visible_batch(request, maintenance_tree(request, tree_id), batch_id)


def back_to_batch(batch: Batch) -> HttpResponse:
    return redirect("batches:detail", tree_id=batch.tree_id, batch_id=batch.pk)


def card_answer(request: HttpRequest, batch: Batch, refused: Exception | None, done: str):
    """Cards post through htmx: reload the page (the cards show the change) or toast why not."""
    if refused is not None:
        if request.htmx:
            return with_toast(HttpResponse(status=204), refusal_text(refused))
        messages.error(request, refusal_text(refused))
        return back_to_batch(batch)
    messages.success(request, done)
    return HttpResponseClientRefresh() if request.htmx else back_to_batch(batch)


def target_of(batch: Batch, session_id: Any) -> FlowSession:
    return get_object_or_404(FlowSession, pk=session_id, batch=batch)


@login_required
@require_POST
def mark(request: HttpRequest, tree_id: Any, batch_id: Any, session_id: Any) -> HttpResponse:
    batch = batch_of(request, tree_id, batch_id)
    session = target_of(batch, session_id)
    state = request.POST.get("state", "")
    try:
        batches.target_mark(
            session=session, user=request.user, state=state, note=request.POST.get("note", "")
        )
    except REFUSALS as refused:
        return card_answer(request, batch, refused, "")
    return card_answer(request, batch, None, f"{session.target_label} marked {state}.")


@login_required
@require_POST
def retry(request: HttpRequest, tree_id: Any, batch_id: Any, session_id: Any) -> HttpResponse:
    batch = batch_of(request, tree_id, batch_id)
    session = target_of(batch, session_id)
    try:
        new = batches.target_retry(session=session, user=request.user)
    except REFUSALS as refused:
        return card_answer(request, batch, refused, "")
    return card_answer(request, batch, None, f"{new.target_label}: attempt {new.attempt} ready.")


@login_required
@require_POST
def assign(request: HttpRequest, tree_id: Any, batch_id: Any, session_id: Any) -> HttpResponse:
    """Assign a target by email, or to the person pressing "Assign to me" (to=me)."""
    batch = batch_of(request, tree_id, batch_id)
    session = target_of(batch, session_id)
    to = request.POST.get("to", "")
    if to == "me":
        to = request.user.email
    try:
        batches.target_assign_email(session=session, user=request.user, to=to)
    except REFUSALS as refused:
        return card_answer(request, batch, refused, "")
    return card_answer(request, batch, None, f"{session.target_label} assigned.")


def batch_action(request: HttpRequest, tree_id: Any, batch_id: Any, act, done) -> HttpResponse:  # type: ignore[no-untyped-def]
    batch = batch_of(request, tree_id, batch_id)
    try:
        result = act(batch)
    except REFUSALS as refused:
        messages.error(request, refusal_text(refused))
        return back_to_batch(batch)
    messages.success(request, done(result))
    if isinstance(result, Batch) and result.pk != batch.pk:
        return back_to_batch(result)
    return back_to_batch(batch)


@login_required
@require_POST
def pause(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batches.batch_pause(batch=b, user=request.user, reason=reason),
        lambda _: "Batch paused: no new targets can be started.",
    )


@login_required
@require_POST
def resume(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batches.batch_resume(batch=b, user=request.user),
        lambda _: "Batch resumed.",
    )


@login_required
@require_POST
def cancel(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batches.batch_cancel(batch=b, user=request.user),
        lambda n: f"{n} not-started target{'s' if n != 1 else ''} skipped (cancelled).",
    )


@login_required
@require_POST
def retry_failed(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batches.batch_retry_failed(batch=b, user=request.user),
        lambda new: f"Retrying {len(new)} failed target{'s' if len(new) != 1 else ''}.",
    )


@login_required
@require_POST
def relaunch_failed(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batches.batch_relaunch_failed(batch=b, user=request.user),
        lambda _: "Failed targets relaunched as a new batch.",
    )


@login_required
@require_GET
def report(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    """Download the batch report (?format=psa|text|markdown|html|csv&redact=1)."""
    batch = batch_of(request, tree_id, batch_id)
    fmt = request.GET.get("format", "psa")
    if fmt not in batch_report.FORMATS:
        return HttpResponse("Unknown format.", status=400, content_type="text/plain")
    redact = request.GET.get("redact") == "1" or batch.account.always_redact
    content_type, ext = batch_report.FORMATS[fmt]
    response = HttpResponse(
        batch_report.batch_report(batch, fmt=fmt, redact=redact),
        content_type=f"{content_type}; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}.{ext}"'
    return response


@login_required
@require_POST
def copied(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    """The batch report left the app through Copy for Ticket's review: check the choice the
    team allows and record a copy that kept findings (the session's mark_exported, for a batch)."""
    batch = batch_of(request, tree_id, batch_id)
    return record_copy(
        request,
        lambda **copy: batches.batch_copied_for_ticket(batch=batch, user=request.user, **copy),
    )
