"""Issue 9: after reaching a solution node the Complete dialog preselects "Resolved"."""

import re

from django.urls import reverse

from sessions import services

HTMX = {"HTTP_HX_REQUEST": "true"}


def selected_outcome(body: str) -> str | None:
    """The outcome option the dialog shows as chosen (None: the "Choose…" prompt)."""
    select = re.search(r'<select[^>]*name="outcome"[^>]*>(.*?)</select>', body, re.S)
    assert select, "no outcome dropdown"
    chosen = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select.group(1))
    return chosen.group(1) if chosen and chosen.group(1) else None


def answer(client, session, node_id: str, choice: str):
    url = reverse("sessions:answer", args=[session.pk])
    return client.post(url, {"node_id": node_id, "choice": choice}, **HTMX)


def test_the_dialog_asks_for_an_outcome_on_a_question(client, engineer, ts_session):
    client.force_login(engineer)
    page = client.get(reverse("sessions:run", args=[ts_session.pk])).content.decode()
    assert selected_outcome(page) is None


def test_the_dialog_preselects_resolved_at_a_solution_on_reload(client, engineer, ts_session):
    services.session_answer(session=ts_session, user=engineer, node_id="root", choice="No")
    client.force_login(engineer)
    page = client.get(reverse("sessions:run", args=[ts_session.pk])).content.decode()
    assert selected_outcome(page) == "resolved"
    assert re.search(r'<option value="resolved"[^>]*selected[^>]*>Resolved</option>', page)
    detail = client.get(reverse("sessions:detail", args=[ts_session.pk])).content.decode()
    assert selected_outcome(detail) == "resolved"


def test_answering_into_a_solution_updates_the_dialog_out_of_band(client, engineer, ts_session):
    client.force_login(engineer)
    body = answer(client, ts_session, "root", "No").content.decode()
    assert 'id="complete-form" hx-swap-oob="true"' in body
    assert selected_outcome(body) == "resolved"
    back = client.post(reverse("sessions:back", args=[ts_session.pk]), **HTMX)
    assert selected_outcome(back.content.decode()) is None  # back on a question: ask again
