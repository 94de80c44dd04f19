"""Shape rules on every save: the same field-level errors through every write path (the service,
the API's POST and PATCH, the JSON page, the import file by API and page, the admin), and
completeness left to publishing. Each case measured in issue 9 is here as a regression test."""

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from flows import services, structure
from flows.models import Tree, TreeStatus, TreeType
from flows.structure import MAX_ID_LEN, MAX_MINUTES, StructureError, validate_structure
from sessions import services as runs
from tests.conftest import api_as
from tests.factories import TreeFactory, procedural_structure, troubleshooting_structure


def _tree(change: dict[str, Any] | None = None) -> dict:
    data = troubleshooting_structure()
    for key, value in (change or {}).items():
        data[key] = value
    return data


def _options_target(value: Any) -> dict:
    data = troubleshooting_structure()
    data["options"][0]["next_node_id"] = value
    return data


def _node_id(value: Any) -> dict:
    data = troubleshooting_structure()
    data["children"][1]["id"] = value  # "fixed"; the root's "No" still points to it
    return data


def _step(**change: Any) -> dict:
    data = procedural_structure()
    data["steps"][1].update(change)  # "snapshot"
    return data


# (tree type, structure, node id, field, words of the message) — the measured cases first.
MEASURED = [
    pytest.param(
        "troubleshooting",
        _tree({"options": 1.5}),
        "root",
        "options",
        "options must be a list, not a number.",
        id="options-a-number",
    ),
    pytest.param(
        "troubleshooting",
        _options_target({}),
        "root",
        "options[0].next_node_id",
        "next_node_id must be text, not an object.",
        id="next-node-id-an-object",
    ),
    pytest.param(
        "procedural",
        _step(id=[]),
        None,
        "id",
        "The id of the node at steps[1] must be text, not a list.",
        id="step-id-a-list",
    ),
    pytest.param(
        "troubleshooting",
        _node_id("fixed/now"),
        "fixed/now",
        "id",
        "Node id 'fixed/now' may only contain letters, digits, '-', '_' and '.'",
        id="node-id-with-slash",
    ),
    pytest.param(
        "procedural",
        _step(reference_url="javascript:alert(document.cookie)"),
        "snapshot",
        "reference_url",
        "reference_url must start with http:// or https://.",
        id="javascript-reference-url",
    ),
]


def _payload_has(payload: dict, node_id: str | None, field: str, message: str) -> bool:
    return any(
        e["node_id"] == node_id and e["field"] == field and message in e["message"]
        for e in payload["errors"]
    )


def _export_document(tree_type: str, data: Any, intake_form: Any = None) -> dict:
    return {
        "format": "resolutionflow.flow",
        "version": 1,
        "name": "Imported",
        "tree_type": tree_type,
        "tree_structure": data,
        "intake_form": intake_form or [],
    }


# --- the service and the validator ----------------------------------------------------------


@pytest.mark.parametrize(("tree_type", "data", "node_id", "field", "message"), MEASURED)
def test_service_refuses_the_measured_shapes_and_stores_nothing(
    engineer, tree_type, data, node_id, field, message
):
    with pytest.raises(structure.StructureInvalid) as refused:
        services.tree_create(user=engineer, name="Bad", tree_type=tree_type, tree_structure=data)
    assert any(
        e.node_id == node_id and e.field == field and message in e.message
        for e in refused.value.errors
    ), refused.value.errors
    assert not Tree.objects.exists()


