"""The schema itself: valid OpenAPI 3, generated without warnings, errors documented on every
operation, and only the body encodings the API reads."""

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ERROR_REF = {"$ref": "#/components/schemas/Error"}
METHODS = {"get", "post", "put", "patch", "delete"}
# Where a service refuses with 409: a stale revision, a completed/not started/taken session.
CONFLICTS = {
    ("put", "/api/flows/{id}/"),
    ("patch", "/api/flows/{id}/"),
    ("post", "/api/flows/{id}/publish/"),
    ("post", "/api/flows/{id}/restore/"),
    ("post", "/api/flows/{id}/pull-parent/"),
    ("patch", "/api/members/{id}/"),
    ("post", "/api/members/{id}/deactivate/"),
    ("post", "/api/members/invite/"),
    ("post", "/api/members/invitations/{id}/resend/"),
    ("post", "/api/members/invitations/{id}/revoke/"),
    ("post", "/api/sessions/{id}/answer/"),
    ("post", "/api/sessions/{id}/back/"),
    ("post", "/api/sessions/{id}/complete/"),
    ("post", "/api/sessions/{id}/custom-steps/"),
    ("delete", "/api/sessions/{id}/custom-steps/{custom_id}/"),
    ("post", "/api/sessions/{id}/feedback/{node_id}/"),
    ("post", "/api/sessions/{id}/start/"),
    ("post", "/api/sessions/{id}/steps/{step_id}/"),
    # Issue 13: the target's or the batch's state forbids the action.
    ("post", "/api/sessions/{id}/mark/"),
    ("post", "/api/sessions/{id}/retry/"),
    ("post", "/api/sessions/{id}/handover/"),
    ("post", "/api/sessions/{id}/takeover/"),
    ("post", "/api/batches/{id}/pause/"),
    ("post", "/api/batches/{id}/resume/"),
    ("post", "/api/batches/{id}/cancel/"),
    ("post", "/api/batches/{id}/retry-failed/"),
    ("post", "/api/batches/{id}/relaunch-failed/"),
}


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_schema_is_valid_openapi_3_without_generator_warnings(tmp_path: Path):
    """drf-spectacular validates against the OpenAPI 3.0 JSON schema and fails on any warning
    (an unresolvable field or serializer would fall back to a free-form guess)."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    document = yaml.safe_load(out.read_text())
    assert document["openapi"].startswith("3.0")
    # + GET /api/flows/{id}/analytics/, + issue 13's batch/session actions and the report,
    # + versions, version, diff, restore, compare, pull-parent; + invitations list/resend/revoke
    assert len(operations(document)) == 70


def test_every_operation_documents_the_error_body(schema_document):
    for method, path, operation in operations(schema_document):
        responses = operation["responses"]
        expected = {"400", "401", "403", "404", "429"}
        if (method, path) in CONFLICTS:
            expected.add("409")
        if "requestBody" in operation:
            expected.add("415")
        errors = {code for code in responses if code >= "400"}
        assert errors == expected, f"{method.upper()} {path}"
        for code in errors:
            assert responses[code]["content"] == {"application/json": {"schema": ERROR_REF}}


def test_bodies_are_json_and_only_the_import_takes_a_file(schema_document):
    for method, path, operation in operations(schema_document):
        if "requestBody" not in operation:
            continue
        media_types = set(operation["requestBody"]["content"])
        if path == "/api/flows/import/":
            assert media_types == {"application/json", "multipart/form-data"}
        else:
            assert media_types == {"application/json"}, f"{method.upper()} {path}"


@pytest.mark.parametrize(
    "component, field",
    [
        ("TreeList", "account"),
        ("Tree", "category_slug"),
        ("LibraryStep", "account"),
        ("FlowSession", "user"),
        ("FlowSessionDetail", "batch_id"),
    ],
)
def test_fields_returned_as_null_are_nullable(schema_document, component, field):
    assert schema_document["components"]["schemas"][component]["properties"][field]["nullable"]


def test_session_export_documents_each_format(schema_document):
    answer = schema_document["paths"]["/api/sessions/{id}/export/"]["get"]["responses"]["200"]
    assert set(answer["content"]) == {"text/plain", "text/markdown", "text/html"}
