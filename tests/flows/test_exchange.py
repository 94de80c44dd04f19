"""Export and import of flows as versioned JSON documents: service, API, pages, bad files."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from flows import editor, selectors, services, structure
from flows.models import Tree, TreeStatus, TreeType
from tests.conftest import api_as
from tests.factories import CategoryFactory, TagFactory, TreeFactory, procedural_structure

IMPORT = "/api/flows/import/"


@pytest.fixture
def rich_flow(account, owner):
    return TreeFactory(
        name="Onboard a Microsoft 365 user",
        description="Day-one setup.\nLicences, mailbox, MFA.",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        category=CategoryFactory(name="Microsoft 365"),
        tags=[TagFactory(name="m365"), TagFactory(name="onboarding")],
        intake_form=[
            {"name": "upn", "label": "UPN", "type": "text", "required": True},
            {"name": "plan", "label": "Plan", "type": "select", "options": ["E3", "E5"]},
        ],
    )


def comparable(tree: Tree) -> dict:
    """The fields a round trip must keep."""
    return {
        "name": tree.name,
        "description": tree.description,
        "tree_type": tree.tree_type,
        "category": tree.category.name if tree.category else "",
        "tags": sorted(t.name for t in tree.tags.all()),
        "tree_structure": tree.tree_structure,
        "intake_form": tree.intake_form,
    }


def upload(content: bytes, name: str = "flow.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


def test_export_document_is_versioned_and_complete(rich_flow):
    document = selectors.tree_export(rich_flow)
    assert document["format"] == "resolutionflow.flow" and document["version"] == 1
    assert document["exported_at"]
    assert {key: document[key] for key in comparable(rich_flow)} | {
        "tags": sorted(document["tags"])
    } == comparable(rich_flow)
    json.dumps(document)  # plain JSON, nothing Django-specific


def test_round_trip_through_the_services_gives_an_equal_flow(engineer, rich_flow):
    document = json.loads(json.dumps(selectors.tree_export(rich_flow)))
    copy = services.tree_import(user=engineer, document=document)
    assert copy.pk != rich_flow.pk
    assert comparable(copy) == comparable(rich_flow)
    assert copy.status == TreeStatus.DRAFT and copy.account == engineer.account
    assert copy.author == engineer and not copy.is_public and not copy.is_fork


def test_round_trip_through_the_api(engineer, rich_flow):
    api = api_as(engineer)
    exported = api.get(f"/api/flows/{rich_flow.pk}/export/")
    assert exported.status_code == 200
    created = api.post(IMPORT, exported.json(), format="json")
    assert created.status_code == 201, created.json()
    assert comparable(Tree.objects.get(pk=created.json()["id"])) == comparable(rich_flow)


def test_round_trip_through_the_pages(client, engineer, rich_flow):
    client.force_login(engineer)
    exported = client.get(reverse("flows:export", args=[rich_flow.pk]))
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("application/json")
    disposition = exported["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "onboard-a-microsoft-365-user.resolutionflow.json" in disposition
    response = client.post(reverse("flows:import"), {"file": upload(exported.content)})
    copy = Tree.objects.exclude(pk=rich_flow.pk).get(name=rich_flow.name)
    assert response.status_code == 302
    assert response["Location"] == reverse("flows:edit", args=[copy.pk])
    assert comparable(copy) == comparable(rich_flow)


def test_a_draft_that_cannot_be_published_yet_still_round_trips(engineer, account):
    draft = TreeFactory(
        account=account,
        author=engineer,
        status=TreeStatus.DRAFT,
        tree_structure={"id": "root", "type": "decision", "question": "", "options": []},
    )
    copy = services.tree_import(user=engineer, document=selectors.tree_export(draft))
    assert copy.tree_structure == draft.tree_structure
    assert copy.publish_errors()


def test_export_of_a_published_flow_leaves_unpublished_edits_out(engineer, own_flow):
    editor.tree_node_update(
        tree=own_flow, user=engineer, revision=None, node_id="fixed", changes={"title": "WIP"}
    )
    document = selectors.tree_export(Tree.objects.get(pk=own_flow.pk))
    assert document["tree_structure"]["children"][1]["title"] == "Tunnel restored"


def valid_document() -> dict:
    return {
        "format": "resolutionflow.flow",
        "version": 1,
        "name": "Imported",
        "tree_type": "procedural",
        "tree_structure": procedural_structure(),
    }


@pytest.mark.parametrize(
    "change, field",
    [
        ({"format": "something.else"}, "format"),
        ({"format": None}, "format"),
        ({"version": 2}, "version"),
        ({"version": "1"}, "version"),
        ({"version": True}, "version"),
        ({"name": ""}, "name"),
        ({"name": 12}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"tree_type": "flowchart"}, "tree_type"),
        ({"tags": "vpn"}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"category": ["a"]}, "category"),
        ({"description": 5}, "description"),
    ],
)
def test_import_refuses_bad_fields_and_creates_nothing(engineer, change, field):
    before = Tree.objects.count()
    with pytest.raises(ValidationError) as invalid:
        services.tree_import(user=engineer, document={**valid_document(), **change})
    assert field in invalid.value.message_dict
    response = api_as(engineer).post(IMPORT, {**valid_document(), **change}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert Tree.objects.count() == before


@pytest.mark.parametrize(
    "change",
    [
        {"tree_structure": [1, 2, 3]},
        {"tree_structure": {"steps": [{"id": "a", "title": "x" * 20_001}]}},
        {"intake_form": {"name": "x"}},
        {"intake_form": [{"name": "bad name", "label": "x", "type": "text"}]},
    ],
)
def test_import_refuses_unsafe_structures_with_node_errors(engineer, change):
    before = Tree.objects.count()
    with pytest.raises(structure.StructureInvalid):
        services.tree_import(user=engineer, document={**valid_document(), **change})
    response = api_as(engineer).post(IMPORT, {**valid_document(), **change}, format="json")
    assert response.status_code == 400 and response.json()["errors"]
    assert Tree.objects.count() == before


def test_import_of_something_that_is_not_an_export(engineer):
    for document in ([1, 2], "text", None, {}):
        with pytest.raises(ValidationError):
            services.tree_import(user=engineer, document=document)
    assert api_as(engineer).post(IMPORT, [1, 2], format="json").status_code == 400
    assert not Tree.objects.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", "Invalid JSON"),
        (b"\xff\xfe\x00garbage", "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        (b'{"format": "resolutionflow.flow", "name": "' + b"x" * 2_100_000 + b'"}', "larger"),
        (b"[]", "one JSON object"),
        (b'{"format": "resolutionflow.flow", "version": 9}', "version"),
    ],
    ids=["malformed", "binary", "deeply-nested", "oversized", "not-an-object", "version"],
)
def test_import_page_shows_bad_files_next_to_the_field_and_creates_nothing(
    client, engineer, content, message
):
    client.force_login(engineer)
    response = client.post(reverse("flows:import"), {"file": upload(content)})
    assert response.status_code == 422
    errors = " ".join(response.context["form"].errors["file"])
    assert message in errors
    assert not Tree.objects.exists()


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[" * 100_000 + b"]" * 100_000, b"x" * 2_100_000],
    ids=["malformed", "deeply-nested", "oversized"],
)
def test_api_import_of_bad_files_is_400(engineer, content):
    api = api_as(engineer)
    response = api.post(IMPORT, {"file": upload(content)}, format="multipart")
    assert response.status_code == 400
    assert not Tree.objects.exists()


def test_api_import_accepts_a_multipart_file(engineer):
    content = json.dumps(valid_document()).encode()
    response = api_as(engineer).post(IMPORT, {"file": upload(content)}, format="multipart")
    assert response.status_code == 201
    assert Tree.objects.get(pk=response.json()["id"]).name == "Imported"


def test_import_and_export_permissions(api, client, viewer, outsider, own_flow, own_draft):
    document = valid_document()
    assert api.post(IMPORT, document, format="json").status_code == 401
    assert api.get(f"/api/flows/{own_flow.pk}/export/").status_code == 401
    assert api_as(viewer).post(IMPORT, document, format="json").status_code == 403
    with pytest.raises(PermissionDenied):
        services.tree_import(user=viewer, document=document)
    assert api_as(outsider).get(f"/api/flows/{own_flow.pk}/export/").status_code == 404
    assert api_as(viewer).get(f"/api/flows/{own_draft.pk}/export/").status_code == 404
    assert api_as(viewer).get(f"/api/flows/{own_flow.pk}/export/").status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("flows:export", args=[own_flow.pk])).status_code == 404
    client.force_login(viewer)
    assert client.get(reverse("flows:import")).status_code == 403
    assert client.post(reverse("flows:import"), {"file": upload(b"{}")}).status_code == 403
    assert Tree.objects.count() == 2


def test_imported_draft_tells_how_many_problems_remain(client, engineer):
    client.force_login(engineer)
    document = {**valid_document(), "tree_structure": {"steps": []}}
    response = client.post(
        reverse("flows:import"), {"file": upload(json.dumps(document).encode())}, follow=True
    )
    assert "problem(s) to fix before publishing" in response.content.decode()
