"""The editor pages: tenancy, htmx fragments, errors next to fields, stale pages, publish,
discard, details, preview, the JSON fallback and query counts."""

import html

import pytest
from django.urls import reverse

from flows import editor, structure
from flows.models import Tree, TreeStatus, TreeType
from tests.factories import TreeFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def tree_draft(account, owner):
    return TreeFactory(name="VPN draft", account=account, author=owner, status=TreeStatus.DRAFT)


@pytest.fixture
def checklist_draft(account, owner):
    return TreeFactory(
        name="Patch draft",
        account=account,
        author=owner,
        status=TreeStatus.DRAFT,
        tree_type=TreeType.PROCEDURAL,
        intake_form=[{"name": "server", "label": "Server", "type": "text", "required": True}],
    )


def url(name: str, tree: Tree, *args) -> str:
    return reverse(f"flows:{name}", args=[tree.pk, *args])


def post(client, path: str, tree: Tree, data: dict | None = None, *, htmx: bool = True):
    data = {"revision": Tree.objects.get(pk=tree.pk).revision, **(data or {})}
    return client.post(path, data, **(HTMX if htmx else {}))


def node(tree: Tree, node_id: str) -> dict:
    tree = Tree.objects.get(pk=tree.pk)
    return structure.node_index(tree.tree_type, tree.editing_structure)[node_id]


def assert_fragment(response, status: int = 200) -> str:
    body = response.content.decode()
    assert response.status_code == status, body[:2000]
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="editor-body"')
    return body


# --- access ---------------------------------------------------------------------------------


def test_editor_page_for_both_kinds(client, engineer, tree_draft, checklist_draft):
    client.force_login(engineer)
    body = client.get(url("edit", tree_draft)).content.decode()
    assert 'id="editor-body"' in body and "Decision tree" in body
    assert 'id="node-root"' in body and 'id="node-restart"' in body
    # Forms load when a node is opened, so big flows stay light.
    assert "Add a node under this decision" not in body
    assert url("editor_node_form", tree_draft, "root") in body
    body = client.get(url("edit", tree_draft), {"open": "root"}).content.decode()
    assert "Add a node under this decision" in body and 'name="question"' in body
    body = client.get(url("edit", checklist_draft)).content.decode()
    assert "Steps" in body and "Intake form" in body and "[VAR:server]" in body
    assert "Add a step or section" in body


