import json

import pytest
from django.urls import reverse

from sessions import services
from sessions.models import FlowSession, SessionStatus

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, session, *args) -> str:
    return reverse(f"sessions:{name}", args=[session.pk, *args])


def test_run_button_starts_a_session_with_intake_answers(client, engineer, proc_flow):
    client.force_login(engineer)
    start = reverse("sessions:start", args=[proc_flow.pk])
    form = client.get(start)
    assert 'name="var_server"' in form.content.decode()
    missing = client.post(start, {"ticket_number": "T-9"})
    assert missing.status_code == 200
    assert "Server is required" in missing.content.decode() or missing.context["form"].errors
    assert not FlowSession.objects.exists()
    response = client.post(start, {"ticket_number": "T-9", "var_server": "RDS-07"})
    session = FlowSession.objects.get()
    assert response["Location"] == url("run", session)
    assert session.variables == {"server": "RDS-07", "window": ""}
    page = client.get(url("run", session)).content.decode()
    assert "Snapshot RDS-07 before patching." in page


def test_retired_flow_start_shows_a_clear_message(client, engineer, ts_flow):
    ts_flow.is_active = False
    ts_flow.save()
    client.force_login(engineer)
    response = client.post(reverse("sessions:start", args=[ts_flow.pk]))
    assert "retired" in response.content.decode()
    assert not FlowSession.objects.exists()


def test_answering_through_htmx_returns_the_runner_fragment(client, engineer, ts_session):
    client.force_login(engineer)
    response = client.post(
        url("answer", ts_session), {"node_id": "root", "choice": "Yes", "note": "n1"}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="runner"' in body and "Restart the VPN service" in body
    assert "n1" in body  # the breadcrumb shows the note


def test_a_stale_answer_rerenders_the_current_node_with_a_toast(client, engineer, ts_session):
    client.force_login(engineer)
    response = client.post(
        url("answer", ts_session), {"node_id": "restart", "choice": "done"}, **HTMX
    )
    assert response.status_code == 200
    toast = json.loads(response["HX-Trigger"])["rf:toast"]
    assert toast["level"] == "danger" and toast["message"]
    assert "Does the tunnel show as down" in response.content.decode()
    ts_session.refresh_from_db()
    assert ts_session.path == []


def test_ticking_a_step_of_a_completed_session_is_refused_with_a_toast(
    client, engineer, proc_session
):
    services.session_complete(session=proc_session, user=engineer, outcome="resolved")
    client.force_login(engineer)
    response = client.post(url("step", proc_session, "snapshot"), {"done": "1"}, **HTMX)
    toast = json.loads(response["HX-Trigger"])["rf:toast"]
    assert toast["level"] == "danger" and "completed" in toast["message"].lower()
    proc_session.refresh_from_db()
    assert not (proc_session.step_state.get("snapshot") or {}).get("done")


def test_tick_returns_the_row_and_an_out_of_band_progress_bar(client, engineer, proc_session):
    client.force_login(engineer)
    response = client.post(url("step", proc_session, "snapshot"), {"done": "1"}, **HTMX)
    body = response.content.decode()
    assert "<html" not in body and 'id="step-snapshot"' in body and "checked" in body
    assert 'id="progress"' in body and 'hx-swap-oob="true"' in body and "1 of 2" in body


def test_note_saves_quietly(client, engineer, proc_session):
    client.force_login(engineer)
    response = client.post(url("step", proc_session, "patch"), {"note": "KB5031 applied"}, **HTMX)
    assert "Saved" in response.content.decode()
    proc_session.refresh_from_db()
    assert proc_session.step_state["patch"]["note"] == "KB5031 applied"


def test_custom_step_form_inserts_in_place_with_custom_badge(client, engineer, proc_session):
    client.force_login(engineer)
    response = client.post(
        url("custom-add", proc_session),
        {"inserted_after": "snapshot", "title": "Check free disk", "commands": "Get-PSDrive C"},
        **HTMX,
    )
    body = response.content.decode()
    assert 'id="checklist"' in body and "Check free disk" in body and "Custom" in body
    assert (
        body.index("Take a snapshot")
        < body.index("Check free disk")
        < body.index("Install updates")
    )


def test_feedback_partial_toggles(client, engineer, proc_session):
    client.force_login(engineer)
    first = client.post(url("feedback", proc_session, "patch"), {"helpful": "1"}, **HTMX)
    assert 'aria-pressed="true"' in first.content.decode()
    cleared = client.post(url("feedback", proc_session, "patch"), {"helpful": "clear"}, **HTMX)
    assert 'aria-pressed="true"' not in cleared.content.decode()


def test_complete_modal_errors_then_redirects_to_detail(client, engineer, ts_session):
    client.force_login(engineer)
    bad = client.post(url("complete", ts_session), {"outcome": ""}, **HTMX)
    assert bad.status_code == 200 and 'id="complete-form"' in bad.content.decode()
    assert "is-invalid" in bad.content.decode()
    good = client.post(
        url("complete", ts_session), {"outcome": "resolved", "outcome_notes": "ok"}, **HTMX
    )
    assert good["HX-Redirect"] == url("detail", ts_session) + "?rate=1"
    ts_session.refresh_from_db()
    assert ts_session.status == SessionStatus.COMPLETED


def test_completed_session_detail_has_outcome_card_and_copy_for_ticket(
    client, engineer, ts_session
):
    services.session_answer(session=ts_session, user=engineer, node_id="root", choice="No")
    services.session_complete(
        session=ts_session, user=engineer, outcome="resolved", outcome_notes="done"
    )
    client.force_login(engineer)
    body = client.get(url("detail", ts_session) + "?rate=1").content.decode()
    assert 'id="outcome-card"' in body and "Resolved" in body
    assert 'id="copy-for-ticket"' in body and 'id="psa-text"' in body
    assert "ResolutionFlow: VPN tunnel down" in body
    assert 'name="rating"' in body


def test_run_page_of_a_completed_session_goes_to_detail(client, engineer, ts_session):
    services.session_complete(session=ts_session, user=engineer, outcome="cancelled")
    client.force_login(engineer)
    assert client.get(url("run", ts_session))["Location"] == url("detail", ts_session)


def test_export_download_marks_exported_and_escapes_html(client, engineer, ts_session):
    services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="<script>x</script>"
    )
    client.force_login(engineer)
    response = client.get(url("export", ts_session), {"format": "html", "download": "1"})
    body = response.content.decode()
    assert "attachment" in response["Content-Disposition"]
    assert "<script>x" not in body and "&lt;script&gt;x" in body
    ts_session.refresh_from_db()
    assert ts_session.exported


