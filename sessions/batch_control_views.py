"""Pages for issue 13: the batch page's controls (pause, resume, cancel, retry all failed,
relaunch failed, report), a card's Mark and Retry, and a session's hand-over and take-over.
Each view parses the form, calls one service from sessions.batch_control / sessions.handover,
and goes back where the person was with a message (cards post through htmx and reload)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from resolutionflow.errors import ServiceError
from resolutionflow.pages import refusal_text, with_toast
from sessions import batch_control, batch_report, handover
from sessions.batch_views import maintenance_tree, visible_batch
from sessions.models import Batch, FlowSession

REFUSALS = (ServiceError, ValidationError, PermissionDenied)


def batch_of(request: HttpRequest, tree_id: Any, batch_id: Any) -> Batch:
    return visible_batch(request, maintenance_tree(request, tree_id), batch_id)


def back_to_batch(batch: Batch) -> HttpResponse:
    return redirect("batches:status", tree_id=batch.tree_id, batch_id=batch.pk)


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
        batch_control.target_mark(
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
        new = batch_control.target_retry(session=session, user=request.user)
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
        batch_control.target_assign_email(session=session, user=request.user, to=to)
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
        lambda b: batch_control.batch_pause(batch=b, user=request.user, reason=reason),
        lambda _: "Batch paused: no new targets can be started.",
    )


@login_required
@require_POST
def resume(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batch_control.batch_resume(batch=b, user=request.user),
        lambda _: "Batch resumed.",
    )


@login_required
@require_POST
def cancel(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batch_control.batch_cancel(batch=b, user=request.user),
        lambda n: f"{n} not-started target{'s' if n != 1 else ''} skipped (cancelled).",
    )


@login_required
@require_POST
def retry_failed(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batch_control.batch_retry_failed(batch=b, user=request.user),
        lambda new: f"Retrying {len(new)} failed target{'s' if len(new) != 1 else ''}.",
    )


@login_required
@require_POST
def relaunch_failed(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    return batch_action(
        request,
        tree_id,
        batch_id,
        lambda b: batch_control.batch_relaunch_failed(batch=b, user=request.user),
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


# --- hand-over / take-over ------------------------------------------------------------------


def visible_session(request: HttpRequest, pk: Any) -> FlowSession:
    return get_object_or_404(FlowSession.objects.for_user(request.user), pk=pk)


@login_required
@require_POST
def session_handover(request: HttpRequest, pk: Any) -> HttpResponse:
    session = visible_session(request, pk)
    try:
        handover.session_handover(
            session=session,
            user=request.user,
            to=request.POST.get("to", ""),
            note=request.POST.get("note", ""),
        )
    except REFUSALS as refused:
        messages.error(request, refusal_text(refused))
    else:
        messages.success(request, "Session handed over.")
    return redirect("flowsessions:detail", pk=session.pk)


@login_required
@require_POST
def session_takeover(request: HttpRequest, pk: Any) -> HttpResponse:
    session = visible_session(request, pk)
    try:
        handover.session_takeover(
            session=session, user=request.user, note=request.POST.get("note", "")
        )
    except REFUSALS as refused:
        messages.error(request, refusal_text(refused))
        return redirect("flowsessions:detail", pk=session.pk)
    messages.success(request, "You run this session now: carry on where it was.")
    return redirect("flowsessions:run", pk=session.pk)


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The engineer's hand-over messages; opening the list marks them read."""
    rows = list(request.user.notifications.select_related("session")[:50])
    handover.notifications_read(user=request.user)
    return render(request, "flowsessions/notifications.html", {"rows": rows})
