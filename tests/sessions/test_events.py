"""The session event log: every change appends one event in its own transaction; a refused
change appends nothing; the session page shows the log as a timeline."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as global_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from flows.models import TreeType
from sessions import services
from sessions.models import EventKind, FlowSession, SessionEvent
from tests.factories import TreeFactory

pytestmark = pytest.mark.django_db


def kinds(session) -> list[str]:
    return list(SessionEvent.objects.filter(session=session).values_list("kind", flat=True))


def last(session) -> SessionEvent:
    return SessionEvent.objects.filter(session=session).order_by("-id").first()


def test_start_records_the_root_and_who(ts_session, engineer):
    event = last(ts_session)
    assert (event.kind, event.node_id, event.user, event.tree_id) == (
        EventKind.START,
        "root",
        engineer,
        ts_session.tree_id,
    )
    assert ts_session.current_node_id == "root"


def test_answer_and_back_move_the_current_node(ts_session, engineer):
    services.session_answer(session=ts_session, user=engineer, node_id="root", choice="No")
    answer = last(ts_session)
    assert (answer.kind, answer.node_id, answer.payload) == (
        EventKind.ANSWER,
        "root",
        {"choice": "No", "next": "fixed"},
    )
    assert FlowSession.objects.get(pk=ts_session.pk).current_node_id == "fixed"
    services.session_back(session=ts_session, user=engineer)
    back = last(ts_session)
    assert (back.kind, back.node_id, back.payload) == (EventKind.BACK, "root", {"from": "fixed"})
    assert FlowSession.objects.get(pk=ts_session.pk).current_node_id == "root"


def test_tick_untick_and_note(proc_session, engineer):
    services.session_step_update(session=proc_session, user=engineer, step_id="snapshot", done=True)
    tick = last(proc_session)
    assert (tick.kind, tick.node_id) == (EventKind.TICK, "snapshot")
    assert tick.elapsed_s is not None and tick.elapsed_s >= 0
    services.session_step_update(session=proc_session, user=engineer, step_id="snapshot", done=True)
    assert kinds(proc_session).count("tick") == 1  # a double-click changes nothing
    services.session_step_update(
        session=proc_session, user=engineer, step_id="snapshot", done=False
    )
    assert last(proc_session).kind == EventKind.UNTICK
    services.session_step_update(session=proc_session, user=engineer, step_id="patch", note="ok")
    note = last(proc_session)
    assert (note.kind, note.node_id, note.payload) == (EventKind.NOTE, "patch", {"chars": 2})
    services.session_step_update(session=proc_session, user=engineer, step_id="patch", note="ok")
    assert kinds(proc_session).count("note") == 1  # the same text again is no change


def test_custom_steps_thumbs_complete_rating_and_export(proc_session, engineer):
    _, custom = services.session_custom_step_add(
        session=proc_session, user=engineer, inserted_after="snapshot", title="Reboot"
    )
    added = last(proc_session)
    assert (added.kind, added.node_id, added.payload["custom_id"]) == (
        EventKind.CUSTOM_ADDED,
        "snapshot",
        custom["id"],
    )
    services.session_custom_step_remove(session=proc_session, user=engineer, custom_id=custom["id"])
    assert (last(proc_session).kind, last(proc_session).node_id) == (
        EventKind.CUSTOM_REMOVED,
        custom["id"],
    )
    services.session_feedback_set(
        session=proc_session, user=engineer, node_id="patch", helpful=False
    )
    assert (last(proc_session).kind, last(proc_session).payload) == (
        EventKind.THUMBS,
        {"vote": "down", "was": "cleared"},
    )
    services.session_step_update(session=proc_session, user=engineer, step_id="snapshot", done=True)
    services.session_complete(session=proc_session, user=engineer, outcome="resolved")
    tail = list(SessionEvent.objects.filter(session=proc_session).order_by("-id")[:2])
    assert [(e.kind, e.node_id) for e in tail] == [("skipped", "patch"), ("complete", "")]
    assert tail[1].payload == {"outcome": "resolved"}
    services.session_rate(session=proc_session, user=engineer, rating=4, comment="Fine")
    assert (last(proc_session).kind, last(proc_session).payload) == (
        EventKind.RATING,
        {"rating": 4, "was": None, "comment": True},
    )
    services.session_mark_exported(session=proc_session, user=engineer)
    assert last(proc_session).kind == EventKind.EXPORT


def test_troubleshooting_completion_names_the_exit_node(ts_session, engineer):
    services.session_answer(session=ts_session, user=engineer, node_id="root", choice="No")
    services.session_complete(session=ts_session, user=engineer, outcome="resolved")
    assert (last(ts_session).kind, last(ts_session).node_id) == (EventKind.COMPLETE, "fixed")


def test_batch_start_records_the_engineer_who_won(account, engineer):
    tree = TreeFactory(account=account, tree_type=TreeType.MAINTENANCE)
    batch = services.batch_launch(tree=tree, user=engineer, targets=["srv1"])
    session = batch.sessions.get()
    assert kinds(session) == []
    services.batch_session_start(session=session, user=engineer)
    assert (last(session).kind, last(session).user) == (EventKind.START, engineer)


def test_refused_changes_write_nothing(ts_session, proc_session, engineer, owner):
    before = SessionEvent.objects.count()
    refusals = [
        lambda: services.session_answer(
            session=ts_session, user=engineer, node_id="fixed", choice="Yes"
        ),
        lambda: services.session_answer(
            session=ts_session, user=engineer, node_id="root", choice="Maybe"
        ),
        lambda: services.session_answer(
            session=ts_session, user=owner, node_id="root", choice="Yes"
        ),
        lambda: services.session_back(session=ts_session, user=engineer),
        lambda: services.session_step_update(
            session=proc_session, user=engineer, step_id="nope", done=True
        ),
        lambda: services.session_custom_step_add(
            session=proc_session, user=engineer, inserted_after="nope", title="X"
        ),
        lambda: services.session_custom_step_remove(
            session=proc_session, user=engineer, custom_id="custom-nope"
        ),
        lambda: services.session_feedback_set(
            session=proc_session, user=engineer, node_id="nope", helpful=True
        ),
        lambda: services.session_complete(session=proc_session, user=engineer, outcome="bogus"),
        lambda: services.session_rate(session=proc_session, user=engineer, rating=5),
        lambda: services.session_mark_exported(session=proc_session, user=owner.__class__()),
    ]
    for refuse in refusals:
        with pytest.raises((services.SessionError, ValidationError, PermissionDenied)):
            refuse()
    assert SessionEvent.objects.count() == before
    services.session_complete(session=proc_session, user=engineer, outcome="resolved")
    after_complete = SessionEvent.objects.count()
    with pytest.raises(services.SessionClosed):
        services.session_step_update(
            session=proc_session, user=engineer, step_id="patch", done=True
        )
    with pytest.raises(ValidationError):
        services.session_rate(session=proc_session, user=engineer, rating=9)
    assert SessionEvent.objects.count() == after_complete


def test_every_kind_of_a_single_run_is_written_by_a_service(ts_session, proc_session, engineer):
    services.session_answer(session=ts_session, user=engineer, node_id="root", choice="Yes")
    services.session_back(session=ts_session, user=engineer)
    services.session_step_update(session=proc_session, user=engineer, step_id="patch", done=True)
    services.session_step_update(session=proc_session, user=engineer, step_id="patch", done=False)
    services.session_step_update(session=proc_session, user=engineer, step_id="patch", note="n")
    _, custom = services.session_custom_step_add(
        session=proc_session, user=engineer, inserted_after="patch", title="Extra"
    )
    services.session_custom_step_remove(session=proc_session, user=engineer, custom_id=custom["id"])
    services.session_feedback_set(
        session=proc_session, user=engineer, node_id="patch", helpful=True
    )
    services.session_complete(session=proc_session, user=engineer, outcome="resolved")
    services.session_rate(session=proc_session, user=engineer, rating=5)
    services.session_mark_exported(session=proc_session, user=engineer)
    services.session_copied_for_ticket(
        session=proc_session, user=engineer, choice="none", found=2, kept=2, kinds=["password"]
    )
    written = set(SessionEvent.objects.values_list("kind", flat=True))
    # Hand-over, marks and retries are written in tests/sessions/test_batch_control.py.
    batch_kinds = {EventKind.HANDOVER, EventKind.MARKED, EventKind.RETRIED}
    assert written == set(EventKind.values) - batch_kinds


def test_session_page_shows_the_timeline(
    client, proc_session, engineer, django_assert_max_num_queries
):
    services.session_step_update(session=proc_session, user=engineer, step_id="snapshot", done=True)
    services.session_custom_step_add(
        session=proc_session, user=engineer, inserted_after="snapshot", title="Reboot twice"
    )
    client.force_login(engineer)
    with django_assert_max_num_queries(20):
        page = client.get(f"/sessions/{proc_session.pk}/").content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert "3 events" in timeline
    for text in (
        "Started",
        "Ticked",
        "Take a snapshot",
        "Custom step added",
        engineer.display_name,
    ):
        assert text in timeline


def test_backfill_rebuilds_what_sessions_stored(ts_session, proc_session, engineer):
    services.session_answer(session=ts_session, user=engineer, node_id="root", choice="No")
    services.session_complete(session=ts_session, user=engineer, outcome="resolved")
    services.session_step_update(session=proc_session, user=engineer, step_id="snapshot", done=True)
    services.session_custom_step_add(
        session=proc_session, user=engineer, inserted_after="patch", title="Extra"
    )
    services.session_complete(session=proc_session, user=engineer, outcome="escalated")
    SessionEvent.objects.all().delete()
    FlowSession.objects.update(current_node_id="")
    migration = importlib.import_module("sessions.migrations.0003_session_events")
    editor = SimpleNamespace(connection=connection)  # all the step reads of its editor
    migration.backfill_events(global_apps, editor)
    assert kinds(ts_session) == ["start", "answer", "complete"]
    assert last(ts_session).node_id == "fixed"
    assert FlowSession.objects.get(pk=ts_session.pk).current_node_id == "fixed"
    assert sorted(kinds(proc_session)) == ["complete", "custom_added", "skipped", "start", "tick"]
    assert SessionEvent.objects.get(session=proc_session, kind="skipped").node_id == "patch"
    migration.backfill_events(global_apps, editor)  # run twice: nothing doubles
    assert SessionEvent.objects.count() == 8


def test_the_timeline_says_how_ticket_text_was_copied(client, proc_session, engineer):
    services.session_copied_for_ticket(
        session=proc_session, user=engineer, choice="none", found=2, kept=2, kinds=["password"]
    )
    services.session_copied_for_ticket(
        session=proc_session, user=engineer, choice="all", found=3, kept=0, kinds=["aws"]
    )
    client.force_login(engineer)
    body = client.get(reverse("sessions:detail", args=[proc_session.pk])).content.decode()
    assert "Copied for ticket" in body
    assert "as is, 2 of 2 findings kept" in body
    assert "redacted, 0 of 3 findings kept" in body
