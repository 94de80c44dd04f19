"""Batch pages: the flow's batch panel, launch, the live status page, Start on a target, and
the batch controls (mark, retry, assign, pause, resume, cancel, retry failed, relaunch, report).
Each view parses the form, calls one service from sessions.services.batches and goes back where
the person was."""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.http import parse_etags
from django.utils.safestring import mark_safe
from django.utils.text import compress_string
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseClientRefresh,
    HttpResponseStopPolling,
)

from flows.models import Tree, TreeType
from resolutionflow.errors import ServiceError
from resolutionflow.pages import is_partial, paginate, refusal_text, with_toast
from sessions import batch_report, exports, redaction, selectors
from sessions.forms import BatchLaunchForm
from sessions.models import Batch, FlowSession
from sessions.services import batches

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


# --- the live status page -------------------------------------------------------------
#
# Every watcher polls every 5 s. The cards are rendered once per (batch, revision, filter),
# without the request, and kept in the cache (Redis when several app servers share it), plain
# and gzipped. A poll whose If-None-Match still matches answers 304 after the login and one
# tenancy query, with no template rendered.

CARDS_VERSION = 3  # move when the cards' markup changes, so a shared cache renews on deploy
CARDS_TTL = 60 * 60


def cards_key(batch_id: Any, revision: int, card_filter: selectors.CardFilter) -> str:
    shown = f"{card_filter.state}\n{card_filter.q}\n{card_filter.assignee}"
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    return f"batch-cards:v{CARDS_VERSION}:{batch_id}:{revision}:{digest}"


def cards_etag(key: str, user_id: Any) -> str:
    """Per viewer, because your own running targets say Resume where others see View."""
    return '"' + hashlib.sha256(f"{key}\n{user_id}".encode()).hexdigest()[:24] + '"'


def target_link(card: selectors.TargetCard, *, own: bool) -> str:
    session_id = card.session.pk
    if own:
        url = reverse("sessions:run", args=[session_id])
        return format_html('<a class="btn btn-sm btn-warning" href="{}">Resume</a>', url)
    url = reverse("sessions:detail", args=[session_id])
    return format_html('<a class="btn btn-sm btn-outline-secondary" href="{}">View</a>', url)


# The HTML of each card, by everything the card shows: a new revision re-renders only the cards
# that changed (a 1,000-target batch renders in tens of milliseconds, not hundreds). Per process.
_card_memo: dict[tuple, str] = {}
CARD_MEMO_SIZE = 50_000


def card_html(card: selectors.TargetCard) -> str:
    session = card.session
    shown = (
        CARDS_VERSION,
        session.pk,
        session.target_label,
        card.state,
        session.outcome,
        card.step,
        card.steps,
        session.user.display_name if session.user else "",
        session.duration_text,
        session.mark,
        session.mark_note,
        session.attempt,
        session.assigned_to.display_name if session.assigned_to else "",
        session.assigned_to.email if session.assigned_to else "",
        card.waiting,
        card.canary,
        bool(card.retry_url),
        bool(card.mark_url),
        bool(card.assign_url),
        tuple(earlier.pk for earlier in card.earlier),
    )
    html = _card_memo.get(shown)
    if html is None:
        if len(_card_memo) >= CARD_MEMO_SIZE:
            _card_memo.clear()
        html = _card_memo[shown] = render_to_string(
            "flowsessions/_target_card.html", {"card": card}
        )
    return html


def render_cards(batch_id: Any, card_filter: selectors.CardFilter) -> dict[str, Any]:
    """The cards as everyone sees them, plus, per engineer, the View links of their running
    targets and the Resume links that replace them."""
    batch = get_object_or_404(Batch.objects.select_related("tree", "paused_by"), pk=batch_id)
    status = selectors.batch_status(batch)
    path = reverse("batches:detail", args=[batch.tree_id, batch.pk])
    own: dict[str, list[tuple[str, str]]] = {}
    shown = [card for card in status.cards if card_filter.matches(card)]
    for card in shown:
        args = [batch.tree_id, batch.pk, card.session.pk]
        if card.state in ("not_started", "in_progress"):
            card.mark_url = reverse("batches:target-mark", args=args)
            # "Assign to me" shows on unassigned cards; "Assign…" (launcher, admin) on all.
            card.assign_url = reverse("batches:target-assign", args=args)
        if batches.retry_refusal(card.session) is None:
            card.retry_url = reverse("batches:target-retry", args=args)
        if card.state == "not_started":
            card.start_url = reverse("batches:target-start", args=args)
            continue
        card.link = target_link(card, own=False)
        if card.state == "in_progress" and card.session.user_id is not None:
            swap = (card.link, target_link(card, own=True))
            own.setdefault(str(card.session.user_id), []).append(swap)
    for card in shown:
        card.html = card_html(card)
    html = render_to_string(
        "flowsessions/_batch_cards.html",
        {
            "status": status,
            "card_filter": card_filter,
            "chips": selectors.batch_chips(status, card_filter),
            "path": path,
            "poll_url": path + card_filter.query(),
            "shown": len(shown),
            # Blocked and unreachable targets wait for someone to act: they stay in view.
            "open_cards": [card for card in shown if not closed(card)],
            "done_cards": [card for card in shown if closed(card)],
            "my_query": card_filter.query(mine="" if card_filter.assignee else "1"),
        },
    )
    return {
        "html": html,
        "gzip": compress_string(html.encode()),
        "finished": status.finished,
        "own": own,
    }


