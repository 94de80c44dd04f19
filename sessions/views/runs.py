"""Session pages: start, the two runners and their htmx partials, detail, exports, history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from flows import diagram, nodes
from flows.models import Tree
from resolutionflow.errors import ServiceError
from resolutionflow.pages import is_partial, paginate, refusal_text, with_toast
from sessions import exports, runtime, selectors, services
from sessions.filters import SessionFilterSet
from sessions.forms import CompleteForm, CustomStepForm, ExportOptionsForm, StartForm
from sessions.models import FlowSession, Outcome
from sessions.services import handover
from sessions.views.copying import record_copy
from steplibrary.sync import library_commands
from steplibrary.views import create_form_response

PAGE_SIZE = 25
PSA_DEFAULTS = {"fmt": "psa", "timestamps": True, "cut_off": None, "include_commands": None}


def visible_session(request: HttpRequest, pk: Any) -> FlowSession:
    """Another account's session (or a teammate's, for engineers) is a 404."""
    queryset = FlowSession.objects.for_user(request.user).with_list_data()
    return get_object_or_404(queryset, pk=pk)


# --- start ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, tree_id: Any) -> HttpResponse:
    tree = get_object_or_404(Tree.objects.for_user(request.user), pk=tree_id)
    form = StartForm(request.POST or None, tree=tree)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_start(
                tree=tree,
                user=request.user,
                ticket_number=form.cleaned_data["ticket_number"],
                client_name=form.cleaned_data["client_name"],
                variables=form.intake_answers(),
            )
        except ValidationError as invalid:
            form.add_service_errors(invalid)
        except services.SessionError as refused:
            form.add_error(None, str(refused))
        else:
            return redirect("sessions:run", pk=session.pk)
    return render(request, "flowsessions/start.html", {"tree": tree, "form": form})


# --- runners ----------------------------------------------------------------------------


def runner_context(request: HttpRequest, session: FlowSession) -> dict[str, Any]:
    votes = services.feedback_votes(session, request.user)
    context: dict[str, Any] = {
        "session": session,
        "progress": runtime.progress(session),
        "can_run": session.can_run(request.user) and not session.is_completed,
        "complete_form": complete_form_for(session),
        "custom_form": CustomStepForm(),
    }
    if session.batch_id:
        context["batch_done"], context["batch_total"] = selectors.batch_progress(session)
    if session.is_troubleshooting:
        node = runtime.current_node(session)
        context.update(
            node=node,
            node_view=node_view(session, node),
            breadcrumb=runtime.breadcrumb(session),
            vote=votes.get(node.get("id")) if node else None,
            diagram=run_diagram(session, node),
        )
    else:
        rows = runtime.checklist(session)
        for row in rows:
            row.vote = votes.get(row.id)
        context["rows"] = rows
    return context


VISITED = diagram.NodeMark("visited", "✓", "Visited")
CURRENT = diagram.NodeMark("current", "➤", "You are here")


def run_diagram(session: FlowSession, node: dict[str, Any] | None) -> diagram.FlowDiagram:
    """The session's flow drawn with the path taken so far: every answered node ticked, the
    edges followed highlighted, the current node marked "You are here"."""
    entries = [entry for entry in session.path if isinstance(entry, dict)]
    marks = {str(entry.get("node_id")): [VISITED] for entry in entries}
    current = str(node.get("id")) if node else ""
    if current:
        marks[current] = [CURRENT]
    followed = {(str(e.get("node_id")), str(e.get("next_node_id"))) for e in entries}
    return diagram.flow_diagram(
        session.structure_snapshot,
        dom_id="run-diagram",
        marks=marks,
        path=followed,
        fill=session.fill,
        focus_id=current,
    )


def complete_form_for(session: FlowSession) -> CompleteForm:
    """At a solution the likely outcome is "Resolved": the dialog starts there."""
    at_solution = (
        session.is_troubleshooting
        and (runtime.current_node(session) or {}).get("type") == "solution"
    )
    return CompleteForm(initial={"outcome": Outcome.RESOLVED} if at_solution else None)


def node_view(session: FlowSession, node: dict[str, Any] | None) -> dict[str, Any]:
    """The current troubleshooting node with its text filled in, ready for the template."""
    if not node:
        return {}
    return {
        "id": node.get("id"),
        "type": node.get("type"),
        "heading": session.fill(nodes.heading(node, fallback="")),
        "description": session.fill(node.get("description")),
        "commands": runtime.filled_commands(session, node.get("commands")),
        "options": [session.fill(o.get("label")) for o in nodes.decision_options(node)],
        "raw_options": [o.get("label") for o in nodes.decision_options(node)],
        "note": runtime.pending_note(session, str(node.get("id"))),
    }


def run_template(session: FlowSession) -> str:
    if session.is_troubleshooting:
        return "flowsessions/run_troubleshooting.html"
    return "flowsessions/run_checklist.html"


@login_required
@require_GET
def run(request: HttpRequest, pk: Any) -> HttpResponse:
    session = visible_session(request, pk)
    if session.is_completed or not session.can_run(request.user):
        return redirect("sessions:detail", pk=session.pk)
    return render(request, run_template(session), runner_context(request, session))


def rerender(request: HttpRequest, session: FlowSession, part: str) -> HttpResponse:
    """The partial for the session as it now is (after a change, or after a refusal)."""
    session = visible_session(request, session.pk)
    return render(request, f"{run_template(session)}#{part}", runner_context(request, session))


def apply(request: HttpRequest, pk: Any, part: str, action) -> HttpResponse:
    """Run one change on a session; a refusal re-renders the current state with a toast."""
    session = visible_session(request, pk)
    try:
        action(session)
    except (services.SessionError, ValidationError) as refused:
        message = refusal_text(refused)
        if not request.htmx:
            messages.error(request, message)
            return redirect("sessions:run", pk=session.pk)
        return with_toast(rerender(request, session, part), message)
    if not request.htmx:
        return redirect("sessions:run", pk=session.pk)
    return rerender(request, session, part)


@login_required
@require_POST
def answer(request: HttpRequest, pk: Any) -> HttpResponse:
    return apply(
        request,
        pk,
        "runner",
        lambda session: services.session_answer(
            session=session,
            user=request.user,
            node_id=request.POST.get("node_id", ""),
            choice=request.POST.get("choice", ""),
            note=request.POST.get("note"),  # absent: the pending note saved as they typed
        ),
    )


@login_required
@require_POST
def back(request: HttpRequest, pk: Any) -> HttpResponse:
    return apply(
        request, pk, "runner", lambda s: services.session_back(session=s, user=request.user)
    )


def parse_done(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() in {"1", "true", "on", "yes"}


@login_required
@require_POST
def step(request: HttpRequest, pk: Any, step_id: str) -> HttpResponse:
    """Tick/untick a step (answers its row and the progress bar), or save its note."""
    done = parse_done(request.POST.get("done"))
    note = request.POST.get("note")
    if done is None and note is not None and request.htmx:
        return save_note(request, pk, step_id, note)
    if not request.htmx:
        return apply(
            request,
            pk,
            "checklist",
            lambda s: services.session_step_update(
                session=s, user=request.user, step_id=step_id, done=done, note=note
            ),
        )
    return tick(request, pk, step_id, done)


def tick(request: HttpRequest, pk: Any, step_id: str, done: bool | None) -> HttpResponse:
    session = visible_session(request, pk)
    refusal = ""
    try:
        services.session_step_update(session=session, user=request.user, step_id=step_id, done=done)
    except services.SessionError as refused:
        refusal = str(refused)
    context = runner_context(request, visible_session(request, pk))
    row = next((r for r in context.get("rows", []) if r.id == step_id), None)
    if row is None:
        response = rerender(request, session, "checklist")
    else:
        context.update(row=row, oob=True)
        response = render(request, "flowsessions/run_checklist.html#row", context)
    return with_toast(response, refusal) if refusal else response


def save_note(request: HttpRequest, pk: Any, step_id: str, note: str) -> HttpResponse:
    """Notes save as the engineer types: answer with a quiet 'Saved', never re-render the box."""
    session = visible_session(request, pk)
    try:
        services.session_step_update(session=session, user=request.user, step_id=step_id, note=note)
    except (services.SessionError, ValidationError) as refused:
        return with_toast(HttpResponse(status=204), refusal_text(refused))
    return render(request, "flowsessions/_note_saved.html", {"step_id": step_id})


@login_required
@require_POST
def custom_step_add(request: HttpRequest, pk: Any) -> HttpResponse:
    session = visible_session(request, pk)
    form = CustomStepForm(request.POST)
    if not form.is_valid():
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        if not request.htmx:
            messages.error(request, message)
            return redirect("sessions:run", pk=session.pk)
        return with_toast(rerender(request, session, "checklist"), message)
    return apply(
        request,
        pk,
        "checklist",
        lambda s: services.session_custom_step_add(
            session=s,
            user=request.user,
            inserted_after=form.cleaned_data["inserted_after"],
            title=form.cleaned_data["title"],
            instructions=form.cleaned_data["instructions"],
            commands=form.cleaned_data["commands"],
        ),
    )


def custom_step_of(session: FlowSession, custom_id: str) -> dict[str, Any]:
    custom = next((c for c in session.custom_steps if c.get("id") == custom_id), None)
    if custom is None:
        raise Http404("No such custom step.")
    return custom


@login_required
@require_GET
def library_insert(request: HttpRequest, pk: Any) -> HttpResponse:
    """The step-library browser in a modal, for inserting an entry after step ``after``."""
    session = visible_session(request, pk)
    if not session.can_run(request.user) or session.is_completed:
        raise PermissionDenied("Only the engineer running this session can add steps.")
    after = request.GET.get("after", "")
    row = next((r for r in runtime.checklist(session) if r.id == after), None)
    if row is None:
        raise Http404("No such step in this session.")
    context = {
        "session": session,
        "after": row,
        "choose_url": reverse("sessions:custom-add-library", args=[session.pk]),
    }
    template = "flowsessions/library_insert.html"
    return render(request, f"{template}#modal" if is_partial(request) else template, context)


@login_required
@require_POST
def custom_step_from_library(request: HttpRequest, pk: Any) -> HttpResponse:
    """A Choose button of the library browser: insert that entry as a custom step."""
    session = visible_session(request, pk)
    try:
        _, custom = services.session_custom_step_from_library(
            session=session,
            user=request.user,
            inserted_after=request.POST.get("inserted_after", ""),
            library_step=request.POST.get("library_step", ""),
        )
    except (services.SessionError, ValidationError) as refused:
        message = refusal_text(refused)
        if not request.htmx:
            messages.error(request, message)
            return redirect("sessions:run", pk=session.pk)
        return with_toast(rerender(request, session, "checklist"), message)
    message = f"Inserted “{custom['title']}” from the library."
    if not request.htmx or request.POST.get("return") == "run":
        # The browser on its own page (no modal to close): back to the run, with a message.
        messages.success(request, message)
        url = reverse("sessions:run", args=[session.pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    response = rerender(request, session, "checklist")
    return trigger_client_event(
        response, "libraryStepChosen", {"message": message, "id": custom["id"]}
    )


@login_required
@require_GET
def custom_step_save_to_library(request: HttpRequest, pk: Any, custom_id: str) -> HttpResponse:
    """The "Save to library" of a custom step (running or finished session): the library's create
    modal, prefilled; the new entry is the user's own."""
    session = visible_session(request, pk)
    custom = custom_step_of(session, custom_id)
    initial = {
        "title": custom.get("title", ""),
        "instructions": custom.get("instructions") or custom.get("title", ""),
        "commands": library_commands(custom.get("commands")),
        "visibility": "private",
    }
    note = f"A custom step of the session “{session.tree_name}”."
    return create_form_response(request, initial=initial, source_note=note)