@pytest.mark.parametrize(
    ("tree_type", "data", "field", "message"),
    [
        ("troubleshooting", _node_id(".."), "id", "not dots alone"),
        ("troubleshooting", _node_id("x" * (MAX_ID_LEN + 1)), "id", "the limit is 100"),
        ("troubleshooting", _options_target("fix/it"), "options[0].next_node_id", "not a node id"),
        (
            "troubleshooting",
            _tree({"options": [{"next_node_id": "fixed"}]}),
            "options[0].label",
            "has no label",
        ),
        ("troubleshooting", _tree({"options": [{"label": 3}]}), "options[0].label", "must be text"),
        ("troubleshooting", _tree({"options": ["Yes"]}), "options[0]", "must be an object"),
        ("troubleshooting", _tree({"children": "none"}), "children", "must be a list of nodes"),
        ("troubleshooting", _tree({"children": [7]}), "children[0]", "must be a node object"),
        ("troubleshooting", _tree({"type": "question"}), "type", "Unknown node type"),
        ("troubleshooting", _tree({"type": None}), "type", "has no type"),
        ("troubleshooting", _tree({"question": ["Why?"]}), "question", "must be text, not a list"),
        ("troubleshooting", _tree({"description": 1}), "description", "must be text"),
        ("troubleshooting", _tree({"commands": 5}), "commands", "must be text or a list"),
        ("troubleshooting", _node_id("restart"), "id", "Duplicate node id"),
        ("troubleshooting", _tree({"question": "Up\x00?"}), "question", "NUL character"),
        ("troubleshooting", _tree({"bad\ud800key": 1}), "bad\\ud800key (a key)", "surrogate"),
        ("procedural", _step(estimated_minutes=MAX_MINUTES + 1), "estimated_minutes", "at most"),
        ("procedural", _step(estimated_minutes=2.5), "estimated_minutes", "whole number"),
        ("procedural", _step(content_type="note"), "content_type", "must be one of"),
        ("procedural", _step(library_visibility=True), "library_visibility", "must be one of"),
        ("procedural", _step(reference_url="data:text/html,x"), "reference_url", "http://"),
        ("procedural", _step(reference_url=" https://x.test"), "reference_url", "http://"),
        ("procedural", _step(warning_text={"a": 1}), "warning_text", "must be text"),
        ("procedural", {"steps": None}, "steps", "no steps list"),
        ("procedural", {"steps": "a, b"}, "steps", "must be a list"),
        ("maintenance", {"steps": [None]}, "steps[0]", "must be a step object"),
        (
            "maintenance",
            {"steps": [{"id": "a", "type": "procedure_step", "title": "\ud83d"}]},
            "steps[0].title",
            "surrogate",
        ),
    ],
)
def test_draft_save_refuses_each_shape_rule(tree_type, data, field, message):
    errors = validate_structure(tree_type, data, for_publish=False)
    assert any(e.field == field and message in e.message for e in errors), errors
    # Publishing reports the same shape error, with the same words.
    assert any(
        e.field == field and message in e.message for e in validate_structure(tree_type, data)
    )


def _no_question() -> dict:
    return _tree({"question": " "})


@pytest.mark.parametrize(
    ("tree_type", "data", "message"),
    [
        ("troubleshooting", _no_question(), "The first question is empty"),
        ("troubleshooting", _tree({"options": []}), "has no answers yet"),
        (
            "troubleshooting",
            _tree({"options": [{"label": "", "next_node_id": ""}]}),
            "has no label",
        ),
        ("troubleshooting", _options_target("nowhere"), "which does not exist: pick the next step"),
        ("troubleshooting", _options_target(None), "leads nowhere: pick the next step"),
        (
            "troubleshooting",
            _tree(
                {
                    "options": [
                        {"label": "a", "next_node_id": "fixed"},
                        {"label": "A", "next_node_id": "fixed"},
                    ]
                }
            ),
            "has two answers labelled",
        ),
        (
            "troubleshooting",
            _tree({"type": "solution", "title": "Done"}),
            "must be a question (a decision)",
        ),
        ("troubleshooting", _tree({"children": []}), "no solution"),
        ("procedural", {"steps": []}, "has no end step"),
        (
            "procedural",
            {
                "steps": [
                    {"id": "end", "type": "procedure_end"},
                    {"id": "a", "type": "procedure_step", "title": "A"},
                ]
            },
            "must be the last step",
        ),
        ("procedural", _step(title=""), "has no title"),
    ],
)
def test_completeness_waits_for_publish(tree_type, data, message):
    assert validate_structure(tree_type, data, for_publish=False) == []
    assert any(message in e.message for e in validate_structure(tree_type, data))


