"""The editor's forms never drop what the author typed: a label, a command or an intake
question's options is either saved or refused with a message next to it (issue 9: nothing
lost). Each write is checked by re-reading the database."""

import html
import re

import pytest
from django.urls import reverse

from flows import editor, structure
from flows.models import Tree, TreeStatus
from tests.factories import TreeFactory, troubleshooting_structure

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def tree_draft(account, owner):
    return TreeFactory(name="VPN draft", account=account, author=owner, status=TreeStatus.DRAFT)


def _post(client, name: str, tree: Tree, *args, data: dict):
    data = {"revision": Tree.objects.get(pk=tree.pk).revision, **data}
    response = client.post(reverse(f"flows:{name}", args=[tree.pk, *args]), data, **HTMX)
    return response, html.unescape(response.content.decode())


def _saved(tree: Tree) -> Tree:
    return Tree.objects.get(pk=tree.pk)


def _root(tree: Tree) -> dict:
    return _saved(tree).editing_structure


def _errors_of(body: str, field_id: str) -> str:
    """The error block rendered next to one field."""
    match = re.search(rf'id="{field_id}-errors">(.*?)</div>\s*</div>', body, re.S)
    assert match, f"no errors next to {field_id}"
    return match.group(1)


def _selected(body: str, select_id: str) -> list[str]:
    select = body.split(f'id="{select_id}"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)" selected>', select)


# --- "Add a node": Reached by / New option's label ------------------------------------------


def test_a_label_typed_while_reached_by_says_nothing_yet_adds_that_option(
    client, engineer, tree_draft
):
    client.force_login(engineer)
    response, body = _post(
        client,
        "editor_node_add",
        tree_draft,
        "root",
        data={"node_type": "solution", "text": "Escalate", "link": "", "option_label": "Unsure"},
    )
    assert response.status_code == 200, body[:500]
    assert "Added the solution “Escalate”." in body
    root = _root(tree_draft)
    new_id = root["children"][-1]["id"]
    assert root["children"][-1]["title"] == "Escalate"
    assert root["options"][-1] == {"label": "Unsure", "next_node_id": new_id}
    assert len(root["options"]) == 3


def test_without_a_label_nothing_yet_still_adds_an_unlinked_child(client, engineer, tree_draft):
    client.force_login(engineer)
    response, _ = _post(
        client,
        "editor_node_add",
        tree_draft,
        "root",
        data={"node_type": "action", "text": "Check the logs", "link": "", "option_label": " "},
    )
    assert response.status_code == 200
    root = _root(tree_draft)
    assert [o["label"] for o in root["options"]] == ["Yes", "No"]
    assert root["children"][-1]["title"] == "Check the logs"


def test_a_label_beside_an_existing_option_is_an_error_next_to_the_label(
    client, engineer, tree_draft
):
    client.force_login(engineer)
    response, body = _post(
        client,
        "editor_node_add",
        tree_draft,
        "root",
        data={"node_type": "solution", "text": "Escalate", "link": "1", "option_label": "Unsure"},
    )
    assert response.status_code == 422
    errors = _errors_of(body, "failed-option_label")
    assert "“Reached by” is the option “No”: clear this label" in errors
    # What was typed is shown again, and nothing was written.
    assert 'value="Unsure"' in body and 'value="Escalate"' in body
    assert _selected(body, "failed-link") == ["1"]
    saved = _saved(tree_draft)
    assert saved.revision == 0
    assert saved.editing_structure == troubleshooting_structure()


def test_the_service_refuses_an_option_index_and_a_label_together(engineer, tree_draft):
    with pytest.raises(structure.StructureInvalid) as refused:
        editor.tree_node_add(
            tree=tree_draft,
            user=engineer,
            revision=None,
            parent_id="root",
            node_type="solution",
            text="Escalate",
            option_index=0,
            option_label="Unsure",
        )
    assert [e.field for e in refused.value.errors] == ["label"]
    assert _saved(tree_draft).editing_structure == troubleshooting_structure()


