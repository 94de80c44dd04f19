"""Shared reads for batches: status cards, banners and run history, in constant queries."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, Prefetch, Q, QuerySet

from accounts.models import User
from flows import nodes
from flows.models import Tree
from sessions import runtime
from sessions.models import (
    MARK_STYLE,
    OUTCOME_STYLE,
    Batch,
    EventKind,
    FlowSession,
    Outcome,
    SessionEvent,
    SessionStatus,
    TargetMark,
    humanise_duration,
)

# A batch's targets are its sessions' latest attempts; earlier attempts are read from a card.
CURRENT = Q(sessions__current=True)
DONE_TARGET = Q(sessions__status=SessionStatus.COMPLETED) | ~Q(sessions__mark="")
MARKS = tuple(TargetMark.values)


@dataclass
class TargetCard:
    session: FlowSession
    step: int = 0
    steps: int = 0
    link: str = ""  # View (or Resume) for started targets, set by the status view
    start_url: str = ""
    html: str = ""  # the card as rendered, set by the status view
    waiting: bool = False  # not started, held back until the canary targets are resolved
    canary: bool = False
    retry_url: str = ""  # set by the status view when the target can be retried
    mark_url: str = ""  # set by the status view while the target can be marked
    assign_url: str = ""  # "Assign to me", set by the status view on unassigned open targets
    earlier: list[FlowSession] = field(default_factory=list)  # earlier attempts, oldest first

    @property
    def state(self) -> str:
        """not_started, in_progress, complete, or a mark: skipped, blocked, unreachable."""
        if self.session.mark:
            return self.session.mark
        return {
            SessionStatus.PENDING: "not_started",
            SessionStatus.IN_PROGRESS: "in_progress",
        }.get(self.session.status, "complete")

    @property
    def done(self) -> bool:
        """Complete or marked: nobody works on it any more (retry makes a new attempt)."""
        return self.state not in ("not_started", "in_progress")

    @property
    def colour(self) -> str:
        if self.state == "complete":
            return OUTCOME_STYLE.get(self.session.outcome, ("", "secondary"))[1]
        if self.session.mark:
            return self.session.mark_colour
        return "warning" if self.state == "in_progress" else "light"


@dataclass
class BatchStatus:
    batch: Batch
    cards: list[TargetCard] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.cards)

    @property
    def complete(self) -> int:
        """Targets done: completed with an outcome, or marked."""
        return sum(card.done for card in self.cards)

    @property
    def mark_counts(self) -> list[tuple[str, str, int]]:
        counts = Counter(card.session.mark for card in self.cards if card.session.mark)
        return [
            (TargetMark(value).label, MARK_STYLE[value][1], counts[value])
            for value in TargetMark.values
            if counts[value]
        ]

    @property
    def waiting(self) -> int:
        return sum(card.waiting for card in self.cards)

    @property
    def in_progress(self) -> int:
        return sum(card.state == "in_progress" for card in self.cards)

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.complete == self.total

    @property
    def percent(self) -> int:
        return round(100 * self.complete / self.total) if self.total else 0

    @property
    def outcome_counts(self) -> list[tuple[str, str, int]]:
        """(label, colour, count) per outcome present, in the order outcomes are listed."""
        counts = Counter(c.session.outcome for c in self.cards if c.state == "complete")
        return [
            (Outcome(value).label, OUTCOME_STYLE[value][1], counts[value])
            for value in Outcome.values
            if counts[value]
        ]

    @property
    def durations(self) -> list[timedelta]:
        return [c.session.duration for c in self.cards if c.session.duration is not None]

    @property
    def total_duration(self) -> str:
        return humanise_duration(sum(self.durations, timedelta())) if self.durations else ""

    @property
    def median_duration(self) -> str:
        if not self.durations:
            return ""
        return humanise_duration(statistics.median(self.durations))

    @property
    def summary(self) -> str:
        """ "10 resolved · 1 escalated · 1 not started"."""
        parts = [
            f"{count} {label.lower()}"
            for label, _, count in [*self.outcome_counts, *self.mark_counts]
        ]
        if self.in_progress:
            parts.append(f"{self.in_progress} in progress")
        not_started = self.total - self.complete - self.in_progress
        if not_started:
            parts.append(f"{not_started} not started")
        return " · ".join(parts)


# The state chips of a status page: not started, in progress, then each outcome.
STATE_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    **dict(Outcome.choices),
    **dict(TargetMark.choices),
}
MAX_SEARCH = 100


@dataclass(frozen=True)
class CardFilter:
    """What a status page shows: one state chip (or all) and a search over target labels."""

    state: str = ""
    q: str = ""
    # "My targets": the viewer's user id, set by the view from ?mine=1 (part of the cache key).
    assignee: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, Any], user_id: Any = None) -> CardFilter:
        """Unknown states mean "all"; the search is trimmed, spaces collapsed, at most 100."""
        state = str(params.get("state") or "")
        q = " ".join(str(params.get("q") or "").split())[:MAX_SEARCH]
        mine = str(user_id) if params.get("mine") and user_id is not None else ""
        return cls(state if state in STATE_LABELS else "", q, mine)

    def matches(self, card: TargetCard) -> bool:
        if self.q and self.q.lower() not in card.session.target_label.lower():
            return False
        if self.assignee and str(card.session.assigned_to_id) != self.assignee:
            return False
        return not self.state or self.state in (card.state, card.session.outcome)

    def query(self, **change: str) -> str:
        """ "?state=…&q=…&mine=1" for a link that keeps the rest of the filter."""
        values = {"state": self.state, "q": self.q, "mine": "1" if self.assignee else "", **change}
        pairs = {key: value for key, value in values.items() if value}
        return f"?{urlencode(pairs)}" if pairs else ""

    @property
    def shows_completed(self) -> bool:
        """An outcome chip opens the completed section; otherwise it starts collapsed."""
        return self.state in Outcome.values


@dataclass
class Chip:
    key: str
    label: str
    colour: str
    count: int
    active: bool
    query: str


def batch_chips(status: BatchStatus, card_filter: CardFilter) -> list[Chip]:
    """All, not started, in progress (always), then each outcome some target has, with counts
    over the whole batch; a chip's link keeps the search and toggles its state."""
    counts = Counter(card.state for card in status.cards)
    counts.update(card.session.outcome for card in status.cards if card.state == "complete")
    counts.update(card.session.mark for card in status.cards if card.session.mark)
    colours = {"not_started": "secondary", "in_progress": "warning"}
    colours.update({value: style[1] for value, style in OUTCOME_STYLE.items()})
    colours.update({value: style[1] for value, style in MARK_STYLE.items()})
    chips = [
        Chip("", "All", "dark", status.total, not card_filter.state, card_filter.query(state=""))
    ]
    for key, label in STATE_LABELS.items():
        if key in ("not_started", "in_progress") or counts[key]:
            active = card_filter.state == key
            query = card_filter.query(state="" if active else key)
            chips.append(Chip(key, label, colours[key], counts[key], active, query))
    return chips