def test_messages_never_carry_text_the_database_cannot_store():
    errors = validate_structure("troubleshooting", _node_id("a\x00b/\ud800"), for_publish=False)
    assert errors
    for error in errors:
        for text in (error.node_id or "", error.field or "", error.message):
            assert "\x00" not in text and "\ud800" not in text
            text.encode("utf-8")  # a lone surrogate would raise here (and 500 in a response)


def test_intake_form_is_validated_in_full_on_every_save(engineer):
    bad = [{"name": "bad name", "label": "", "type": "colour"}]
    with pytest.raises(structure.StructureInvalid) as refused:
        services.tree_create(user=engineer, name="Q", tree_type="procedural", intake_form=bad)
    fields = {(e.field, e.message.split(";")[0]) for e in refused.value.errors}
    assert (
        "intake_form.name",
        "Field name 'bad name' may only contain letters, digits, '_' and '-' "
        "(it is used as [VAR:name]).",
    ) in fields
    assert ("intake_form.type", "Unknown field type 'colour'") in fields
    assert (
        "intake_form.label",
        "Intake question 'bad name' has no label: write what the engineer is asked.",
    ) in fields
    assert not Tree.objects.exists()


@pytest.mark.parametrize(
    "intake_form",
    [
        [{"name": "a", "label": "A", "type": "text", "help": "\x00"}],
        [{"name": "a", "label": "A", "type": "text", "extra": json.loads("[" * 150 + "]" * 150)}],
        [{"name": "a", "label": "A", "type": "text", "extra": "x" * 20_001}],
        [{"name": "a", "label": "A", "type": "select", "options": ["ok", 5]}],
    ],
    ids=["nul", "deep", "long", "option-not-text"],
)
def test_intake_form_values_are_storable_and_bounded(engineer, intake_form):
    with pytest.raises(structure.StructureInvalid) as refused:
        services.tree_create(
            user=engineer, name="Q", tree_type="procedural", intake_form=intake_form
        )
    assert all(e.field.startswith("intake_form") for e in refused.value.errors)
    assert not Tree.objects.exists()


# --- every write path gives the same errors -------------------------------------------------


