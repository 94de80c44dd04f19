from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from flows.models import TreeType
from sessions import services
from sessions.models import FlowSession, SessionEvent
from tests.factories import TreeFactory, procedural_structure


@pytest.fixture
def ts_flow(account, owner):
    return TreeFactory(name="VPN tunnel down", account=account, author=owner)


@pytest.fixture
def proc_flow(account, owner):
    return TreeFactory(
        name="Patch a server",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=procedural_structure(),
    )


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