def batch_sessions(batch: Batch) -> QuerySet[FlowSession]:
    """The batch's targets: the latest attempt of each."""
    return (
        batch.sessions.filter(current=True)
        .select_related("user", "assigned_to")
        .order_by("target_label")
    )


# What a status card never reads: the bulk of each row, left in the database.
CARD_DEFERRED = ("structure_snapshot", "intake_form_snapshot", "path", "variables")


def batch_step_ids(batch: Batch) -> list[str]:
    """The tickable steps of the batch's flow: every target of a batch is launched with the
    same snapshot, so one row tells them all."""
    first = batch.sessions.values_list("tree_type", "structure_snapshot").first()
    return runtime.procedure_step_ids(*first) if first else []


def batch_status(batch: Batch) -> BatchStatus:
    """Cards for every target, with "step k of n" for the ones in progress (two queries)."""
    sessions = list(batch_sessions(batch).defer(*CARD_DEFERRED))
    cards = [TargetCard(session) for session in sessions]
    running = [card for card in cards if card.state == "in_progress"]
    step_ids = batch_step_ids(batch) if running else []
    for card in running:
        card.step, card.steps = runtime.step_of_total(card.session, step_ids)
    mark_canary(batch, cards)
    retried = [card for card in cards if card.session.attempt > 1]
    if retried:
        earlier = (
            FlowSession.objects.filter(batch=batch, current=False)
            .only("id", "attempt", "target_label")
            .order_by("attempt")
        )
        by_label: dict[str, list[FlowSession]] = {}
        for session in earlier:
            by_label.setdefault(session.target_label, []).append(session)
        for card in retried:
            card.earlier = by_label.get(card.session.target_label, [])
    return BatchStatus(batch, cards)


def mark_canary(batch: Batch, cards: list[TargetCard]) -> None:
    """Flag the canary cards, and the not-started others while the canary is unresolved."""
    if not batch.canary:
        return
    canaries = [card for card in cards if card.session.position < batch.canary]
    passed = all(
        card.state == "complete" and card.session.outcome == Outcome.RESOLVED for card in canaries
    )
    for card in cards:
        card.canary = card.session.position < batch.canary
        card.waiting = not passed and not card.canary and card.state == "not_started"