@pytest.mark.parametrize(("tree_type", "data", "node_id", "field", "message"), MEASURED)
def test_api_create_answers_400_with_the_field_error(
    engineer, tree_type, data, node_id, field, message
):
    body = {"name": "Bad", "tree_type": tree_type, "tree_structure": data}
    response = api_as(engineer).post("/api/flows/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_structure"
    assert _payload_has(response.json(), node_id, field, message), response.json()
    assert not Tree.objects.exists()


@pytest.mark.parametrize(("tree_type", "data", "node_id", "field", "message"), MEASURED)
def test_api_patch_and_put_refuse_and_leave_the_flow_as_it_was(
    owner, account, tree_type, data, node_id, field, message
):
    tree = TreeFactory(account=account, author=owner, tree_type=tree_type)
    before = Tree.objects.get(pk=tree.pk)
    client = api_as(owner)
    patch = {"tree_structure": data, "revision": tree.revision}
    response = client.patch(f"/api/flows/{tree.pk}/", patch, format="json")
    assert response.status_code == 400
    assert _payload_has(response.json(), node_id, field, message)
    put = {**patch, "name": "Renamed", "tree_type": tree_type}
    response = client.put(f"/api/flows/{tree.pk}/", put, format="json")
    assert response.status_code == 400
    assert _payload_has(response.json(), node_id, field, message)
    after = Tree.objects.get(pk=tree.pk)
    assert after.tree_structure == before.tree_structure
    assert after.draft_structure is None and after.revision == before.revision
    assert after.name == before.name  # nothing half-written


@pytest.mark.parametrize(("tree_type", "data", "node_id", "field", "message"), MEASURED)
def test_json_page_shows_the_field_error_and_saves_nothing(
    client, owner, account, tree_type, data, node_id, field, message
):
    tree = TreeFactory(account=account, author=owner, tree_type=tree_type, status="draft")
    client.force_login(owner)
    response = client.post(
        reverse("flows:edit_json", args=[tree.pk]),
        {
            "name": tree.name,
            "revision": tree.revision,
            "tree_structure": json.dumps(data),
            "intake_form": "[]",
        },
    )
    assert response.status_code == 422
    shown = " ".join(response.context["form"].errors["tree_structure"])
    assert str(StructureError(node_id, field, message)).rstrip(".") in shown, shown
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Tree.objects.get(pk=tree.pk).tree_structure == tree.tree_structure

    create = client.post(
        reverse("flows:create"),
        {"name": "New", "tree_type": tree_type, "tree_structure": json.dumps(data)},
    )
    assert create.status_code in (200, 422)
    assert message in " ".join(create.context["form"].errors["tree_structure"])
    assert not Tree.objects.filter(name="New").exists()


@pytest.mark.parametrize(("tree_type", "data", "node_id", "field", "message"), MEASURED)
def test_import_by_api_and_page_refuses_with_the_field_error(
    client, engineer, tree_type, data, node_id, field, message
):
    document = _export_document(tree_type, data)
    response = api_as(engineer).post("/api/flows/import/", document, format="json")
    assert response.status_code == 400
    assert _payload_has(response.json(), node_id, field, message)

    client.force_login(engineer)
    upload = SimpleUploadedFile("bad.json", json.dumps(document).encode(), "application/json")
    page = client.post(reverse("flows:import"), {"file": upload})
    assert page.status_code == 422
    assert str(StructureError(node_id, field, message)) in " ".join(
        page.context["form"].errors["file"]
    )
    assert not Tree.objects.exists()


def test_admin_add_form_refuses_a_bad_shape(client, staff, account, owner):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.post(
        reverse("admin:flows_tree_add"),
        {
            "name": "Admin flow",
            "description": "",
            "tree_type": TreeType.TROUBLESHOOTING,
            "status": TreeStatus.DRAFT,
            "tree_structure": json.dumps(_tree({"options": 1.5})),
            "intake_form": "[]",
            "account": account.pk,
            "author": owner.pk,
            "usage_count": 0,
            "fork_depth": 0,
            "revision": 0,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "options must be a list, not a number." in response.content.decode()
    assert not Tree.objects.filter(name="Admin flow").exists()


def test_a_draft_that_is_only_incomplete_still_saves_through_the_api(engineer):
    data = _tree({"question": "", "options": [{"label": "", "next_node_id": ""}]})
    body = {"name": "Half", "tree_type": "troubleshooting", "tree_structure": data}
    response = api_as(engineer).post("/api/flows/", body, format="json")
    assert response.status_code == 201, response.json()
    assert Tree.objects.get(name="Half").tree_structure == data


def test_a_select_option_saved_with_spaces_can_be_chosen_when_starting_a_run(owner):
    # Found by the hypothesis run-to-completion property: answers are stripped, options were not.
    intake = [{"name": "site", "label": "Site", "type": "select", "options": [" Leeds ", "York"]}]
    tree = services.tree_create(
        user=owner,
        name="Sites",
        tree_type="procedural",
        tree_structure=procedural_structure(),
        intake_form=intake,
    )
    tree = services.tree_publish(tree=tree, user=owner)
    session = runs.session_start(tree=tree, user=owner, variables={"site": " Leeds "})
    assert session.variables == {"site": "Leeds"}
