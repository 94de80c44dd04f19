"""The live batch status partial: what a poll costs, and how the cache keeps it cheap.

Every open batch page polls every 5 s, so one busy batch is asked hundreds of times a second.
A poll does, after the login (session and user, checked on every request):

1. Tenancy from the cache: the batch's revision and owners, and its flow's visibility, in one
   cache read (`batch_meta`), decided by the same rules as the SQL (`Batch.objects.allows`,
   `Tree.objects.allows`). On a miss, one plain join, cached for a few seconds.
2. A matching `If-None-Match` answers 304: nothing else is read and nothing rendered.
3. Otherwise the gzipped cards of (batch, revision, filter) from the cache, sent as they are.
   They are rendered once per revision, without the request, by whichever worker asks first.
   Your own running targets say Resume where others see View: that variant is made once per
   (revision, filter, engineer) and cached beside the shared one.

Invalidation: `forget_batch` (called by `services.bump_batch_revision`, in the same transaction
as the change) and `forget_tree` (a flow saved or deleted) delete the tenancy entry at once and
again after commit, so the next poll reads the database. Cards are never invalidated: a new
revision makes a new key. A poll that read the database just before a commit may write back the
old revision; the entry's few seconds of life bound that, as they bound a flow's visibility
changed by a bulk UPDATE that sends no signal.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.http import parse_etags
from django.utils.text import compress_string
from django_htmx.http import HttpResponseStopPolling

from accounts.querysets import Scope, tenancy_scope
from flows.models import Tree, TreeType
from sessions import selectors
from sessions.models import Batch
from sessions.services import batches

CARDS_VERSION = 5  # move when the cards' markup changes, so a shared cache renews on deploy
CARDS_TTL = 60 * 60
# How long a poll trusts the cached revision and visibility without asking the database: the
# bound on a missed invalidation (see the module docstring). A miss costs one small query.
META_TTL = 5
META_VERSION = 1
# A render that takes longer than this (or a worker killed mid-render) lets another one start.
RENDER_LOCK_SECONDS = 10


# --- tenancy and revision, from the cache ---------------------------------------------------


@dataclass(frozen=True)
class BatchMeta:
    """What a poll needs to decide who may see the batch, and which revision it is at."""

    revision: int
    account_id: int | None
    tree_id: str
    tree_type: str
    tree_account_id: int | None
    tree_is_public: bool
    tree_status: str


def batch_meta_key(batch_id: Any) -> str:
    return f"batch-live:v{META_VERSION}:batch:{batch_id}"


def tree_meta_key(tree_id: Any) -> str:
    return f"batch-live:v{META_VERSION}:tree:{tree_id}"


def batch_meta(tree_id: Any, batch_id: Any) -> BatchMeta | None:
    """The batch's revision and owners, and its flow's visibility: one cache read, or one
    query on a miss. None when there is no such batch under this flow."""
    keys = batch_meta_key(batch_id), tree_meta_key(tree_id)
    cached = cache.get_many(keys)
    if len(cached) == 2:
        revision, account_id, batch_tree = cached[keys[0]]
        if batch_tree != str(tree_id):
            return None
        return BatchMeta(revision, account_id, batch_tree, *cached[keys[1]])
    row = (
        Batch.objects.filter(pk=batch_id)
        .order_by()
        .values_list(
            "revision",
            "account_id",
            "tree_id",
            "tree__tree_type",
            "tree__account_id",
            "tree__is_public",
            "tree__status",
        )
        .first()
    )
    if row is None:
        return None
    meta = BatchMeta(row[0], row[1], str(row[2]), *row[3:])
    cache.set_many(
        {
            keys[0]: (meta.revision, meta.account_id, meta.tree_id),
            tree_meta_key(meta.tree_id): (
                meta.tree_type,
                meta.tree_account_id,
                meta.tree_is_public,
                meta.tree_status,
            ),
        },
        META_TTL,
    )
    return meta if meta.tree_id == str(tree_id) else None


def visible_revision(user: Any, tree_id: Any, batch_id: Any) -> int | None:
    """The revision of a batch the user may watch on this maintenance flow, else None: the
    tenancy check of every poll (the user is the one the login just loaded)."""
    scope = tenancy_scope(user)
    if scope is Scope.NOTHING:
        return None
    meta = batch_meta(tree_id, batch_id)
    if meta is None or meta.tree_type != TreeType.MAINTENANCE:
        return None
    if scope is Scope.FILTERED:
        if not Batch.objects.allows(Batch(account_id=meta.account_id), user):
            return None
        tree = Tree(account_id=meta.tree_account_id, is_public=meta.tree_is_public)
        tree.status = meta.tree_status
        if not Tree.objects.allows(tree, user):
            return None
    return meta.revision


def forget(key: str) -> None:
    """Delete now (this transaction's later reads) and after commit (reads that raced it)."""
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def forget_batch(batch_id: Any) -> None:
    forget(batch_meta_key(batch_id))


def forget_tree(tree_id: Any) -> None:
    forget(tree_meta_key(tree_id))


def tree_changed(sender: type, instance: Tree, **kwargs: Any) -> None:
    """post_save/post_delete of a flow (connected in FlowSessionsConfig.ready)."""
    forget_tree(instance.pk)


# --- the cards ------------------------------------------------------------------------------


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
    try:
        batch = Batch.objects.select_related("tree", "paused_by").get(pk=batch_id)
    except Batch.DoesNotExist:
        raise Http404("No such batch.") from None
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


def latest_key(batch_id: Any, card_filter: selectors.CardFilter) -> str:
    """Where the key of the newest rendered cards of (batch, filter) is kept."""
    return cards_key(batch_id, -1, card_filter).replace(":-1:", ":latest:")


def cached_cards(
    key: str, batch_id: Any, card_filter: selectors.CardFilter
) -> tuple[str, dict[str, Any]]:
    """The cards under `key`, rendered by the first worker that asks. Only the gzipped text is
    cached (a tenth of the HTML). While another request renders a new revision, the others are
    answered with the newest cards already rendered (and their key, so the ETag matches what
    they get): one render per revision, not one per worker that polled in the meantime."""
    cards = cache.get(key)
    if cards is not None:
        return key, cards
    lock = f"{key}:rendering"
    if not cache.add(lock, 1, RENDER_LOCK_SECONDS):
        latest = cache.get(latest_key(batch_id, card_filter))
        cards = cache.get(latest) if latest else None
        if cards is not None:
            return latest, cards
    try:
        cards = render_cards(batch_id, card_filter)
        cache.set(key, {name: value for name, value in cards.items() if name != "html"}, CARDS_TTL)
        cache.set(latest_key(batch_id, card_filter), key, CARDS_TTL)
    finally:
        cache.delete(lock)
    return key, cards


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


def personal_gzip(key: str, cards: dict[str, Any], user_id: Any) -> bytes:
    """The gzip this viewer is sent: the shared one, or their Resume variant, made once per
    revision and kept beside it (a running engineer polls as often as anyone)."""
    if not cards["own"].get(str(user_id)):
        return cards["gzip"]
    mine_key = f"{key}:own:{user_id}"
    body = cache.get(mine_key)
    if body is None:
        body = compress_string(personalised(cards, user_id).encode())
        cache.set(mine_key, body, CARDS_TTL)
    return body


def cards_response(
    request: HttpRequest, key: str, cards: dict[str, Any], etag: str
) -> HttpResponse:
    user_id = request.user.pk
    gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
    if gzip_ok:
        body = personal_gzip(key, cards, user_id)
    else:
        body = (personalised(cards, user_id) or cards_html(cards)).encode()
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


def poll_response(
    request: HttpRequest, batch_id: Any, revision: int, card_filter: selectors.CardFilter
) -> HttpResponse:
    """The htmx poll of a batch the viewer may see (checked by the caller): 304 when their
    If-None-Match still matches, else the cached cards."""
    user_id = request.user.pk
    key = cards_key(batch_id, revision, card_filter)
    etag = cards_etag(key, user_id)
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        return with_cache_headers(HttpResponseNotModified(), etag)
    served, cards = cached_cards(key, batch_id, card_filter)
    if served != key:  # the previous revision, while this one renders elsewhere
        etag = cards_etag(served, user_id)
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return with_cache_headers(HttpResponseNotModified(), etag)
    return cards_response(request, served, cards, etag)


def page_cards(
    user_id: Any, batch_id: Any, revision: int, card_filter: selectors.CardFilter
) -> tuple[str, str]:
    """The cards' HTML for the whole page, and the ETag its first poll sends."""
    key, cards = cached_cards(cards_key(batch_id, revision, card_filter), batch_id, card_filter)
    return personalised(cards, user_id) or cards_html(cards), cards_etag(key, user_id)
