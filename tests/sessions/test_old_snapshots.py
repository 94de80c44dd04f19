"""Issue 9, "whatever is stored renders": a run keeps the structure it started with, so runs begun
before the shape rules may hold shapes the flows' repair migration never touched (it rewrote
the flows, not the runs' snapshots). The runner, its partials and the exports read them without
a 500, and an answer that leads nowhere is refused in words."""

import pytest
from django.urls import reverse

from sessions.models import FlowSession
from tests.conftest import api_as

DECISIONS = {
    "options not a list": {"id": "root", "type": "decision", "question": "Q?", "options": 1.5},
    "an option's target is an object": {
        "id": "root",
        "type": "decision",
        "question": "Q?",
        "options": [{"label": "Yes", "next_node_id": {}}, "not an option"],
    },
    "an id with a slash": {
        "id": "a/b",
        "type": "decision",
        "question": "Q?",
        "options": [{"label": "Yes", "next_node_id": "c/d"}],
        "children": [{"id": "c/d", "type": "solution", "title": "Fixed"}],
    },
}


def stored(session, snapshot, **fields) -> FlowSession:
    """Write the snapshot raw, as an old row has it."""
    FlowSession.objects.filter(pk=session.pk).update(structure_snapshot=snapshot, **fields)
    return FlowSession.objects.get(pk=session.pk)


def pages(session) -> list[str]:
    return [
        reverse("sessions:run", args=[session.pk]),
        reverse("sessions:detail", args=[session.pk]),
        reverse("sessions:export", args=[session.pk]) + "?fmt=text",
        reverse("sessions:export", args=[session.pk]) + "?fmt=psa",
        reverse("sessions:export", args=[session.pk]) + "?fmt=html",
        f"/api/sessions/{session.pk}/",
    ]


@pytest.mark.parametrize("case", DECISIONS)
def test_an_old_troubleshooting_snapshot_renders_and_refuses_in_words(
    client, engineer, ts_session, case
):
    session = stored(ts_session, DECISIONS[case])
    client.force_login(engineer)
    for url in pages(session):
        assert client.get(url).status_code == 200, url
    run = client.get(reverse("sessions:run", args=[session.pk])).content.decode()
    assert "Q?" in run
    answer = client.post(
        reverse("sessions:answer", args=[session.pk]),
        {"node_id": DECISIONS[case]["id"], "choice": "Yes"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code < 500
    api = api_as(engineer).post(
        f"/api/sessions/{session.pk}/answer/", {"node_id": DECISIONS[case]["id"], "choice": "Yes"}
    )
    assert api.status_code < 500


def test_a_slash_id_can_still_be_answered_and_voted_on(client, engineer, ts_session):
    session = stored(ts_session, DECISIONS["an id with a slash"])
    client.force_login(engineer)
    client.post(reverse("sessions:answer", args=[session.pk]), {"node_id": "a/b", "choice": "Yes"})
    assert FlowSession.objects.get(pk=session.pk).current_node_id == "c/d"
    vote = client.post(
        reverse("sessions:feedback", args=[session.pk, "c/d"]),
        {"helpful": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert vote.status_code == 200


def test_an_old_checklist_snapshot_with_a_slash_id_renders_and_ticks(
    client, engineer, proc_session
):
    steps = {
        "steps": [
            {"id": "a/b", "type": "procedure_step", "title": "Snapshot the VM"},
            {"id": "end", "type": "procedure_end", "title": "Done"},
        ]
    }
    session = stored(proc_session, steps, step_state={})
    client.force_login(engineer)
    for url in pages(session):
        assert client.get(url).status_code == 200, url
    tick = client.post(
        reverse("sessions:step", args=[session.pk, "a/b"]),
        {"done": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert tick.status_code == 200
    assert FlowSession.objects.get(pk=session.pk).step_state["a/b"]["done"] is True
