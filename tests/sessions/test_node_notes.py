"""Issue 9: a note typed on a troubleshooting node is never lost. It saves as the engineer types
(the pending note), moves onto the path with the answer, and comes back on reload and Back."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from sessions import exports, services
from sessions.models import FlowSession
from tests.conftest import api_as

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, session, *args) -> str:
    return reverse(f"sessions:{name}", args=[session.pk, *args])


def save_note(session, user, node_id: str, note: str) -> FlowSession:
    return services.session_step_update(session=session, user=user, step_id=node_id, note=note)


def textarea(body: str, node_id: str) -> str:
    """The text inside the note box of a node, as the browser would show it."""
    match = re.search(rf'<textarea[^>]*id="note-{node_id}"[^>]*>(.*?)</textarea>', body, re.S)
    assert match, f"no note box for {node_id}"
    return match.group(1)


# --- service --------------------------------------------------------------------------------


def test_a_pending_note_is_stored_on_the_current_node(ts_session, engineer):
    save_note(ts_session, engineer, "root", "Both peers red")
    fresh = FlowSession.objects.get(pk=ts_session.pk)
    assert fresh.step_state == {"root": {"note": "Both peers red"}}
    assert fresh.path == []


def test_answering_moves_the_pending_note_onto_the_path(ts_session, engineer):
    save_note(ts_session, engineer, "root", "Both peers red")
    services.session_answer(session=ts_session, user=engineer, node_id="root", choice="Yes")
    fresh = FlowSession.objects.get(pk=ts_session.pk)
    assert fresh.path[0]["note"] == "Both peers red"
    assert "root" not in fresh.step_state  # moved, not copied


def test_the_note_sent_with_the_answer_wins_over_the_pending_one(ts_session, engineer):
    save_note(ts_session, engineer, "root", "Both peers re")
    services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="Both peers red"
    )
    fresh = FlowSession.objects.get(pk=ts_session.pk)
    assert fresh.path[0]["note"] == "Both peers red" and fresh.step_state == {}


def test_back_restores_the_answered_note_as_pending(ts_session, engineer):
    services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="Both peers red"
    )
    save_note(ts_session, engineer, "restart", "Bounced at 10:02")
    services.session_back(session=ts_session, user=engineer)
    fresh = FlowSession.objects.get(pk=ts_session.pk)
    assert fresh.path == []
    assert fresh.step_state["root"] == {"note": "Both peers red"}
    assert fresh.step_state["restart"] == {"note": "Bounced at 10:02"}  # kept for its return


def test_a_loop_back_to_a_node_starts_with_an_empty_note(ts_session, engineer):
    s = services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="first visit"
    )
    s = services.session_answer(session=s, user=engineer, node_id="restart", choice="done")
    fresh = FlowSession.objects.get(pk=s.pk)
    assert fresh.step_state == {} and fresh.path[0]["note"] == "first visit"


def test_a_note_for_a_node_already_left_is_refused(ts_session, engineer):
    services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="red"
    )
    with pytest.raises(services.SessionError, match="no longer the current one"):
        save_note(ts_session, engineer, "root", "typed in a stale tab")
    fresh = FlowSession.objects.get(pk=ts_session.pk)
    assert fresh.path[0]["note"] == "red" and fresh.step_state == {}


def test_a_late_save_of_the_answered_text_is_harmless(ts_session, engineer):
    """The box's blur save can reach the server after the answer that carried the same text."""
    services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="red"
    )
    save_note(ts_session, engineer, "root", "red")
    fresh = FlowSession.objects.get(pk=ts_session.pk)
    assert fresh.path[0]["note"] == "red" and fresh.step_state == {}


def test_only_the_runner_saves_a_pending_note(ts_session, owner):
    with pytest.raises(PermissionDenied):
        save_note(ts_session, owner, "root", "not mine")
    assert FlowSession.objects.get(pk=ts_session.pk).step_state == {}


def test_exports_show_the_pending_note_where_the_session_stopped(ts_session, engineer):
    s = services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="red"
    )
    assert "Restart the VPN service" not in exports.export_session(s, fmt="text")
    save_note(s, engineer, "restart", "Service hung, killed the process")
    s = FlowSession.objects.get(pk=s.pk)
    text = exports.export_session(s, fmt="text", timestamps=False)
    assert "2. Restart the VPN service → Not answered" in text
    assert "   Note: Service hung, killed the process" in text


# --- pages ----------------------------------------------------------------------------------


def test_the_note_box_saves_and_shows_saved(client, engineer, ts_session):
    client.force_login(engineer)
    page = client.get(url("run", ts_session)).content.decode()
    assert f'hx-post="{url("step", ts_session, "root")}"' in page  # the box saves as you type
    response = client.post(url("step", ts_session, "root"), {"note": "Both red"}, **HTMX)
    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert FlowSession.objects.get(pk=ts_session.pk).step_state["root"]["note"] == "Both red"


def test_a_reload_shows_the_pending_note_in_the_box(client, engineer, ts_session):
    client.force_login(engineer)
    client.post(url("step", ts_session, "root"), {"note": "Both <red>"}, **HTMX)
    page = client.get(url("run", ts_session)).content.decode()
    assert textarea(page, "root") == "Both &lt;red&gt;"


def test_answer_then_back_shows_the_note_again(client, engineer, ts_session):
    client.force_login(engineer)
    client.post(url("step", ts_session, "root"), {"note": "Both red"}, **HTMX)
    answered = client.post(url("answer", ts_session), {"node_id": "root", "choice": "Yes"}, **HTMX)
    body = answered.content.decode()
    assert "“Both red”" in body  # the breadcrumb carries it now
    assert textarea(body, "restart") == ""
    back = client.post(url("back", ts_session), **HTMX).content.decode()
    assert textarea(back, "root") == "Both red"


def test_a_refused_note_toasts_and_changes_nothing(client, engineer, ts_session):
    client.force_login(engineer)
    response = client.post(url("step", ts_session, "restart"), {"note": "too early"}, **HTMX)
    assert response.status_code == 204 and "no longer the current one" in response["HX-Trigger"]
    assert FlowSession.objects.get(pk=ts_session.pk).step_state == {}


def test_the_api_answer_keeps_the_pending_note_when_it_sends_none(engineer, ts_session):
    api = api_as(engineer)
    base = f"/api/sessions/{ts_session.pk}/"
    assert api.post(f"{base}steps/root/", {"note": "red"}, format="json").status_code == 200
    answered = api.post(f"{base}answer/", {"node_id": "root", "choice": "Yes"}, format="json")
    assert answered.status_code == 200
    assert FlowSession.objects.get(pk=ts_session.pk).path[0]["note"] == "red"