def test_node_forms_load_on_demand_as_fragments(client, engineer, tree_draft, checklist_draft):
    client.force_login(engineer)
    response = client.get(url("editor_node_form", tree_draft, "restart"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "{#" not in body
    assert 'name="title" value="Restart the VPN service"' in body
    assert "Add what happens after this action" in body and "diag vpn tunnel reset" in body
    assert client.get(url("editor_node_form", tree_draft, "ghost"), **HTMX).status_code == 404
    response = client.get(url("editor_node_form", tree_draft, "restart"))
    assert response["Location"] == url("edit", tree_draft) + "?open=restart#node-restart"
    body = client.get(url("editor_node_form", checklist_draft, "snapshot"), **HTMX).content.decode()
    assert "More options" in body and "Library visibility" in body
    assert ">Inherit from flow</option>" in body and ">Team only</option>" in body
    assert ">Public</option>" not in body  # only staff share steps with every team


def test_an_engineer_cannot_publish_a_step_to_everyone_from_the_editor(
    client, engineer, staff, checklist_draft
):
    client.force_login(engineer)
    path = url("editor_node", checklist_draft, "snapshot")
    response = post(
        client, path, checklist_draft, {"title": "Snap", "library_visibility": "public"}
    )
    assert "library_visibility" not in node(checklist_draft, "snapshot")
    assert (
        response.status_code in (200, 400, 422)
        and "Library: Public" not in response.content.decode()
    )
    client.force_login(staff)
    body = client.get(url("editor_node_form", checklist_draft, "snapshot"), **HTMX).content.decode()
    assert ">Public</option>" in body
    post(client, path, checklist_draft, {"title": "Snap", "library_visibility": "public"})
    assert node(checklist_draft, "snapshot")["library_visibility"] == "public"


def test_library_visibility_is_offered_for_procedure_steps_only(client, engineer, checklist_draft):
    client.force_login(engineer)
    offered = {
        step["type"]: 'name="library_visibility"'
        in client.get(url("editor_node_form", checklist_draft, step["id"]), **HTMX).content.decode()
        for step in checklist_draft.tree_structure["steps"]
    }
    assert offered == {
        "section_header": False,
        "procedure_step": True,
        "procedure_end": False,
    }


def test_editor_tenancy(client, viewer, outsider, engineer, own_flow, tree_draft):
    client.force_login(outsider)
    assert client.get(url("edit", own_flow)).status_code == 404
    assert (
        post(client, url("editor_node", own_flow, "fixed"), own_flow, {"title": "x"}).status_code
        == 404
    )
    assert post(client, url("editor_publish", tree_draft), tree_draft).status_code == 404
    client.force_login(viewer)
    assert client.get(url("edit", own_flow)).status_code == 403
    assert client.get(url("edit", tree_draft)).status_code == 404  # a viewer cannot see drafts
    assert post(client, url("editor_node_remove", own_flow, "fixed"), own_flow).status_code == 403
    assert client.get(url("editor_preview", own_flow)).status_code == 403
    assert client.get(url("edit_json", own_flow)).status_code == 403
    assert node(own_flow, "fixed")["title"] == "Tunnel restored"
    client.logout()
    response = client.get(url("edit", own_flow))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_engineers_cannot_open_the_editor_of_official_content(client, engineer, public_flow):
    client.force_login(engineer)
    assert client.get(url("edit", public_flow)).status_code == 403


def test_edit_only_accepts_post_for_changes(client, engineer, tree_draft):
    client.force_login(engineer)
    assert client.get(url("editor_node", tree_draft, "root")).status_code == 405


# --- troubleshooting changes ----------------------------------------------------------------


def test_update_a_node_through_htmx(client, engineer, tree_draft):
    client.force_login(engineer)
    response = post(
        client,
        url("editor_node", tree_draft, "restart"),
        tree_draft,
        {
            "title": "Restart the VPN",
            "description": "",
            "next_node_id": "fixed",
            "command_label": ["Reset", ""],
            "command_language": ["powershell", "shell"],
            "command_code": ["Restart-Service RasMan", ""],
        },
    )
    body = assert_fragment(response)
    assert "Restart the VPN" in body
    assert 'hx-swap-oob="beforeend:#toasts"' in body and "Saved “Restart the VPN”." in body
    assert node(tree_draft, "restart") == {
        "id": "restart",
        "type": "action",
        "title": "Restart the VPN",
        "commands": [
            {"language": "powershell", "label": "Reset", "code": "Restart-Service RasMan"}
        ],
        "next_node_id": "fixed",
    }
    assert Tree.objects.get(pk=tree_draft.pk).revision == 1
    assert 'name="revision" value="1"' in body


def test_form_errors_show_next_to_the_field_and_change_nothing(client, engineer, tree_draft):
    client.force_login(engineer)
    response = post(client, url("editor_node", tree_draft, "restart"), tree_draft, {"title": ""})
    body = assert_fragment(response, 422)
    assert "This field is required." in body and "is-invalid" in body
    assert node(tree_draft, "restart")["title"] == "Restart the VPN service"


def test_a_target_that_does_not_exist_is_refused_next_to_the_field(client, engineer, tree_draft):
    client.force_login(engineer)
    response = post(
        client,
        url("editor_option", tree_draft, "root", 0),
        tree_draft,
        {"label": "Yes", "next_node_id": "ghost"},
    )
    body = assert_fragment(response, 422)
    assert "Select a valid choice" in body
    assert node(tree_draft, "root")["options"][0]["next_node_id"] == "restart"


def test_service_errors_land_next_to_the_field(client, engineer, tree_draft):
    client.force_login(engineer)
    response = post(
        client,
        url("editor_option", tree_draft, "root", 1),
        tree_draft,
        {"label": "yes", "next_node_id": "fixed"},
    )
    body = assert_fragment(response, 422)
    assert "There is already an option “yes”." in body and "is-invalid" in body


def test_a_stale_page_gets_409_with_the_latest_version(client, engineer, tree_draft):
    client.force_login(engineer)
    stale = {"revision": 0}
    editor.tree_node_update(
        tree=tree_draft, user=engineer, revision=0, node_id="fixed", changes={"title": "Tab one"}
    )
    response = client.post(url("editor_node_remove", tree_draft, "fixed"), stale, **HTMX)
    body = assert_fragment(response, 409)
    assert "changed in another tab" in body and "Tab one" in body
    assert 'name="revision" value="1"' in body
    assert node(tree_draft, "fixed")["title"] == "Tab one"


def test_a_missing_revision_counts_as_stale(client, engineer, tree_draft):
    client.force_login(engineer)
    response = client.post(url("editor_node_remove", tree_draft, "fixed"), {}, **HTMX)
    assert response.status_code == 409
    assert "fixed" in Tree.objects.get(pk=tree_draft.pk).tree_structure["children"][1]["id"]


def test_an_unknown_node_id_gets_a_clear_message(client, engineer, tree_draft):
    client.force_login(engineer)
    for path, data in [
        (url("editor_node", tree_draft, "ghost"), {"title": "x"}),
        (url("editor_node_remove", tree_draft, "ghost"), {}),
        (url("editor_node_move", tree_draft, "ghost"), {"direction": "up"}),
        (url("editor_node_add", tree_draft, "ghost"), {"node_type": "action", "text": "x"}),
        (url("editor_option_remove", tree_draft, "root", 9), {}),
    ]:
        body = assert_fragment(post(client, path, tree_draft, data), 422)
        assert "any more" in body
    assert Tree.objects.get(pk=tree_draft.pk).revision == 0


def test_add_a_node_as_a_new_options_target(client, engineer, tree_draft):
    client.force_login(engineer)
    response = post(
        client,
        url("editor_node_add", tree_draft, "root"),
        tree_draft,
        {
            "node_type": "decision",
            "text": "Peer reachable?",
            "link": "new",
            "option_label": "Unsure",
        },
    )
    body = assert_fragment(response)
    assert 'id="node-q1"' in body
    assert node(tree_draft, "root")["options"][2] == {
        "label": "Unsure",
        "next_node_id": "q1",
    }


def test_add_node_form_errors(client, engineer, tree_draft):
    client.force_login(engineer)
    response = post(
        client,
        url("editor_node_add", tree_draft, "root"),
        tree_draft,
        {"node_type": "solution", "text": "Done", "link": "new", "option_label": ""},
    )
    body = assert_fragment(response, 422)
    assert "Name the new option" in body
    response = post(
        client,
        url("editor_node_add", tree_draft, "fixed"),
        tree_draft,
        {"node_type": "solution", "text": "After a solution?"},
    )
    body = assert_fragment(response, 422)
    assert "A solution ends the flow" in body
    assert len(Tree.objects.get(pk=tree_draft.pk).tree_structure["children"]) == 2


def test_option_add_update_remove_and_delete_a_node(client, engineer, tree_draft):
    client.force_login(engineer)
    assert_fragment(
        post(
            client,
            url("editor_option_add", tree_draft, "root"),
            tree_draft,
            {"label": "Again", "next_node_id": "root"},
        )
    )
    assert_fragment(
        post(
            client,
            url("editor_option", tree_draft, "root", 2),
            tree_draft,
            {"label": "Loop", "next_node_id": "root"},
        )
    )
    assert node(tree_draft, "root")["options"][2] == {"label": "Loop", "next_node_id": "root"}
    assert_fragment(post(client, url("editor_option_remove", tree_draft, "root", 2), tree_draft))
    assert len(node(tree_draft, "root")["options"]) == 2
    body = assert_fragment(post(client, url("editor_node_remove", tree_draft, "fixed"), tree_draft))
    assert 'id="node-fixed"' not in body and "no target yet" in body
    assert "1 link that led there need a new target" in body


def test_without_javascript_changes_redirect_back_to_the_editor(client, engineer, tree_draft):
    client.force_login(engineer)
    response = post(
        client,
        url("editor_node_move", tree_draft, "fixed"),
        tree_draft,
        {"direction": "up"},
        htmx=False,
    )
    assert response.status_code == 302
    assert response["Location"] == url("edit", tree_draft) + "#node-fixed"
    response = post(client, url("editor_node", tree_draft, "fixed"), tree_draft, {}, htmx=False)
    assert response.status_code == 422 and "<html" in response.content.decode()


# --- checklist changes ----------------------------------------------------------------------


def test_add_and_edit_steps_with_every_field(client, engineer, checklist_draft):
    client.force_login(engineer)
    body = assert_fragment(
        post(
            client,
            url("editor_step_add", checklist_draft),
            checklist_draft,
            {"step_type": "section_header", "title": "Verify"},
        )
    )
    assert 'id="node-sec1"' in body
    assert_fragment(
        post(
            client,
            url("editor_step_add", checklist_draft),
            checklist_draft,
            {"step_type": "procedure_step", "title": "Check the services"},
        )
    )
    response = post(
        client,
        url("editor_node", checklist_draft, "step1"),
        checklist_draft,
        {
            "title": "Check the services",
            "description": "On [VAR:server].",
            "command_label": ["List", ""],
            "command_language": ["powershell", "shell"],
            "command_code": ["Get-Service | Where Status -ne Running", ""],
            "content_type": "verification",
            "estimated_minutes": "3",
            "expected_outcome": "All running.",
            "verification_prompt": "Anything stopped?",
            "warning_text": "",
            "reference_url": "https://learn.microsoft.com/",
            "library_visibility": "team",
        },
    )
    body = assert_fragment(response)
    assert "Library: Team only" in body
    steps = Tree.objects.get(pk=checklist_draft.pk).tree_structure["steps"]
    assert [s["id"] for s in steps] == [
        "prep",
        "snapshot",
        "patch",
        "sec1",
        "step1",
        "end",
    ]
    assert steps[4] == {
        "id": "step1",
        "type": "procedure_step",
        "title": "Check the services",
        "description": "On [VAR:server].",
        "commands": [
            {
                "language": "powershell",
                "label": "List",
                "code": "Get-Service | Where Status -ne Running",
            }
        ],
        "content_type": "verification",
        "estimated_minutes": 3,
        "expected_outcome": "All running.",
        "verification_prompt": "Anything stopped?",
        "reference_url": "https://learn.microsoft.com/",
        "library_visibility": "team",
    }
    # Inherit from flow removes the key again.
    post(
        client,
        url("editor_node", checklist_draft, "step1"),
        checklist_draft,
        {"title": "Check the services", "library_visibility": ""},
    )
    assert "library_visibility" not in node(checklist_draft, "step1")


def test_step_field_errors_open_more_options(client, engineer, checklist_draft):
    client.force_login(engineer)
    response = post(
        client,
        url("editor_node", checklist_draft, "patch"),
        checklist_draft,
        {"title": "Install updates", "estimated_minutes": "-4", "reference_url": "ftp://x"},
    )
    body = assert_fragment(response, 422)
    assert "greater than or equal to 0" in body and "http:// or https://" in body
    assert '<details class="mb-3 more-options" open>' in body
    assert "estimated_minutes" not in node(checklist_draft, "patch")


def test_move_and_remove_steps(client, engineer, checklist_draft):
    client.force_login(engineer)
    post(
        client,
        url("editor_node_move", checklist_draft, "patch"),
        checklist_draft,
        {"direction": "up"},
    )
    post(client, url("editor_node_remove", checklist_draft, "prep"), checklist_draft)
    steps = Tree.objects.get(pk=checklist_draft.pk).tree_structure["steps"]
    assert [s["id"] for s in steps] == ["patch", "snapshot", "end"]
    body = assert_fragment(
        post(client, url("editor_node_remove", checklist_draft, "end"), checklist_draft), 422
    )
    assert "ends with an end step" in body


def test_intake_editor(client, engineer, checklist_draft):
    client.force_login(engineer)
    assert_fragment(
        post(
            client,
            url("editor_intake_add", checklist_draft),
            checklist_draft,
            {
                "name": "window",
                "label": "Window",
                "field_type": "select",
                "options": "Tonight\nSunday",
            },
        )
    )
    body = assert_fragment(
        post(
            client,
            url("editor_intake_add", checklist_draft),
            checklist_draft,
            {"name": "server", "label": "Again", "field_type": "text"},
        ),
        422,
    )
    assert "already named “server”" in body
    body = assert_fragment(
        post(
            client,
            url("editor_intake", checklist_draft, 0),
            checklist_draft,
            {"name": "bad name", "label": "Server", "field_type": "text"},
        ),
        422,
    )
    assert "Use letters, digits" in body
    post(
        client, url("editor_intake_move", checklist_draft, 1), checklist_draft, {"direction": "up"}
    )
    post(
        client,
        url("editor_intake", checklist_draft, 1),
        checklist_draft,
        {"name": "host", "label": "Host", "field_type": "text", "required": "on"},
    )
    post(client, url("editor_intake_remove", checklist_draft, 0), checklist_draft)
    assert Tree.objects.get(pk=checklist_draft.pk).intake_form == [
        {"name": "host", "label": "Host", "type": "text", "required": True}
    ]


# --- publish, discard, details, preview -----------------------------------------------------


def test_publish_refusal_lists_problems_that_link_to_the_nodes(client, engineer, tree_draft):
    client.force_login(engineer)
    post(client, url("editor_node_remove", tree_draft, "fixed"), tree_draft)
    response = post(client, url("editor_publish", tree_draft), tree_draft)
    body = assert_fragment(response, 422)
    assert "Not published" in body
    assert "The flow has no solution yet: add at least one solution" in body
    assert Tree.objects.get(pk=tree_draft.pk).status == TreeStatus.DRAFT


def test_publish_success_redirects_to_the_flow(client, engineer, tree_draft):
    client.force_login(engineer)
    response = post(client, url("editor_publish", tree_draft), tree_draft)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("flows:detail", args=[tree_draft.pk])
    assert Tree.objects.get(pk=tree_draft.pk).status == TreeStatus.PUBLISHED


def test_publish_from_a_stale_page_is_refused(client, engineer, tree_draft):
    client.force_login(engineer)
    response = client.post(url("editor_publish", tree_draft), {"revision": 7}, **HTMX)
    assert response.status_code == 409
    assert Tree.objects.get(pk=tree_draft.pk).status == TreeStatus.DRAFT


def test_published_flow_editing_shows_unpublished_changes_and_discard(client, engineer, own_flow):
    client.force_login(engineer)
    body = client.get(url("edit", own_flow)).content.decode()
    assert "kept aside as a working copy" in body and "Discard changes" not in body
    body = assert_fragment(
        post(client, url("editor_node", own_flow, "fixed"), own_flow, {"title": "Half done"})
    )
    assert "Unpublished changes." in body and "Discard changes" in body
    assert "Publish changes" in body
    detail = client.get(reverse("flows:detail", args=[own_flow.pk])).content.decode()
    assert 'id="working-copy-note"' in detail
    assert "Half done" not in detail  # what engineers run is unchanged
    body = assert_fragment(post(client, url("editor_discard", own_flow), own_flow))
    assert "Half done" not in body and "Discard changes" not in body
    assert not Tree.objects.get(pk=own_flow.pk).has_working_copy


def test_details_save_as_an_htmx_fragment(client, engineer, tree_draft):
    client.force_login(engineer)
    response = client.post(
        url("editor_details", tree_draft),
        {
            "name": "VPN runbook",
            "description": "Tunnels.",
            "category": "Networking",
            "tags": "vpn, ipsec",
            "visibility": "public",  # ignored: the field is disabled for non-staff
        },
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section class="card editor-details"')
    assert '<span id="editor-flow-name" hx-swap-oob="true">VPN runbook</span>' in body
    assert "Draft saved." in body
    tree = Tree.objects.get(pk=tree_draft.pk)
    assert (tree.name, tree.description, tree.category.name) == (
        "VPN runbook",
        "Tunnels.",
        "Networking",
    )
    assert sorted(t.name for t in tree.tags.all()) == ["ipsec", "vpn"]
    assert not tree.is_public


def test_details_errors_and_staff_visibility(client, engineer, staff, tree_draft):
    client.force_login(engineer)
    response = client.post(url("editor_details", tree_draft), {"name": ""}, **HTMX)
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    client.force_login(staff)
    client.post(url("editor_details", tree_draft), {"name": "Official", "visibility": "public"})
    assert Tree.objects.get(pk=tree_draft.pk).is_public


def test_preview_walks_a_troubleshooting_tree_without_recording(client, engineer, tree_draft):
    client.force_login(engineer)
    base = url("editor_preview", tree_draft)
    body = client.get(base).content.decode()
    assert "Does the tunnel show as down on both peers?" in body
    assert "?at=restart&amp;trail=root" in body and "Nothing you click here is recorded" in body
    body = client.get(base, {"at": "restart", "trail": "root"}).content.decode()
    assert "Restart the VPN service" in body and "diag vpn tunnel reset" in body
    assert "Done, continue" in body and "?at=root&amp;trail=" in body  # Back
    body = client.get(base, {"at": "fixed", "trail": "root,ghost"}).content.decode()
    assert "End of the flow" in body
    assert "does not exist" in client.get(base, {"at": "ghost"}).content.decode()


def test_preview_shows_the_working_copy_of_a_checklist(client, engineer, account, owner):
    tree = TreeFactory(account=account, author=owner, tree_type=TreeType.PROCEDURAL)
    editor.tree_step_add(
        tree=tree, user=engineer, revision=None, step_type="procedure_step", title="New step"
    )
    client.force_login(engineer)
    body = client.get(url("editor_preview", tree)).content.decode()
    assert "New step" in body and "Take a snapshot" in body and 'type="checkbox"' in body


# --- JSON fallback, creating ----------------------------------------------------------------


def test_json_page_of_a_published_flow_saves_a_working_copy(client, engineer, own_flow):
    client.force_login(engineer)
    response = client.post(
        url("edit_json", own_flow),
        {
            "name": own_flow.name,
            "description": "",
            "tree_structure": '{"id": "root", "type": "decision", "question": "Half?"}',
            "intake_form": "[]",
        },
    )
    assert response.status_code == 302 and response["Location"] == url("edit", own_flow)
    tree = Tree.objects.get(pk=own_flow.pk)
    assert tree.tree_structure["question"] == "Does the tunnel show as down on both peers?"
    assert tree.draft_structure["question"] == "Half?"


def test_new_flow_lands_in_the_editor(client, engineer):
    client.force_login(engineer)
    response = client.post(reverse("flows:create"), {"name": "Fresh", "tree_type": "procedural"})
    tree = Tree.objects.get(name="Fresh")
    assert response["Location"] == url("edit", tree)
    body = client.get(response["Location"]).content.decode()
    assert "Add a step or section" in body


# --- query counts ---------------------------------------------------------------------------


def big_checklist(steps: int) -> dict:
    return {
        "steps": [
            *(
                {"id": f"s{n}", "type": "procedure_step", "title": f"Step {n}", "commands": "ls"}
                for n in range(steps)
            ),
            {"id": "end", "type": "procedure_end"},
        ]
    }


def test_editor_queries_do_not_grow_with_the_flow(
    client, engineer, account, owner, django_assert_max_num_queries
):
    small = TreeFactory(
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=big_checklist(2),
    )
    large = TreeFactory(
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=big_checklist(150),
    )
    client.force_login(engineer)
    client.get(url("edit", small))  # warm the session
    # One of these reads the step-health flags behind the editor's badges (any flow size).
    with django_assert_max_num_queries(9) as few:
        client.get(url("edit", small))
    with django_assert_max_num_queries(9) as many:
        response = client.get(url("edit", large))
    assert response.status_code == 200
    assert len(few.captured_queries) == len(many.captured_queries)
    with django_assert_max_num_queries(15) as change_few:
        post(client, url("editor_node_move", small, "s1"), small, {"direction": "up"})
    with django_assert_max_num_queries(15) as change_many:
        post(client, url("editor_node_move", large, "s1"), large, {"direction": "up"})
    assert len(change_few.captured_queries) == len(change_many.captured_queries)


def test_problems_show_next_to_their_node_in_both_editors(client, engineer, account, owner):
    tree = TreeFactory(
        account=account,
        author=owner,
        status=TreeStatus.DRAFT,
        tree_structure={
            "id": "root",
            "type": "decision",
            "question": "Up?",
            "options": [{"label": "No", "next_node_id": "fix"}],
            "children": [
                {"id": "fix", "type": "action", "title": "Fix it"},
                {"type": "solution", "title": "Nameless"},
            ],
        },
    )
    steps = TreeFactory(
        account=account,
        author=owner,
        status=TreeStatus.DRAFT,
        tree_type=TreeType.PROCEDURAL,
        tree_structure={"steps": [{"type": "procedure_step", "title": "No id"}]},
    )
    client.force_login(engineer)
    body = client.get(url("edit", tree)).content.decode()
    assert "'Fix it' leads nowhere" not in body  # completeness waits for a publish attempt
    post(client, url("editor_publish", tree), tree)
    body = client.get(url("edit", tree)).content.decode()
    assert 'class="text-danger small mt-1 node-error"' in body
    assert "'Fix it' leads nowhere: pick what comes after this action." in html.unescape(body)
    assert "This node has no id of its own" in body
    body = client.get(url("edit", steps)).content.decode()
    assert "This step has no id of its own" in body