def closed(card: selectors.TargetCard) -> bool:
    return card.done and card.session.mark not in batches.RETRYABLE_MARKS


def cached_cards(key: str, batch_id: Any, card_filter: selectors.CardFilter) -> dict[str, Any]:
    """Only the gzipped text is cached (a tenth of the HTML): every poll reads the entry from a
    shared cache, and most polls send the gzip as it is."""
    cards = cache.get(key)
    if cards is None:
        cards = render_cards(batch_id, card_filter)
        cache.set(key, {name: value for name, value in cards.items() if name != "html"}, CARDS_TTL)
    return cards


def cards_html(cards: dict[str, Any]) -> str:
    """The plain HTML, for a page, a Resume swap or a client without gzip."""
    if "html" not in cards:
        cards["html"] = gzip.decompress(cards["gzip"]).decode()
    return cards["html"]


def personalised(cards: dict[str, Any], user_id: Any) -> str | None:
    """The cards with Resume on this user's running targets; None when they have none."""
    swaps = cards["own"].get(str(user_id))
    if not swaps:
        return None
    html = cards_html(cards)
    for view_link, resume_link in swaps:
        html = html.replace(view_link, resume_link, 1)
    return html


def cards_response(request: HttpRequest, cards: dict[str, Any], etag: str) -> HttpResponse:
    html = personalised(cards, request.user.pk)
    gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
    if gzip_ok:
        body = cards["gzip"] if html is None else compress_string(html.encode())
    else:
        body = (cards_html(cards) if html is None else html).encode()
    code = HttpResponseStopPolling.status_code if cards["finished"] else 200
    response = HttpResponse(body, status=code)
    if gzip_ok:
        response["Content-Encoding"] = "gzip"
    return with_cache_headers(response, etag)


def with_cache_headers(response: HttpResponse, etag: str) -> HttpResponse:
    """Browsers may keep the partial but must ask again (private: it needs a login)."""
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Accept-Encoding", "Cookie", "HX-Request"])
    return response


@login_required
@require_GET
def status(request: HttpRequest, tree_id: Any, batch_id: Any) -> HttpResponse:
    """The batch hub. Its cards refresh through htmx every 5 s until every target is done;
    the refresh of a finished batch answers 286 so htmx stops polling."""
    revision = selectors.batch_revision(request.user, tree_id, batch_id)
    if revision is None:
        raise Http404("No such batch.")
    card_filter = selectors.CardFilter.from_query(request.GET, request.user.pk)
    key = cards_key(batch_id, revision, card_filter)
    etag = cards_etag(key, request.user.pk)
    if is_partial(request):
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return with_cache_headers(HttpResponseNotModified(), etag)
        return cards_response(request, cached_cards(key, batch_id, card_filter), etag)
    cards = cached_cards(key, batch_id, card_filter)
    html = personalised(cards, request.user.pk) or cards_html(cards)
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
    try:
        batches.batch_copied_for_ticket(
            batch=batch,
            user=request.user,
            choice=request.POST.get("choice", ""),
            found=int(request.POST.get("found", "0")),
            kept=int(request.POST.get("kept", "0")),
            kinds=[k for k in request.POST.get("kinds", "").split(",") if k in redaction.KINDS],
            request=request,
        )
    except ValueError as refused:  # SessionError is a ValueError; so is int("x")
        message = str(refused) if isinstance(refused, batches.SessionError) else "Bad numbers."
        return with_toast(HttpResponse(message, status=400, content_type="text/plain"), message)
    return HttpResponse(status=204)