@login_required
@require_POST
def custom_step_remove(request: HttpRequest, pk: Any, custom_id: str) -> HttpResponse:
    return apply(
        request,
        pk,
        "checklist",
        lambda s: services.session_custom_step_remove(
            session=s, user=request.user, custom_id=custom_id
        ),
    )


@login_required
@require_POST
def feedback(request: HttpRequest, pk: Any, node_id: str) -> HttpResponse:
    session = visible_session(request, pk)
    helpful = {"1": True, "0": False}.get(request.POST.get("helpful", ""))  # else: clear
    try:
        vote = services.session_feedback_set(
            session=session, user=request.user, node_id=node_id, helpful=helpful
        )
    except services.SessionError as refused:
        return with_toast(HttpResponse(status=204), str(refused))
    context = {"session": session, "node_id": node_id, "vote": vote, "can_run": True}
    return render(request, "flowsessions/_feedback.html", context)


# --- completing and rating --------------------------------------------------------------


@login_required
@require_POST
def complete(request: HttpRequest, pk: Any) -> HttpResponse:
    session = visible_session(request, pk)
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            session = services.session_complete(
                session=session, user=request.user, **form.cleaned_data
            )
        except services.SessionError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Session completed: {session.get_outcome_display()}.")
            target = completion_redirect(session)
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    context = {"session": session, "complete_form": form}
    if request.htmx:
        return render(request, "flowsessions/_complete_modal.html#form", context)
    return render(request, "flowsessions/complete.html", context, status=400)


