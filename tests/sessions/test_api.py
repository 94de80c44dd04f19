import pytest

from sessions import services
from sessions.models import FlowSession
from tests.conftest import api_as

LIST = "/api/sessions/"


def detail(session, suffix: str = "") -> str:
    return f"/api/sessions/{session.pk}/{suffix}"


def test_anonymous_gets_401(api, ts_session):
    assert api.get(LIST).status_code == 401
    assert api.post(detail(ts_session, "answer/"), {}).status_code == 401


def test_start_drive_complete_rate_and_export_a_troubleshooting_session(engineer, ts_flow):
    api = api_as(engineer)
    started = api.post(LIST, {"tree": str(ts_flow.pk), "ticket_number": "INC-7"}, format="json")
    assert started.status_code == 201, started.json()
    sid = started.json()["id"]
    assert started.json()["current_node_id"] == "root"
    r = api.post(
        f"{LIST}{sid}/answer/",
        {"node_id": "root", "choice": "Yes", "note": "both down"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["current_node_id"] == "restart"
    r = api.post(f"{LIST}{sid}/back/")
    assert r.json()["current_node_id"] == "root"
    api.post(f"{LIST}{sid}/answer/", {"node_id": "root", "choice": "No"}, format="json")
    r = api.post(
        f"{LIST}{sid}/complete/", {"outcome": "resolved", "outcome_notes": "fixed"}, format="json"
    )
    assert r.status_code == 200 and r.json()["status"] == "completed"
    r = api.post(f"{LIST}{sid}/rate/", {"rating": 5, "comment": "great"}, format="json")
    assert r.json()["rating"] == 5
    psa = api.get(f"{LIST}{sid}/export/", {"format": "psa"})
    assert psa.status_code == 200 and psa["Content-Type"].startswith("text/plain")
    text = psa.content.decode()
    assert "INC-7" in text and "Outcome: Resolved" in text and "→ No" in text
    assert FlowSession.objects.get(pk=sid).exported


def test_procedural_steps_custom_steps_and_feedback(engineer, proc_flow):
    api = api_as(engineer)
    sid = api.post(
        LIST, {"tree": str(proc_flow.pk), "variables": {"server": "RDS-01"}}, format="json"
    ).json()["id"]
    r = api.post(f"{LIST}{sid}/steps/snapshot/", {"done": True, "note": "taken"}, format="json")
    assert r.json()["step_state"]["snapshot"]["done"] is True
    assert r.json()["progress"] == {"done": 1, "total": 2}
    r = api.post(
        f"{LIST}{sid}/custom-steps/",
        {"inserted_after": "snapshot", "title": "Extra"},
        format="json",
    )
    assert r.status_code == 201
    custom_id = r.json()["custom_steps"][0]["id"]
    assert api.post(f"{LIST}{sid}/feedback/patch/", {"helpful": True}, format="json").json() == {
        "helpful": True
    }
    r = api.delete(f"{LIST}{sid}/custom-steps/{custom_id}/")
    assert r.status_code == 200 and r.json()["custom_steps"] == []
    md = api.get(f"{LIST}{sid}/export/", {"format": "markdown", "timestamps": "false"})
    assert md.status_code == 200 and "1. Take a snapshot → *Done*" in md.content.decode()


@pytest.mark.parametrize(
    "suffix, payload, status",
    [
        ("answer/", {"node_id": "root", "choice": "Perhaps"}, 400),
        ("answer/", {"node_id": "fixed", "choice": "Yes"}, 400),
        ("answer/", {"choice": "Yes"}, 400),
        ("steps/ghost/", {"done": True}, 400),
        ("steps/root/", {}, 400),
        ("custom-steps/", {"inserted_after": "root", "title": "x"}, 400),
        ("complete/", {"outcome": "fine"}, 400),
        ("rate/", {"rating": 5}, 400),
        ("feedback/root/", {"helpful": "maybe"}, 400),
    ],
)
def test_bad_input_is_400_with_a_message_and_changes_nothing(
    engineer, ts_session, suffix, payload, status
):
    response = api_as(engineer).post(detail(ts_session, suffix), payload, format="json")
    assert response.status_code == status
    assert response.json()
    ts_session.refresh_from_db()
    assert ts_session.path == [] and not ts_session.is_completed


def test_completed_sessions_refuse_changes_with_409(engineer, ts_session):
    services.session_complete(session=ts_session, user=engineer, outcome="resolved")
    r = api_as(engineer).post(
        detail(ts_session, "answer/"), {"node_id": "root", "choice": "Yes"}, format="json"
    )
    assert r.status_code == 409 and "completed" in r.json()["detail"]


def test_tenancy_outsider_404_and_teammate_404(outsider, viewer, ts_session, ts_flow):
    for user in (outsider, viewer):
        api = api_as(user)
        assert api.get(detail(ts_session)).status_code == 404
        assert api.get(detail(ts_session, "export/")).status_code == 404
        assert (
            api.post(
                detail(ts_session, "answer/"), {"node_id": "root", "choice": "Yes"}, format="json"
            ).status_code
            == 404
        )
    assert ts_session.pk not in {row["id"] for row in api_as(outsider).get(LIST).json()["results"]}
    # An outsider cannot start another account's flow either.
    assert api_as(outsider).post(LIST, {"tree": str(ts_flow.pk)}, format="json").status_code == 404


def test_start_validation(engineer, proc_flow):
    api = api_as(engineer)
    r = api.post(LIST, {"tree": str(proc_flow.pk), "variables": {}}, format="json")
    assert r.status_code == 400 and "server" in r.json()
    assert api.post(LIST, {"tree": "not-a-uuid"}, format="json").status_code == 400
    assert not FlowSession.objects.exists()


def test_list_filters_and_query_count(engineer, ts_flow, proc_flow, django_assert_max_num_queries):
    api = api_as(engineer)
    for _ in range(3):
        services.session_start(tree=ts_flow, user=engineer)
    services.session_start(tree=proc_flow, user=engineer, variables={"server": "x"})
    rows = api.get(LIST, {"flow": str(proc_flow.pk)}).json()["results"]
    assert len(rows) == 1 and rows[0]["tree_type"] == "procedural"
    assert api.get(LIST, {"batch_id": "00000000-0000-0000-0000-000000000000"}).json()["count"] == 0
    with django_assert_max_num_queries(4) as few:
        api.get(LIST)
    for _ in range(30):
        services.session_start(tree=ts_flow, user=engineer)
    with django_assert_max_num_queries(4) as many:
        assert api.get(LIST).json()["count"] == 34
    assert len(few.captured_queries) == len(many.captured_queries)


def test_export_format_must_be_known(engineer, ts_session):
    r = api_as(engineer).get(detail(ts_session, "export/"), {"format": "docx"})
    assert r.status_code == 400 and "format" in r.json()