def test_export_preview_is_a_fragment_and_bad_options_are_400(client, engineer, ts_session):
    client.force_login(engineer)
    preview = client.get(url("export", ts_session), {"format": "markdown"}, **HTMX)
    assert 'id="preview"' in preview.content.decode() and "<html" not in preview.content.decode()
    assert client.get(url("export", ts_session), {"format": "pdf"}).status_code == 400
    assert client.get(url("export", ts_session), {"cut_off": "0"}).status_code == 400


NAMES_AND_ARGS = [
    ("detail", ()),
    ("run", ()),
    ("export", ()),
    ("answer", ()),
    ("back", ()),
    ("step", ("root",)),
    ("custom-add", ()),
    ("feedback", ("root",)),
    ("complete", ()),
    ("rate", ()),
    ("exported", ()),
]


@pytest.mark.parametrize("name, args", NAMES_AND_ARGS)
def test_outsider_gets_404_on_every_session_page_and_partial(
    client, outsider, ts_session, name, args
):
    client.force_login(outsider)
    method = client.get if name in {"detail", "run", "export"} else client.post
    assert method(url(name, ts_session, *args), **HTMX).status_code == 404


def test_teammate_engineer_cannot_see_but_admin_can(client, viewer, owner, ts_session):
    client.force_login(viewer)
    assert client.get(url("detail", ts_session)).status_code == 404
    client.force_login(owner)
    assert client.get(url("detail", ts_session)).status_code == 200
    response = client.post(url("answer", ts_session), {"node_id": "root", "choice": "Yes"}, **HTMX)
    assert response.status_code == 403  # seeing is not running


def test_history_mine_and_team_toggle(client, engineer, owner, ts_flow, ts_session):
    services.session_start(tree=ts_flow, user=owner, ticket_number="OWNER-1")
    client.force_login(engineer)
    mine = client.get(reverse("sessions:index"), {"scope": "team"}).content.decode()
    assert "T-1" in mine and "OWNER-1" not in mine  # engineers get no team toggle
    client.force_login(owner)
    team = client.get(reverse("sessions:index"), {"scope": "team"}).content.decode()
    assert "T-1" in team and "OWNER-1" in team


def test_history_filters_and_htmx_fragment(client, engineer, ts_flow, proc_flow):
    a = services.session_start(tree=ts_flow, user=engineer, ticket_number="AAA")
    services.session_start(
        tree=proc_flow, user=engineer, ticket_number="BBB", variables={"server": "x"}
    )
    services.session_complete(session=a, user=engineer, outcome="escalated")
    client.force_login(engineer)
    history = reverse("sessions:index")

    def tickets(**params):
        page = client.get(history, params).context["page"]
        return {s.ticket_number for s in page.object_list}

    assert tickets() == {"AAA", "BBB"}
    assert tickets(outcome="escalated") == {"AAA"}
    assert tickets(status="in_progress") == {"BBB"}
    assert tickets(flow=str(proc_flow.pk)) == {"BBB"}
    assert tickets(q="bbb") == {"BBB"}
    fragment = client.get(history, {"q": "aaa"}, **HTMX).content.decode()
    assert "<html" not in fragment and "AAA" in fragment
    assert 'id="results"' not in fragment  # swapped into #results: no wrapper nested inside it


def test_history_and_runner_query_counts_are_constant(
    client, engineer, proc_flow, proc_session, django_assert_max_num_queries
):
    client.force_login(engineer)
    for _ in range(3):
        services.session_start(tree=proc_flow, user=engineer, variables={"server": "x"})
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("sessions:index"))
    for _ in range(40):
        services.session_start(tree=proc_flow, user=engineer, variables={"server": "x"})
    with django_assert_max_num_queries(12) as many:
        client.get(reverse("sessions:index"))
    assert len(few.captured_queries) == len(many.captured_queries)
    with django_assert_max_num_queries(6):
        client.get(url("run", proc_session))
    # auth 2, read, lock, write, event, its counters, re-read, votes
    with django_assert_max_num_queries(12):
        client.post(url("step", proc_session, "patch"), {"done": "1"}, **HTMX)


def test_detail_preview_follows_the_chosen_format_and_copy_keeps_psa(client, engineer, ts_session):
    client.force_login(engineer)
    default = client.get(url("detail", ts_session)).context
    assert default["preview"] == default["psa_text"]
    chosen = client.get(url("detail", ts_session), {"format": "markdown"}).context
    assert chosen["preview"].startswith("# VPN tunnel down")
    assert chosen["psa_text"].startswith("ResolutionFlow: VPN tunnel down")