def test_reached_by_starts_at_the_option_that_leads_nowhere(client, engineer, tree_draft):
    client.force_login(engineer)
    edit = reverse("flows:edit", args=[tree_draft.pk])
    body = html.unescape(client.get(edit, {"open": "root"}).content.decode())
    add_form = body.split('class="card card-body bg-body-tertiary mt-3 add-node-form"')[1]
    link_id = re.search(r'id="([^"]+-add-link)"', add_form).group(1)
    assert _selected(add_form, link_id) == [""]  # every option leads somewhere
    assert "Typing a label adds an option that leads to the new node." in add_form

    _post(client, "editor_option", tree_draft, "root", 1, data={"label": "No"})
    assert _root(tree_draft)["options"][1] == {"label": "No", "next_node_id": ""}
    body = html.unescape(client.get(edit, {"open": "root"}).content.decode())
    add_form = body.split('class="card card-body bg-body-tertiary mt-3 add-node-form"')[1]
    assert _selected(add_form, link_id) == ["1"]


# --- repair: attach from an action ----------------------------------------------------------


def test_attaching_from_an_action_with_a_label_says_the_label_has_nowhere_to_go(
    client, engineer, tree_draft
):
    editor.tree_option_remove(
        tree=tree_draft, user=engineer, revision=None, node_id="root", index=1
    )  # "Tunnel restored" is now reached by nothing
    before = _saved(tree_draft)
    client.force_login(engineer)
    response, body = _post(
        client,
        "editor_node_attach",
        tree_draft,
        "fixed",
        data={"from_id": "restart", "label": "Worked"},
    )
    assert response.status_code == 422
    errors = _errors_of(body, "failed-label")
    assert "“Restart the VPN service” is an action: it has no answers to label." in errors
    after = _saved(tree_draft)
    assert after.revision == before.revision
    assert after.editing_structure == before.editing_structure


# --- commands: a label without code ---------------------------------------------------------


def test_a_command_label_without_code_is_refused_and_shown_again(client, engineer, tree_draft):
    client.force_login(engineer)
    response, body = _post(
        client,
        "editor_node",
        tree_draft,
        "restart",
        data={
            "title": "Restart the VPN service",
            "command_label": ["Reset", "Check status"],
            "command_language": ["shell", "powershell"],
            "command_code": ["diag vpn tunnel reset", ""],
        },
    )
    assert response.status_code == 422
    assert "Command 2 (“Check status”) has no code: add it, or clear the label too" in body
    assert 'value="Check status"' in body  # the typed label is still in its row
    assert _saved(tree_draft).revision == 0

    # Clearing both removes the command, as the hint says.
    response, body = _post(
        client,
        "editor_node",
        tree_draft,
        "restart",
        data={
            "title": "Restart the VPN service",
            "command_label": ["", ""],
            "command_language": ["shell", "shell"],
            "command_code": ["", ""],
        },
    )
    assert response.status_code == 200
    assert "Clear a command’s label and code to remove it." in body
    restart = structure.node_index("troubleshooting", _root(tree_draft))["restart"]
    assert "commands" not in restart


# --- intake: options of a question that is not a choice ------------------------------------


def test_options_typed_for_a_text_question_are_refused_next_to_the_options(
    client, engineer, tree_draft
):
    client.force_login(engineer)
    data = {"name": "site", "label": "Site", "field_type": "text", "options": "London\nParis"}
    response, body = _post(client, "editor_intake_add", tree_draft, data=data)
    assert response.status_code == 422
    errors = _errors_of(body, "q-new-options")
    assert "Only a “Choice” question has options: choose that type, or clear them." in errors
    assert _saved(tree_draft).editing_intake_form in ([], None)

    response, _ = _post(
        client, "editor_intake_add", tree_draft, data={**data, "field_type": "select"}
    )
    assert response.status_code == 200
    assert _saved(tree_draft).editing_intake_form == [
        {
            "name": "site",
            "label": "Site",
            "type": "select",
            "required": False,
            "options": ["London", "Paris"],
        }
    ]
