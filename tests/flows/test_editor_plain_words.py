"""Issue 16: editors in plain words. A new flow starts valid-looking, messages name nodes by
their heading and say what to do, ids are short and hidden, selects list each choice once."""

import html
import re

from django.urls import reverse

from flows import editor, services, structure
from flows.models import Tree, TreeType

HTMX = {"HTTP_HX_REQUEST": "true"}


def _edit(client, tree: Tree, **params) -> str:
    return html.unescape(client.get(reverse("flows:edit", args=[tree.pk]), params).content.decode())


def _post(client, name: str, tree: Tree, *args, data: dict | None = None):
    data = {"revision": Tree.objects.get(pk=tree.pk).revision, **(data or {})}
    return client.post(reverse(f"flows:{name}", args=[tree.pk, *args]), data, **HTMX)


def test_a_new_troubleshooting_flow_opens_on_an_empty_first_question_without_errors(
    client, engineer
):
    tree = services.tree_create(user=engineer, name="VDA down", tree_type=TreeType.TROUBLESHOOTING)
    client.force_login(engineer)
    body = _edit(client, tree)
    assert "Your first question (not written yet)" in body
    assert "to fix before publishing" not in body and "node-error" not in body
    assert "Publishing checks that every question has answers" in body
    # The first question's form is open, with a hint of what to write.
    assert 'id="n0-edit"' in body and "collapse show" in body
    assert "What the engineer is asked, e.g. “Is the VDA registered?”" in body
    # The id is not shown as the node's name.
    assert '<span class="node-id"> · id <code>root</code></span>' in body
    assert re.search(r'id="n0-heading">\s*root\s*<', body) is None


def test_publishing_lists_what_is_missing_in_plain_words_and_keeps_listing_it(client, engineer):
    tree = services.tree_create(user=engineer, name="VDA down", tree_type=TreeType.TROUBLESHOOTING)
    client.force_login(engineer)
    _post(client, "editor_node", tree, "root", data={"question": "Is the VDA registered?"})
    _post(
        client,
        "editor_option_add",
        tree,
        "root",
        data={"label": "No", "next_node_id": ""},
    )
    response = _post(client, "editor_publish", tree)
    assert response.status_code == 422
    body = html.unescape(response.content.decode())
    assert "'Is the VDA registered?' → answer 'No' leads nowhere: pick the next step." in body
    assert "The flow has no solution yet: add at least one solution" in body
    assert "next_node_id" not in body.split('id="editor-problems"')[1].split("</section>")[0]
    # The next change still shows what is missing (the author asked to publish once).
    response = _post(client, "editor_option", tree, "root", 0, data={"label": "Nope"})
    body = html.unescape(response.content.decode())
    assert "'Is the VDA registered?' → answer 'Nope' leads nowhere" in body


def test_new_nodes_get_short_stable_ids_that_survive_a_rename(engineer):
    tree = services.tree_create(user=engineer, name="VDA down", tree_type=TreeType.TROUBLESHOOTING)
    added = editor.tree_node_add(
        tree=tree,
        user=engineer,
        revision=None,
        parent_id="root",
        node_type="action",
        text="Restart the print spooler on the print server",
        option_label="No",
    )
    assert added.node_id == "a1"
    editor.tree_node_update(
        tree=tree, user=engineer, revision=None, node_id="a1", changes={"title": "Restart it"}
    )
    data = Tree.objects.get(pk=tree.pk).editing_structure
    assert structure.node_index("troubleshooting", data)["a1"]["title"] == "Restart it"


def test_link_targets_are_named_by_heading_with_the_id_only_to_tell_twins_apart(client, engineer):
    tree = services.tree_create(user=engineer, name="VDA", tree_type=TreeType.TROUBLESHOOTING)
    for _ in range(2):
        editor.tree_node_add(
            tree=tree,
            user=engineer,
            revision=None,
            parent_id="root",
            node_type="solution",
            text="Fixed",
        )
    editor.tree_node_add(
        tree=tree, user=engineer, revision=None, parent_id="root", node_type="action", text="Reboot"
    )
    client.force_login(engineer)
    body = _edit(client, tree, open="a1")
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', body)
    assert ("s1", "Fixed · s1") in options and ("s2", "Fixed · s2") in options
    assert ("a1", "Reboot") in options


def test_the_kind_of_step_select_lists_action_once(client, engineer):
    tree = services.tree_create(user=engineer, name="Patch", tree_type=TreeType.PROCEDURAL)
    step = editor.tree_step_add(
        tree=tree, user=engineer, revision=None, step_type="procedure_step", title="Patch"
    )
    client.force_login(engineer)
    body = _edit(client, tree, open=step.node_id)
    select = body.split('name="content_type"')[1].split("</select>")[0]
    labels = re.findall(r">([^<]+)</option>", select)
    assert labels == ["Action", "Informational", "Verification", "Warning"]
    # Posting "action" by name is the default, stored as absent.
    _post(
        client,
        "editor_node",
        tree,
        step.node_id,
        data={"title": "Patch", "content_type": "action"},
    )
    node = structure.node_index("procedural", Tree.objects.get(pk=tree.pk).editing_structure)
    assert "content_type" not in node[step.node_id]