def batch_dots(batch: Batch) -> BatchStatus:
    """States and outcomes only, from `with_history_dots` (no step progress, no queries)."""
    return BatchStatus(batch, [TargetCard(session) for session in batch.dot_sessions])


def batches_of_tree(tree: Tree, user: User) -> QuerySet[Batch]:
    return (
        Batch.objects.for_user(user)
        .filter(tree=tree)
        .select_related("created_by")
        .annotate(
            total=Count("sessions", filter=CURRENT),
            done=Count("sessions", filter=CURRENT & DONE_TARGET),
        )
        .order_by("-created_at")
    )


def unfinished_batches(tree: Tree, user: User) -> QuerySet[Batch]:
    """For the amber "Batch in progress" banners, newest first."""
    return batches_of_tree(tree, user).filter(done__lt=F("total"))


def with_history_dots(batches: QuerySet[Batch]) -> QuerySet[Batch]:
    """Each batch's sessions (just what a mini dot needs), in one extra query per page."""
    heavy = ("structure_snapshot", "intake_form_snapshot", "path", "step_state", "custom_steps")
    dots = (
        FlowSession.objects.filter(current=True)
        .select_related("user", "assigned_to")
        .defer(*heavy)
        .order_by("target_label")
    )
    return batches.prefetch_related(Prefetch("sessions", queryset=dots, to_attr="dot_sessions"))


def batch_progress(session: FlowSession) -> tuple[int, int]:
    """For the runner's context strip: (complete, total) of the session's batch."""
    counts = FlowSession.objects.filter(batch_id=session.batch_id, current=True).aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status=SessionStatus.COMPLETED) | ~Q(mark="")),
    )
    return counts["done"], counts["total"]


# --- the session's event log -----------------------------------------------------------

TIMELINE_LIMIT = 500


@dataclass
class TimelineRow:
    at: datetime
    who: str
    kind: str
    label: str
    step: str
    detail: str


def session_timeline(session: FlowSession) -> list[TimelineRow]:
    """Who did which step when, oldest first, in one query (the newest TIMELINE_LIMIT)."""
    events = list(
        SessionEvent.objects.filter(session=session)
        .select_related("user")
        .order_by("-at", "-id")[:TIMELINE_LIMIT]
    )
    titles = step_titles(session)
    return [
        TimelineRow(
            at=event.at,
            who=event.user.display_name if event.user else "",
            kind=event.kind,
            label=event.get_kind_display(),
            step=titles.get(event.node_id, event.node_id),
            detail=event_detail(event),
        )
        for event in reversed(events)
    ]


def step_titles(session: FlowSession) -> dict[str, str]:
    titles = {
        node_id: session.fill(nodes.heading(node))
        for node_id, node in runtime.node_index(session).items()
    }
    for custom in session.custom_steps:
        titles[str(custom.get("id"))] = session.fill(custom.get("title"))
    return titles


def event_detail(event: SessionEvent) -> str:
    payload = event.payload or {}
    if event.kind == EventKind.ANSWER:
        return f"“{payload.get('choice', '')}”"
    if event.kind == EventKind.THUMBS:
        return {"up": "👍 helpful", "down": "👎 not helpful"}.get(payload.get("vote"), "cleared")
    if event.kind == EventKind.COMPLETE:
        return Outcome(payload["outcome"]).label if payload.get("outcome") in Outcome.values else ""
    if event.kind == EventKind.RATING:
        return f"{payload.get('rating')}/5"
    if event.kind == EventKind.COPY:
        return copy_detail(payload)
    if event.kind == EventKind.HANDOVER:
        verb = "taken over" if payload.get("how") == "takeover" else "handed over"
        said = f": {payload['note']}" if payload.get("note") else ""
        return f"{verb} from {payload.get('from') or '—'} to {payload.get('to')}{said}"
    if event.kind == EventKind.MARKED:
        return f"{payload.get('state', '')}: {payload.get('note', '')}"
    if event.kind == EventKind.RETRIED:
        return f"attempt {payload.get('attempt')} started"
    return ""


COPY_CHOICE_LABELS = {"all": "redacted", "review": "reviewed", "none": "as is"}


def copy_detail(payload: dict) -> str:
    """ "as is, 2 of 2 findings kept" — what left the app with the ticket text."""
    found, kept = payload.get("found") or 0, payload.get("kept") or 0
    how = COPY_CHOICE_LABELS.get(payload.get("choice"), "")
    if not found:
        return "no findings"
    return f"{how}, {kept} of {found} finding{'s' if found != 1 else ''} kept"
