"""The analytics rollup (``FlowCount``): what each event adds to its flow's daily counters.

``record_event`` calls ``rollup_events`` in the event's own transaction; the upsert adds to
the counter (``value = value + n``), so concurrent writers never lose a count. Counters are
keyed by the day the run started, so every figure of a period is "runs started in it"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection
from django.utils import timezone

from sessions.models import ALL_TIME, EventKind, FlowCount, FlowSession, Outcome, SessionEvent

RESOLVED = (Outcome.RESOLVED, Outcome.WORKAROUND, Outcome.RESOLVED_EXTERNALLY)
UNRESOLVED = (Outcome.UNRESOLVED, Outcome.CANCELLED)
MAX_MINUTES = 24 * 60  # longer runs count in the last minute bucket


def outcome_group(outcome: str) -> str:
    if outcome in RESOLVED:
        return "resolved"
    if outcome == Outcome.ESCALATED:
        return "escalated"
    return "unresolved"


def run_day(session: FlowSession) -> date:
    return timezone.localdate(session.started_at or timezone.now())


def counts_of(session: FlowSession, event: SessionEvent) -> list[tuple[str, str, int]]:
    """(key, node, change) for one event of a session (the session as the change left it)."""
    payload = event.payload or {}
    kind, node = event.kind, event.node_id
    if kind == EventKind.START:
        return [("run", "", 1)]
    if kind == EventKind.ANSWER:
        target = str(payload.get("next") or "")
        return [("arrive", target, 1)] if target and first_arrival(event, target) else []
    if kind == EventKind.TICK:
        timed = [("tick_s", node, event.elapsed_s), ("tick_n", node, 1)]
        return [("tick", node, 1), *(timed if event.elapsed_s is not None else [])]
    if kind == EventKind.UNTICK:
        return [("tick", node, -1)]
    if kind == EventKind.SKIPPED:
        return [("skipped", node, 1)]
    if kind == EventKind.CUSTOM_ADDED:
        return [("custom", node, 1)]
    if kind == EventKind.CUSTOM_REMOVED:
        return [("custom", str(payload.get("inserted_after") or ""), -1)]
    if kind == EventKind.THUMBS:
        votes = {"up": "up", "down": "down"}
        changes = []
        if payload.get("was") in votes:
            changes.append((votes[payload["was"]], node, -1))
        if payload.get("vote") in votes:
            changes.append((votes[payload["vote"]], node, 1))
        return changes
    if kind == EventKind.COMPLETE:
        return completion_counts(session)
    if kind == EventKind.RATING:
        changes = [("star", str(payload.get("rating")), 1)]
        if payload.get("was"):
            changes.append(("star", str(payload["was"]), -1))
        return changes
    return []


def first_arrival(event: SessionEvent, target: str) -> bool:
    """Reach counts runs, not visits: a loop or Back and the same answer again count once."""
    earlier = SessionEvent.objects.filter(
        session_id=event.session_id, kind=EventKind.ANSWER, payload__next=target
    )
    return not earlier.exclude(pk=event.pk).exists()


def completion_counts(session: FlowSession) -> list[tuple[str, str, int]]:
    changes = [(f"out:{outcome_group(session.outcome)}", "", 1)]
    if session.started_at and session.completed_at:
        seconds = (session.completed_at - session.started_at).total_seconds()
        changes.append(("dur", str(min(MAX_MINUTES, max(0, int(seconds // 60)))), 1))
    if session.current_node_id:
        changes.append(("ended", session.current_node_id, 1))
    return changes


def rollup_events(session: FlowSession, events: Iterable[SessionEvent]) -> None:
    """Add what these events of one session count to its flow's counters."""
    if session.tree_id is None:
        return
    totals: Counter[tuple[str, str]] = Counter()
    for event in events:
        for key, node, change in counts_of(session, event):
            totals[(key, node)] += change
    add_counts(session.tree_id, run_day(session), totals)


def add_counts(tree_id: Any, day: date, totals: Counter, model: Any = FlowCount) -> None:
    """One upsert per counter and per day (the run's, and ALL_TIME): `value = value + n`
    (PostgreSQL and SQLite ≥ 3.24)."""
    # The flow's id as the database stores it (uuid on PostgreSQL, 32 hex digits on SQLite).
    tree = model._meta.get_field("tree").target_field.get_db_prep_value(
        tree_id, connection, prepared=False
    )
    # Every change also moves the flow's all-time totals (the day ALL_TIME).
    rows = [
        (tree, when, key, node[:100], n)
        for when in (day, ALL_TIME)
        for (key, node), n in totals.items()
        if n
    ]
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} (tree_id, day, key, node_id, value) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (tree_id, day, key, node_id) "
        f"DO UPDATE SET value = {table}.value + excluded.value"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


# --- rebuilding from sessions and events ------------------------------------------------


def session_counts(session: FlowSession, ticks: list[SessionEvent]) -> Counter:
    """Every counter one session contributes, from what it stored (the rebuild's source)."""
    totals: Counter[tuple[str, str]] = Counter()
    if session.started_at is None:
        return totals
    totals[("run", "")] += 1
    events = list(session.events.all())
    for target in {str((e.payload or {}).get("next") or "") for e in events if e.kind == "answer"}:
        if target:
            totals[("arrive", target)] += 1
    for step_id, state in (session.step_state or {}).items():
        if isinstance(state, dict) and state.get("done"):
            totals[("tick", step_id)] += 1
    for tick in ticks:
        if tick.elapsed_s is not None:
            totals[("tick_s", tick.node_id)] += tick.elapsed_s
            totals[("tick_n", tick.node_id)] += 1
    for custom in session.custom_steps or []:
        totals[("custom", str(custom.get("inserted_after") or ""))] += 1
    for vote in session.feedback.all():
        totals[("up" if vote.helpful else "down", vote.node_id)] += 1
    if session.status == "completed":
        for key, node, change in completion_counts(session):
            totals[(key, node)] += change
        for event in events:
            if event.kind == EventKind.SKIPPED:
                totals[("skipped", event.node_id)] += 1
    if session.rating:
        totals[("star", str(session.rating))] += 1
    return totals


def rollup_rebuild(
    tree_ids: list[Any] | None = None,
    *,
    batch: int = 500,
    session_model: Any = FlowSession,
    count_model: Any = FlowCount,
) -> int:
    """Recompute the counters of these flows (all when None) from sessions and their events.
    Returns the number of sessions read. Run it in a transaction (the command does); the
    back-fill migration passes its historical models."""
    counts = count_model.objects.all()
    sessions = session_model.objects.filter(started_at__isnull=False, tree__isnull=False)
    if tree_ids is not None:
        counts = counts.filter(tree_id__in=tree_ids)
        sessions = sessions.filter(tree_id__in=tree_ids)
    counts.delete()
    by_key: dict[tuple[Any, date], Counter] = {}
    read = 0
    ids = list(sessions.values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        chunk = (
            session_model.objects.filter(pk__in=ids[start : start + batch])
            .defer("structure_snapshot", "intake_form_snapshot")
            .prefetch_related("feedback", "events")
        )
        for session in chunk:
            ticks = [e for e in session.events.all() if e.kind == EventKind.TICK]
            key = (session.tree_id, run_day(session))
            by_key.setdefault(key, Counter()).update(session_counts(session, ticks))
            read += 1
    for (tree_id, day), totals in by_key.items():
        add_counts(tree_id, day, totals, count_model)
    return read
