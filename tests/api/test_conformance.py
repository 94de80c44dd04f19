"""Responses validate against the live schema: the null fields, the blank outcome, every error
body and the exports' real content types (issue 9's list)."""

import json

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from schemathesis.errors import FailureGroup

from flows import services as flow_services
from flows.models import TreeStatus, TreeType
from sessions import services
from sessions.exports import FORMATS
from sessions.models import TargetList
from tests.api.conftest import CONFORMANCE, as_schemathesis
from tests.conftest import api_as
from tests.factories import LibraryStepFactory, TreeFactory


@pytest.fixture
def default_flow(db):
    """Shipped content: no account, no author, no category."""
    return TreeFactory(name="Printer offline", account=None, author=None, is_public=True)


@pytest.fixture
def own_flow(account, owner):
    return TreeFactory(name="VPN tunnel down", account=account, author=owner)


@pytest.fixture
def session(own_flow, engineer):
    return services.session_start(tree=own_flow, user=engineer, ticket_number="T-1")


@pytest.fixture
def batch(account, owner, engineer):
    flow = TreeFactory(
        name="Patch RDS hosts", account=account, author=owner, tree_type=TreeType.MAINTENANCE
    )
    return services.batch_launch(tree=flow, user=engineer, targets=["RDS-01", "RDS-02"])


# --- null fields and the blank outcome ----------------------------------------------------


def test_flow_without_account_author_or_category_conforms(engineer, default_flow, conforms):
    api = api_as(engineer)
    listed = api.get("/api/flows/")
    row = next(r for r in listed.json()["results"] if r["id"] == str(default_flow.pk))
    assert (row["account"], row["author"], row["category_slug"]) == (None, None, None)
    conforms(listed, "GET /api/flows/")
    detail = api.get(f"/api/flows/{default_flow.pk}/")
    assert detail.json()["account"] is None and detail.json()["category_slug"] is None
    conforms(detail, "GET /api/flows/{id}/")


def test_library_entry_without_account_or_creator_conforms(engineer, conforms):
    entry = LibraryStepFactory(account=None, created_by=None, visibility="public")
    api = api_as(engineer)
    listed = api.get("/api/steps/")
    assert [(r["account"], r["created_by"]) for r in listed.json()["results"]] == [(None, None)]
    conforms(listed, "GET /api/steps/")
    conforms(api.get(f"/api/steps/{entry.pk}/"), "GET /api/steps/{id}/")


def test_running_session_has_blank_outcome_and_no_batch_and_conforms(engineer, session, conforms):
    api = api_as(engineer)
    detail = api.get(f"/api/sessions/{session.pk}/")
    assert (detail.json()["outcome"], detail.json()["batch_id"]) == ("", None)
    conforms(detail, "GET /api/sessions/{id}/")
    conforms(api.get("/api/sessions/"), "GET /api/sessions/")


def test_pending_batch_target_has_no_user_and_conforms(engineer, batch, conforms):
    api = api_as(engineer)
    target = batch.sessions.order_by("target_label").first()
    detail = api.get(f"/api/sessions/{target.pk}/")
    assert (detail.json()["user"], detail.json()["batch_id"]) == (None, str(batch.pk))
    conforms(detail, "GET /api/sessions/{id}/")
    shown = api.get(f"/api/batches/{batch.pk}/")
    assert [t["user"] for t in shown.json()["targets"]] == [None, None]
    conforms(shown, "GET /api/batches/{id}/")
    conforms(api.get("/api/batches/"), "GET /api/batches/")


def test_session_whose_flow_and_runner_are_gone_conforms(owner, engineer, session, conforms):
    session.tree.delete()
    engineer.delete()
    detail = api_as(owner).get(f"/api/sessions/{session.pk}/")
    assert (detail.json()["tree"], detail.json()["user"]) == (None, None)
    conforms(detail, "GET /api/sessions/{id}/")


def test_completed_session_and_its_outcome_conform(engineer, session, conforms):
    response = api_as(engineer).post(
        f"/api/sessions/{session.pk}/complete/", {"outcome": "resolved"}
    )
    assert response.json()["outcome"] == "resolved"
    conforms(response, "POST /api/sessions/{id}/complete/")


def test_partial_update_answers_every_field(engineer, own_flow, conforms):
    """PATCH used to leave out `category` and `category_slug` of a flow without a category."""
    response = api_as(engineer).patch(f"/api/flows/{own_flow.pk}/", {"description": "New."})
    assert response.status_code == 200
    assert (response.json()["category"], response.json()["category_slug"]) == ("", None)
    conforms(response, "PATCH /api/flows/{id}/")


def test_partial_update_of_a_target_list_whose_creator_is_gone(owner, engineer, conforms):
    target_list = TargetList.objects.create(
        account=owner.account, created_by=engineer, name="Hosts", targets=[{"label": "H1"}]
    )
    engineer.delete()
    response = api_as(owner).patch(f"/api/target-lists/{target_list.pk}/", {"name": "RDS"})
    assert response.status_code == 200 and response.json()["created_by"] is None
    conforms(response, "PATCH /api/target-lists/{id}/")