def completion_redirect(session: FlowSession) -> str:
    """Back to the batch for a batch target; otherwise the detail page, asking for a rating."""
    if session.batch_id and session.tree_id:
        return reverse("batches:detail", args=[session.tree_id, session.batch_id])
    return reverse("sessions:detail", args=[session.pk]) + "?rate=1"


@login_required
@require_POST
def rate(request: HttpRequest, pk: Any) -> HttpResponse:
    session = visible_session(request, pk)
    try:
        session = services.session_rate(
            session=session,
            user=request.user,
            rating=request.POST.get("rating"),
            comment=request.POST.get("comment", ""),
        )
        messages.success(request, "Thanks for rating this flow.")
    except (services.SessionError, ValidationError) as refused:
        messages.error(request, refusal_text(refused))
    if request.htmx:
        return render(request, "flowsessions/detail.html#rating", detail_context(request, session))
    return redirect("sessions:detail", pk=session.pk)


# --- detail and exports -----------------------------------------------------------------


def detail_context(request: HttpRequest, session: FlowSession) -> dict[str, Any]:
    always_redact = team_always_redacts(session)
    options = ExportOptionsForm(request.GET or None, always_redact=always_redact)
    options.is_valid()
    psa = exports.export_document(session, fmt="psa")
    chosen = options.export_kwargs()
    # The default preview is the PSA text itself: render it once.
    document = psa if chosen == PSA_DEFAULTS else exports.export_document(session, **chosen)
    return {
        "session": session,
        "progress": runtime.progress(session),
        "psa_text": psa.text(),
        "psa": psa,
        "findings": list(enumerate(psa.found)),
        "segments": [
            (text, index, None if index is None else psa.found[index])
            for text, index in psa.segments()
        ],
        "finding_kinds": exports.finding_summary(psa.found),
        "always_redact": always_redact,
        "options": options,
        "preview": document.text(redact=options.redacting),
        "complete_form": complete_form_for(session),
        "can_run": session.can_run(request.user) and not session.is_completed,
        "can_mark_exported": session.can_mark_exported(request.user),
        **handover.handover_options(session, request.user),
        "outcomes": Outcome,
        "ask_rating": request.GET.get("rate") == "1" and session.rating is None,
        "timeline": selectors.session_timeline(session),
    }


