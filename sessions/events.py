"""The session event log's one write path: every service that changes a session calls
``record_event`` inside its own transaction, so the log and the session never disagree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import User
from sessions.models import EventKind, FlowSession, SessionEvent
from sessions.rollup import rollup_events


def record_event(
    session: FlowSession,
    user: User | None,
    kind: EventKind,
    *,
    node_id: str = "",
    payload: dict[str, Any] | None = None,
    elapsed_s: int | None = None,
    at: datetime | None = None,
) -> SessionEvent:
    """Append one event to the session's log (call it inside the change's transaction)."""
    if user is not None and getattr(user, "pk", None) is None:
        user = None  # AnonymousUser
    event = SessionEvent(
        session_id=session.pk,
        tree_id=session.tree_id,
        user=user,
        kind=kind,
        node_id=str(node_id or "")[:100],
        payload=payload or {},
        elapsed_s=elapsed_s,
    )
    if at is not None:
        event.at = at
    event.save()
    rollup_events(session, [event])
    return event


def record_events(session: FlowSession, events: list[SessionEvent]) -> None:
    """Several events of one change at once (the steps left unticked at completion)."""
    SessionEvent.objects.bulk_create(events)
    rollup_events(session, events)