# --- exports ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_session_export_answers_a_documented_content_type(engineer, session, conforms, fmt):
    response = api_as(engineer).get(f"/api/sessions/{session.pk}/export/", {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Type"] == f"{FORMATS[fmt][0]}; charset=utf-8"
    conforms(response, "GET /api/sessions/{id}/export/")


def test_flow_export_is_json_and_conforms(engineer, own_flow, conforms):
    response = api_as(engineer).get(f"/api/flows/{own_flow.pk}/export/")
    assert response["Content-Type"] == "application/json"
    conforms(response, "GET /api/flows/{id}/export/")


# --- error bodies -------------------------------------------------------------------------


def test_a_throttled_answer_conforms(engineer, conforms, settings):
    rates = {"anon": "1000/min", "user": "1/min", "token_failures": "1000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = api_as(engineer)
    assert client.get("/api/flows/").status_code == 200
    response = client.get("/api/flows/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    conforms(response, "GET /api/flows/")


def test_field_errors_conform(engineer, conforms):
    response = api_as(engineer).post("/api/flows/", {"name": ""})
    assert response.status_code == 400 and "tree_type" in response.json()
    conforms(response, "POST /api/flows/")


def test_structure_errors_name_the_node_and_conform(engineer, conforms):
    body = {
        "name": "Broken",
        "tree_type": TreeType.TROUBLESHOOTING,
        "tree_structure": [],
    }
    response = api_as(engineer).post("/api/flows/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_structure" and response.json()["errors"]
    conforms(response, "POST /api/flows/")


def test_publish_refusal_conforms(engineer, account, owner, conforms):
    draft = TreeFactory(
        account=account,
        author=owner,
        status=TreeStatus.DRAFT,
        tree_structure={"id": "root", "type": "decision", "question": "Up?", "options": []},
    )
    response = api_as(engineer).post(f"/api/flows/{draft.pk}/publish/")
    assert response.status_code == 400 and response.json()["code"] == "publish_refused"
    conforms(response, "POST /api/flows/{id}/publish/")


def test_unstorable_text_refusal_conforms(engineer, conforms):
    body = json.dumps({"name": "Bad\x00name", "tree_type": "troubleshooting"})
    response = api_as(engineer).post("/api/flows/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"]
    conforms(response, "POST /api/flows/")


def test_anonymous_401_conforms(api, own_flow, conforms):
    response = api.get(f"/api/flows/{own_flow.pk}/")
    assert response.status_code == 401
    conforms(response, "GET /api/flows/{id}/")


def test_viewer_403_keeps_its_reason_and_conforms(viewer, conforms):
    response = api_as(viewer).post("/api/flows/", {"name": "x", "tree_type": "troubleshooting"})
    assert response.status_code == 403 and response.json()["detail"]
    conforms(response, "POST /api/flows/")


def test_other_accounts_flow_404_conforms(outsider, own_flow, conforms):
    response = api_as(outsider).get(f"/api/flows/{own_flow.pk}/")
    assert response.status_code == 404
    conforms(response, "GET /api/flows/{id}/")


def test_page_past_the_end_404_conforms(engineer, conforms):
    response = api_as(engineer).get("/api/flows/", {"page": 99})
    assert response.status_code == 404
    conforms(response, "GET /api/flows/")


def test_stale_revision_409_carries_the_revision_and_conforms(engineer, own_flow, conforms):
    api = api_as(engineer)
    revision = api.get(f"/api/flows/{own_flow.pk}/").json()["revision"]
    structure = own_flow.tree_structure
    flow_services.tree_update(
        tree=own_flow, user=engineer, revision=revision, tree_structure=structure
    )
    own_flow.refresh_from_db()
    body = {"tree_structure": structure, "revision": revision}
    response = api.patch(f"/api/flows/{own_flow.pk}/", body)
    assert response.status_code == 409
    assert response.json()["code"] == "stale_revision"
    assert response.json()["revision"] == own_flow.revision
    conforms(response, "PATCH /api/flows/{id}/")


def test_closed_session_409_conforms(engineer, session, conforms):
    services.session_complete(session=session, user=engineer, outcome="resolved")
    response = api_as(engineer).post(f"/api/sessions/{session.pk}/back/")
    assert response.status_code == 409 and response.json()["code"] == "session_closed"
    conforms(response, "POST /api/sessions/{id}/back/")


def test_form_body_is_refused_with_415_and_conforms(engineer, conforms):
    body = {"name": "Form flow", "tree_type": "troubleshooting"}
    response = api_as(engineer).post("/api/flows/", body, format="multipart")
    assert response.status_code == 415
    conforms(response, "POST /api/flows/")


def test_import_takes_a_multipart_file(engineer, own_flow, conforms):
    api = api_as(engineer)
    document = api.get(f"/api/flows/{own_flow.pk}/export/").content
    upload = SimpleUploadedFile("flow.json", document, content_type="application/json")
    response = api.post("/api/flows/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201 and response.json()["status"] == TreeStatus.DRAFT
    conforms(response, "POST /api/flows/import/")


def test_the_check_is_not_hollow(engineer, session, openapi):
    """The same response fails against the schema as it was: outcome "" outside its enum."""
    broken = json.loads(json.dumps(openapi.raw_schema))
    outcome = broken["components"]["schemas"]["FlowSessionDetail"]["properties"]["outcome"]
    outcome["oneOf"] = [{"$ref": "#/components/schemas/OutcomeEnum"}]
    operation = schemathesis.openapi.from_dict(broken)["/api/sessions/{id}/"]["GET"]
    case = operation.Case(path_parameters={"id": str(session.pk)})
    response = as_schemathesis(api_as(engineer).get(f"/api/sessions/{session.pk}/"))
    with pytest.raises(FailureGroup, match="1 distinct failure"):
        case.validate_response(response, checks=CONFORMANCE)