def team_always_redacts(session: FlowSession) -> bool:
    return bool(session.account and session.account.always_redact)


@login_required
@require_GET
def detail(request: HttpRequest, pk: Any) -> HttpResponse:
    session = visible_session(request, pk)
    return render(request, "flowsessions/detail.html", detail_context(request, session))


@login_required
@require_GET
def export(request: HttpRequest, pk: Any) -> HttpResponse:
    """Download (or htmx-preview) a session in one of the export formats, redacted unless the
    person chose otherwise (and the team allows it)."""
    session = visible_session(request, pk)
    options = ExportOptionsForm(request.GET, always_redact=team_always_redacts(session))
    if not options.is_valid():
        return HttpResponse(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in options.errors.items()),
            status=400,
            content_type="text/plain",
        )
    kwargs = options.export_kwargs()
    document = exports.export_document(session, **kwargs)
    body = document.text(redact=options.redacting)
    if request.htmx:
        return render(
            request, "flowsessions/detail.html#preview", {"preview": body, "session": session}
        )
    if session.can_mark_exported(request.user):
        services.session_mark_exported(session=session, user=request.user)
    content_type, extension = exports.FORMATS[kwargs["fmt"]]
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response[exports.FINDINGS_HEADER] = str(len(document.found) if options.redacting else 0)
    if options.cleaned_data.get("download"):
        filename = f"session-{session.ticket_number or str(session.pk)[:8]}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if kwargs["fmt"] == "html":
        # The export is a document to save, not a page of ours: no scripts may run in it.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@login_required
@require_POST
def mark_exported(request: HttpRequest, pk: Any) -> HttpResponse:
    """Copy for Ticket copies in the browser; this records that the text left the app, and
    how many findings it kept (redact all / review one by one / copy as is)."""
    session = visible_session(request, pk)
    if "choice" not in request.POST:  # no findings: nothing was chosen
        services.session_mark_exported(session=session, user=request.user)
        return HttpResponse(status=204)
    return record_copy(
        request,
        lambda **copy: services.session_copied_for_ticket(
            session=session, user=request.user, **copy
        ),
    )


# --- history ----------------------------------------------------------------------------


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    team = request.GET.get("scope") == "team" and request.user.can_manage_account
    base = FlowSession.objects.for_user(request.user).with_list_data()
    if not team:
        base = base.filter(user=request.user)
    filterset = SessionFilterSet(request.GET, queryset=base, request=request)
    context = {
        "filterset": filterset,
        "page": paginate(request, filterset.qs, PAGE_SIZE),
        "team": team,
    }
    template = "flowsessions/history.html"
    if is_partial(request):
        template += "#results"
    return render(request, template, context)


# --- hand-over / take-over (any session changes hands; sessions.services.handover) ---------

REFUSALS = (ServiceError, ValidationError, PermissionDenied)


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
    return redirect("sessions:detail", pk=session.pk)


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
        return redirect("sessions:detail", pk=session.pk)
    messages.success(request, "You run this session now: carry on where it was.")
    return redirect("sessions:run", pk=session.pk)


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The engineer's hand-over messages; opening the list marks them read."""
    rows = list(request.user.notifications.select_related("session")[:50])
    handover.notifications_read(user=request.user)
    return render(request, "flowsessions/notifications.html", {"rows": rows})