def test_the_editor_uses_the_app_page_width(client, engineer):
    tree = services.tree_create(user=engineer, name="Patch", tree_type=TreeType.PROCEDURAL)
    client.force_login(engineer)
    body = _edit(client, tree)
    assert '<main id="main" class="container-xl py-4">' in body


# --- repair in the visual editor -----------------------------------------------------------


def _orphaned(engineer) -> Tree:
    """A flow whose solution 'Escalate' no answer leads to (its option was removed)."""
    tree = services.tree_create(user=engineer, name="VDA", tree_type=TreeType.TROUBLESHOOTING)
    editor.tree_node_update(
        tree=tree,
        user=engineer,
        revision=None,
        node_id="root",
        changes={"question": "Is the VDA registered?"},
    )
    for label, text in (("Yes", "Done"), ("No", "Escalate")):
        editor.tree_node_add(
            tree=tree,
            user=engineer,
            revision=None,
            parent_id="root",
            node_type="solution",
            text=text,
            option_label=label,
        )
    editor.tree_option_remove(tree=tree, user=engineer, revision=None, node_id="root", index=1)
    return tree


def test_unreachable_nodes_are_listed_with_attach_and_delete(client, engineer):
    tree = _orphaned(engineer)
    assert structure.unreachable_ids("troubleshooting", tree.editing_structure) == []
    tree = Tree.objects.get(pk=tree.pk)
    assert structure.unreachable_ids("troubleshooting", tree.editing_structure) == ["s2"]
    client.force_login(engineer)
    body = _edit(client, tree)
    panel = body.split('id="editor-repair"')[1].split("</section>")[0]
    assert "1 node not connected" in panel and "Escalate" in panel and "Done" not in panel
    assert "Attach “Escalate”" in panel and "Delete “Escalate”" in panel
    sources = re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', panel)
    assert sources == [("root", "Decision: Is the VDA registered?")]


def test_attach_from_a_question_adds_an_answer_that_leads_there(client, engineer):
    tree = _orphaned(engineer)
    client.force_login(engineer)
    response = _post(client, "editor_node_attach", tree, "s2", data={"from_id": "root"})
    assert response.status_code == 422
    assert "Name the new answer" in html.unescape(response.content.decode())
    response = _post(
        client, "editor_node_attach", tree, "s2", data={"from_id": "root", "label": "No"}
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200 and 'id="editor-repair"' not in body
    root = Tree.objects.get(pk=tree.pk).editing_structure
    assert root["options"][-1] == {"label": "No", "next_node_id": "s2"}


def test_delete_from_the_repair_panel_removes_the_node(client, engineer, outsider):
    tree = _orphaned(engineer)
    client.force_login(outsider)
    assert (
        _post(client, "editor_node_attach", tree, "s2", data={"from_id": "root"}).status_code == 404
    )
    client.force_login(engineer)
    _post(client, "editor_node_remove", tree, "s2")
    data = Tree.objects.get(pk=tree.pk).editing_structure
    assert [c["id"] for c in data["children"]] == ["s1"]


def test_attach_from_an_action_sets_its_next_step(engineer):
    tree = _orphaned(engineer)
    editor.tree_node_add(
        tree=tree,
        user=engineer,
        revision=None,
        parent_id="root",
        node_type="action",
        text="Re-register",
        option_label="Maybe",
    )
    edited = editor.tree_node_attach(
        tree=tree, user=engineer, revision=None, node_id="s2", from_id="a1"
    )
    assert "“Escalate” is now reached from “Re-register”" in edited.message
    index = structure.node_index("troubleshooting", Tree.objects.get(pk=tree.pk).editing_structure)
    assert index["a1"]["next_node_id"] == "s2"


def test_a_troubleshooting_flow_has_the_visual_intake_editor(client, engineer):
    tree = services.tree_create(user=engineer, name="VDA", tree_type=TreeType.TROUBLESHOOTING)
    client.force_login(engineer)
    body = _edit(client, tree)
    assert 'id="intake-title">Intake form' in body and "fills <span" in body
    response = _post(
        client,
        "editor_intake_add",
        tree,
        data={"name": "vda", "label": "Which VDA?", "field_type": "text", "required": "on"},
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200 and "Which VDA?" in body and "[VAR:vda]" in body
    assert Tree.objects.get(pk=tree.pk).editing_intake_form == [
        {"name": "vda", "label": "Which VDA?", "type": "text", "required": True}
    ]
    response = _post(client, "editor_intake_add", tree, data={"name": "bad name"})
    assert response.status_code == 422
    assert "Use letters, digits" in html.unescape(response.content.decode())


def test_the_repair_panel_renders_in_bounded_queries(
    client, engineer, django_assert_max_num_queries
):
    tree = _orphaned(engineer)
    client.force_login(engineer)
    with django_assert_max_num_queries(14):
        response = _post(
            client, "editor_node_attach", tree, "s2", data={"from_id": "root", "label": "No"}
        )
    assert response.status_code == 200
