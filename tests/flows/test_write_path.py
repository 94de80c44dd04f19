"""One write path for a flow's content: the visual editor, the JSON page, the API and the admin
all land in the same place (a published flow's working copy) under the same revision check, so
no writer silently overwrites another."""

import copy

import pytest
from django.urls import reverse

from flows import editor, services
from flows.models import Tree, TreeStatus
from tests.conftest import api_as


def fresh(tree: Tree) -> Tree:
    return Tree.objects.get(pk=tree.pk)


def api_structure(tree: Tree) -> dict:
    """A structure changed the way a script would change it: a new question on the root."""
    changed = copy.deepcopy(tree.tree_structure)
    changed["question"] = "Is the tunnel down on the firewall dashboard?"
    return changed


def editor_rename_restart(tree: Tree, user, revision: int) -> None:
    editor.tree_node_update(
        tree=tree,
        user=user,
        revision=revision,
        node_id="restart",
        changes={"title": "Restart the IPsec service"},
    )


# --- the API and the editor -----------------------------------------------------------------


def test_api_write_from_before_an_editor_change_is_409_and_loses_nothing(owner, own_flow):
    client = api_as(owner)
    read = client.get(f"/api/flows/{own_flow.pk}/").json()  # the script reads revision N
    editor_rename_restart(own_flow, owner, read["revision"])  # the editor saves: N+1

    body = {"tree_structure": api_structure(own_flow), "revision": read["revision"]}
    response = client.patch(f"/api/flows/{own_flow.pk}/", body, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "stale_revision"
    assert response.json()["revision"] == read["revision"] + 1
    tree = fresh(own_flow)
    # The editor's change is still in the working copy and the live flow is untouched.
    assert tree.draft_structure["children"][0]["title"] == "Restart the IPsec service"
    assert tree.tree_structure == own_flow.tree_structure


def test_api_write_on_a_published_flow_lands_in_the_working_copy_and_publish_applies_it(
    owner, own_flow
):
    client = api_as(owner)
    editor_rename_restart(own_flow, owner, own_flow.revision)
    current = client.get(f"/api/flows/{own_flow.pk}/").json()
    assert current["has_unpublished_changes"] is True
    structure = current["working_copy"]["tree_structure"]
    structure["question"] = "Is the tunnel down on the firewall dashboard?"

    body = {"tree_structure": structure, "revision": current["revision"]}
    response = client.patch(f"/api/flows/{own_flow.pk}/", body, format="json")

    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["has_unpublished_changes"] is True
    assert answer["tree_structure"] == own_flow.tree_structure  # live is unchanged
    assert answer["working_copy"]["tree_structure"]["question"].startswith("Is the tunnel")
    assert fresh(own_flow).tree_structure == own_flow.tree_structure

    assert client.post(f"/api/flows/{own_flow.pk}/publish/").status_code == 200
    live = fresh(own_flow)
    # Both writers' changes are live: nothing was lost.
    assert live.tree_structure["question"] == "Is the tunnel down on the firewall dashboard?"
    assert live.tree_structure["children"][0]["title"] == "Restart the IPsec service"
    assert live.draft_structure is None


def test_editor_page_from_before_an_api_write_is_refused(client, owner, own_flow):
    api = api_as(owner)
    body = {"tree_structure": api_structure(own_flow), "revision": own_flow.revision}
    assert api.patch(f"/api/flows/{own_flow.pk}/", body, format="json").status_code == 200

    client.force_login(owner)
    url = reverse("flows:editor_node", args=[own_flow.pk, "restart"])
    response = client.post(
        url,
        {"revision": own_flow.revision, "title": "Restart the IPsec service"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "changed in another tab or by someone else" in response.content.decode()
    tree = fresh(own_flow)
    assert tree.draft_structure["question"] == "Is the tunnel down on the firewall dashboard?"
    assert tree.draft_structure["children"][0]["title"] == "Restart the VPN service"


def test_api_content_write_without_a_revision_is_a_400_naming_the_field(owner, own_flow):
    body = {"tree_structure": api_structure(own_flow)}
    response = api_as(owner).patch(f"/api/flows/{own_flow.pk}/", body, format="json")
    assert response.status_code == 400
    assert "revision" in response.json()
    assert fresh(own_flow).draft_structure is None


def test_api_details_change_needs_no_revision_and_applies_at_once(owner, own_flow):
    body = {"name": "Acme VPN runbook (2026)"}
    response = api_as(owner).patch(f"/api/flows/{own_flow.pk}/", body, format="json")
    assert response.status_code == 200
    assert fresh(own_flow).name == "Acme VPN runbook (2026)"


def test_api_write_on_a_draft_changes_it_in_place_and_moves_the_revision(owner, own_draft):
    body = {"tree_structure": api_structure(own_draft), "revision": own_draft.revision}
    response = api_as(owner).patch(f"/api/flows/{own_draft.pk}/", body, format="json")
    assert response.status_code == 200
    tree = fresh(own_draft)
    assert tree.status == TreeStatus.DRAFT
    assert tree.tree_structure["question"].startswith("Is the tunnel")
    assert tree.revision == own_draft.revision + 1
    assert response.json()["revision"] == tree.revision


# --- the JSON page ---------------------------------------------------------------------------


def json_form_body(tree: Tree, structure: dict, revision: int) -> dict:
    import json

    return {
        "name": tree.name,
        "tree_type": tree.tree_type,
        "description": tree.description,
        "category": "",
        "tags": "",
        "tree_structure": json.dumps(structure),
        "intake_form": "[]",
        "revision": revision,
    }


def test_json_page_from_before_an_editor_change_is_refused(client, owner, own_flow):
    editor_rename_restart(own_flow, owner, own_flow.revision)
    client.force_login(owner)
    body = json_form_body(own_flow, api_structure(own_flow), own_flow.revision)
    response = client.post(reverse("flows:edit_json", args=[own_flow.pk]), body)
    assert response.status_code == 409
    assert "changed in another tab or by someone else" in response.content.decode()
    tree = fresh(own_flow)
    assert tree.draft_structure["children"][0]["title"] == "Restart the IPsec service"
    assert tree.draft_structure["question"] == own_flow.tree_structure["question"]


def test_json_page_on_a_published_flow_saves_the_working_copy(client, owner, own_flow):
    client.force_login(owner)
    body = json_form_body(own_flow, api_structure(own_flow), own_flow.revision)
    response = client.post(reverse("flows:edit_json", args=[own_flow.pk]), body)
    assert response.status_code == 302
    tree = fresh(own_flow)
    assert tree.tree_structure == own_flow.tree_structure
    assert tree.draft_structure["question"].startswith("Is the tunnel")


# --- the service itself ---------------------------------------------------------------------


def test_service_refuses_a_stale_revision_and_keeps_the_details_unsaved(owner, own_flow):
    editor_rename_restart(own_flow, owner, own_flow.revision)
    with pytest.raises(services.EditConflict) as conflict:
        services.tree_update(
            tree=own_flow,
            user=owner,
            revision=own_flow.revision,
            name="Renamed in the same request",
            tree_structure=api_structure(own_flow),
        )
    assert conflict.value.status_code == 409
    assert fresh(own_flow).name == own_flow.name  # one transaction: nothing half-written


def test_publish_folds_the_working_copy_and_the_revision_moves(owner, own_flow):
    services.tree_update(
        tree=own_flow,
        user=owner,
        revision=own_flow.revision,
        tree_structure=api_structure(own_flow),
    )
    before = fresh(own_flow).revision
    services.tree_publish(tree=own_flow, user=owner)
    tree = fresh(own_flow)
    assert tree.revision == before + 1
    assert tree.has_working_copy is False


def test_api_publish_with_a_stale_revision_is_409_and_publishes_nothing(owner, own_flow):
    client = api_as(owner)
    read_revision = own_flow.revision
    editor_rename_restart(own_flow, owner, read_revision)  # someone edits after the read
    response = client.post(
        f"/api/flows/{own_flow.pk}/publish/", {"revision": read_revision}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["revision"] == read_revision + 1
    tree = fresh(own_flow)
    assert tree.has_working_copy and tree.tree_structure == own_flow.tree_structure
