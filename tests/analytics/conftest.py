"""Helpers of the analytics tests: runs with known shapes and durations (the flows and people
come from tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sessions import services
from sessions.models import FlowSession, SessionEvent
from sessions.rollup import rollup_rebuild


def backdate(session, *, started_ago: timedelta, took: timedelta | None = None, touched=None):
    """Move a session (and its events) back in time, keeping its shape: known durations."""
    now = timezone.now()
    started = now - started_ago
    shift = started - FlowSession.objects.get(pk=session.pk).started_at
    fields = {"started_at": started}
    if took is not None:
        fields["completed_at"] = started + took
    FlowSession.objects.filter(pk=session.pk).update(**fields)
    for event in SessionEvent.objects.filter(session=session):
        SessionEvent.objects.filter(pk=event.pk).update(at=event.at + shift)
    if touched is not None:  # updated_at is auto_now: only a queryset update moves it
        FlowSession.objects.filter(pk=session.pk).update(updated_at=now - touched)
    rollup_rebuild([session.tree_id])  # history was rewritten: recount it, as the command does


def run_ts(tree, user, choices, outcome=None):
    session = services.session_start(tree=tree, user=user)
    node = "root"
    for choice in choices:
        session = services.session_answer(session=session, user=user, node_id=node, choice=choice)
        node = session.current_node_id
    if outcome:
        session = services.session_complete(session=session, user=user, outcome=outcome)
    return session


def run_checklist(tree, user, ticks, outcome=None, custom_after=None):
    session = services.session_start(tree=tree, user=user)
    for step in ticks:
        session = services.session_step_update(session=session, user=user, step_id=step, done=True)
    if custom_after:
        session, _ = services.session_custom_step_add(
            session=session, user=user, inserted_after=custom_after, title="Extra check"
        )
    if outcome:
        session = services.session_complete(session=session, user=user, outcome=outcome)
    return session


def bulk_runs(tree, user, count, *, completed=True, events=()):
    """`count` runs of `tree` written in bulk, each with the given (kind, node_id, payload)
    events, then counted by the rebuild (as `manage.py analytics_rebuild` would): threshold
    tests need dozens of runs with exactly known figures."""
    from sessions.models import SessionStatus

    now = timezone.now()
    path = [{"node_id": n, "next_node_id": p.get("next")} for k, n, p in events if k == "answer"]
    custom = [
        {"id": f"custom-{i}", "inserted_after": n, "title": "Extra"}
        for i, (k, n, _) in enumerate(events)
        if k == "custom_added"
    ]
    sessions = FlowSession.objects.bulk_create(
        FlowSession(
            tree=tree,
            tree_name=tree.name,
            tree_type=tree.tree_type,
            structure_snapshot=tree.tree_structure,
            user=user,
            account=tree.account,
            status=SessionStatus.COMPLETED if completed else SessionStatus.IN_PROGRESS,
            outcome="resolved" if completed else "",
            started_at=now - timedelta(hours=1),
            completed_at=now if completed else None,
            path=path,
            custom_steps=custom,
        )
        for _ in range(count)
    )
    SessionEvent.objects.bulk_create(
        SessionEvent(session=s, tree=tree, user=user, kind=kind, node_id=node, payload=payload)
        for s in sessions
        for kind, node, payload in events
    )
    rollup_rebuild([tree.pk])
    return sessions
