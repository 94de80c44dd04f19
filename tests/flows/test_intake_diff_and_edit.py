"""Intake-form changes in diffs and merges, and the inline "edit" choice for a pull's
conflicts: the engine, the services, the API (with its schema) and the pages."""

import pytest
from django.urls import reverse

from flows import services
from flows.diff import intake_diff, structure_diff
from flows.merge import merge
from flows.models import Tree, TreeStatus, TreeType
from tests.conftest import api_as
from tests.factories import TreeFactory

SERVER = {"name": "server", "label": "Server name", "type": "text", "required": True}
WINDOW = {
    "name": "window",
    "label": "Maintenance window",
    "type": "select",
    "required": False,
    "options": ["Night", "Weekend"],
}
TICKET = {"name": "ticket", "label": "Change ticket", "type": "text", "required": False}


def changed(field, **values):
    return {**field, **values}


# --- the diff of intake forms ---------------------------------------------------------------


def test_intake_diff_lists_added_removed_changed_and_moved_fields():
    before = [SERVER, WINDOW, TICKET]
    after = [
        changed(WINDOW, options=["Night", "Sunday"], required=True),
        changed(SERVER, label="Server host name"),
        {"name": "owner", "label": "Owner", "type": "text"},
    ]
    changes = {c.key: c for c in intake_diff(before, after)}
    assert {k: c.change for k, c in changes.items()} == {
        "window": "changed",
        "server": "changed",
        "owner": "added",
        "ticket": "removed",
    }
    window = {f.name: f for f in changes["window"].fields}
    assert set(window) == {"options", "required"}
    words = [(w.op, w.text) for w in window["options"].words]
    assert ("delete", "Weekend") in words and ("insert", "Sunday") in words
    label = changes["server"].fields[0]
    assert [(w.op, w.text) for w in label.words if w.op != "equal"] == [("insert", "host ")]
    # Swapping two questions moves one of them, like steps.
    swapped = intake_diff([SERVER, WINDOW], [WINDOW, SERVER])
    assert [c.change for c in swapped] == ["moved"]


def test_intake_diff_skips_broken_fields_and_is_part_of_the_flow_diff():
    assert intake_diff([{"label": "no name"}, "junk", SERVER], None)[0].key == "server"
    diff = structure_diff("procedural", {}, {}, intake_before=[SERVER], intake_after=[])
    assert not diff.is_empty
    assert diff.as_json()["intake"] == [
        {
            "key": "server",
            "change": "removed",
            "heading": "Server name",
            "moved": False,
            "fields": {},
        }
    ]


# --- the three-way merge of intake forms ----------------------------------------------------


def merged_intake(base, theirs, mine, resolutions=None):
    return merge(
        "procedural",
        base={"steps": []},
        theirs={"steps": []},
        mine={"steps": []},
        intake=(base, theirs, mine),
        resolutions=resolutions,
        clean_edit=lambda conflict, edit: {**conflict.side, **edit},
    )


def test_intake_merge_takes_one_sided_changes_and_lists_conflicts_by_name():
    theirs = [changed(SERVER, label="Host"), WINDOW, {"name": "owner", "label": "Owner"}]
    mine = [SERVER, changed(WINDOW, required=True), TICKET]
    result = merged_intake([SERVER, WINDOW], theirs, mine)
    assert result.conflicts == []
    assert [f["name"] for f in result.intake_form] == ["server", "window", "owner", "ticket"]
    assert result.intake_form[0]["label"] == "Host" and result.intake_form[1]["required"]
    assert sorted(result.applied_intake) == ["owner", "server"]


def test_intake_conflicts_resolve_with_theirs_mine_or_an_edit():
    theirs = [changed(SERVER, label="Host"), changed(WINDOW, label="Window")]  # dropped ticket
    mine = [changed(SERVER, label="Server FQDN"), changed(TICKET, required=True)]  # dropped window
    base = [SERVER, WINDOW, TICKET]
    result = merged_intake(base, theirs, mine)
    assert [(c.id, c.kind, c.scope) for c in result.conflicts] == [
        ("intake:server", "both_changed", "intake"),
        ("intake:ticket", "deleted_in_parent", "intake"),
        ("intake:window", "deleted_in_fork", "intake"),
    ]
    done = merged_intake(
        base,
        theirs,
        mine,
        {
            "intake:server": {"edit": {"label": "Host (FQDN)"}},
            "intake:ticket": "theirs",
            "intake:window": "theirs",
        },
    )
    assert done.unresolved == []
    assert [(f["name"], f["label"]) for f in done.intake_form] == [
        ("server", "Host (FQDN)"),
        ("window", "Window"),
    ]


def test_node_conflict_resolved_with_an_edit():
    base = {"steps": [{"id": "a", "type": "procedure_step", "title": "A"}]}
    theirs = {"steps": [{"id": "a", "type": "procedure_step", "title": "A parent"}]}
    mine = {"steps": [{"id": "a", "type": "procedure_step", "title": "A mine"}]}
    result = merge(
        "procedural",
        base=base,
        theirs=theirs,
        mine=mine,
        resolutions={"a": {"edit": {"title": "A both"}}},
        clean_edit=lambda conflict, edit: {**conflict.side, **edit},
    )
    assert result.conflicts[0].resolution == "edit"
    assert result.structure["steps"][0]["title"] == "A both"


# --- services, API and pages on a real fork -------------------------------------------------


@pytest.fixture
def parent(db, staff):
    tree = TreeFactory(
        name="Patch a server",
        account=None,
        author=staff,
        is_public=True,
        is_default=True,
        tree_type=TreeType.PROCEDURAL,
        status=TreeStatus.DRAFT,
        intake_form=[SERVER, WINDOW],
    )
    return services.tree_publish(tree=tree, user=staff)


@pytest.fixture
def fork(parent, engineer):
    return services.tree_fork(tree=parent, user=engineer, name="Acme patching")


def edit_content(tree, user, *, title=None, intake=None):
    tree = Tree.objects.get(pk=tree.pk)
    data = tree.editing_structure
    if title:
        next(s for s in data["steps"] if s["id"] == "patch")["title"] = title
    form = intake if intake is not None else tree.editing_intake_form
    return services.tree_update(tree=tree, user=user, tree_structure=data, intake_form=form)


def both_sides_conflict(parent, fork, staff, engineer):
    """The fork and the parent both change the "patch" step and the "server" question."""
    edit_content(
        fork,
        engineer,
        title="Install security updates",
        intake=[
            changed(SERVER, label="Server FQDN"),
            WINDOW,
        ],
    )
    parent = edit_content(
        parent,
        staff,
        title="Install updates and reboot",
        intake=[
            changed(SERVER, label="Host name"),
            WINDOW,
            TICKET,
        ],
    )
    services.tree_publish(tree=parent, user=staff, note="Reboot; ticket")


def test_working_copy_diff_and_publish_review_show_intake_changes(client, parent, staff):
    edit_content(parent, staff, intake=[changed(SERVER, label="Server host name"), TICKET])
    body = api_as(staff).get(f"/api/flows/{parent.pk}/diff/?from=live&to=draft").json()
    assert {(c["key"], c["change"]) for c in body["intake"]} == {
        ("server", "changed"),
        ("ticket", "added"),
        ("window", "removed"),
    }
    server = next(c for c in body["intake"] if c["key"] == "server")
    assert server["fields"]["label"]["before"] == "Server name"
    client.force_login(staff)
    review = client.get(reverse("flows:publish_review", args=[parent.pk])).content.decode()
    assert "No node changed. " in review and "3 intake questions changed" in review
    intake = review.split('id="diff-nodes-intake"')[1].split("</ol>")[0]
    assert 'data-intake="ticket" data-change="added"' in intake
    assert '<ins class="diff-ins">host </ins>' in intake
    assert "Question “Maintenance window”" in intake and "Removed" in intake


def test_compare_lists_intake_changes_on_both_sides(client, parent, fork, staff, engineer):
    both_sides_conflict(parent, fork, staff, engineer)
    compared = api_as(engineer).get(f"/api/flows/{fork.pk}/compare/").json()
    assert {c["key"] for c in compared["parent"]["intake"]} == {"server", "ticket"}
    assert [c["key"] for c in compared["fork"]["intake"]] == ["server"]
    client.force_login(engineer)
    page = client.get(reverse("flows:compare", args=[fork.pk])).content.decode()
    parent_side = page.split('id="parent-changes-intake"')[1].split("</ol>")[0]
    assert "Question “Change ticket”" in parent_side
    conflicts = page.split('id="conflicts"')[1].split("</ul>")[0]
    assert 'data-node="intake:server"' in conflicts and 'data-node="patch"' in conflicts
    assert "Edit: write the merged version" in conflicts
    # The edit form starts from the fork's version, fields named per conflict.
    assert (
        'name="edit-patch-title"' in conflicts and 'value="Install security updates"' in conflicts
    )
    assert 'name="edit-intake:server-label"' in conflicts and 'value="Server FQDN"' in conflicts


def test_service_pull_with_edits_writes_the_merged_working_copy(parent, fork, staff, engineer):
    both_sides_conflict(parent, fork, staff, engineer)
    result = services.tree_pull_parent(tree=fork, user=engineer)
    assert {c.id for c in result.unresolved} == {"patch", "intake:server"}
    result = services.tree_pull_parent(
        tree=fork,
        user=engineer,
        resolutions={
            "patch": {"edit": {"title": "Install security updates and reboot", "commands": ""}},
            "intake:server": {"edit": {"label": "Server FQDN or host name", "type": "text"}},
        },
    )
    assert result.unresolved == []
    fork.refresh_from_db()
    assert fork.status == TreeStatus.DRAFT  # nothing published
    steps = {s["id"]: s for s in fork.editing_structure["steps"]}
    assert steps["patch"]["title"] == "Install security updates and reboot"
    assert [(f["name"], f["label"]) for f in fork.editing_intake_form] == [
        ("server", "Server FQDN or host name"),
        ("window", "Maintenance window"),
        ("ticket", "Change ticket"),
    ]
    assert fork.parent_version.number == 2


def test_service_refuses_an_invalid_edit_with_field_messages(parent, fork, staff, engineer):
    both_sides_conflict(parent, fork, staff, engineer)
    revision = Tree.objects.get(pk=fork.pk).revision
    with pytest.raises(services.MergeEditInvalid) as refused:
        services.tree_pull_parent(
            tree=fork,
            user=engineer,
            resolutions={
                "patch": {"edit": {"title": " ", "estimated_minutes": -3, "options": []}},
                "intake:server": {"edit": {"label": "", "type": "radio"}},
            },
        )
    by_field = refused.value.payload()["resolutions"]
    assert set(by_field["patch"]) == {"title", "estimated_minutes", "options"}
    assert by_field["patch"]["title"] == ["The title cannot be empty."]
    assert set(by_field["intake:server"]) >= {"label", "type"}
    fork.refresh_from_db()
    assert fork.revision == revision and fork.parent_version.number == 1  # nothing written


def test_api_pull_with_edit_resolutions_and_its_errors(parent, fork, staff, engineer):
    both_sides_conflict(parent, fork, staff, engineer)
    api = api_as(engineer)
    url = f"/api/flows/{fork.pk}/pull-parent/"
    first = api.post(url, {}, format="json").json()
    assert {(c["id"], c["scope"]) for c in first["conflicts"]} == {
        ("patch", "node"),
        ("intake:server", "intake"),
    }
    shape = api.post(url, {"resolutions": {"patch": {"merge": {}}}}, format="json")
    assert shape.status_code == 400 and "resolutions" in shape.json()
    bad = api.post(
        url,
        {"resolutions": {"patch": {"edit": {"title": ""}}, "intake:server": "mine"}},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["resolutions"] == {"patch": {"title": ["The title cannot be empty."]}}
    done = api.post(
        url,
        {
            "resolutions": {
                "patch": {"edit": {"title": "Install and reboot", "type": "procedure_step"}},
                "intake:server": "theirs",
            }
        },
        format="json",
    ).json()
    assert done["written"] is True
    assert {c["id"]: c["resolution"] for c in done["conflicts"]} == {
        "patch": "edit",
        "intake:server": "theirs",
    }
    assert done["tree_structure"]["steps"][2]["title"] == "Install and reboot"
    assert [f["label"] for f in done["intake_form"]][0] == "Host name"
    assert "ticket" in done["applied_intake"]


def test_schema_documents_intake_changes_and_edit_resolutions(client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert "intake" in components["Diff"]["properties"]
    assert set(components["IntakeChange"]["properties"]) >= {"key", "change", "fields"}
    resolutions = components["ResolutionsRequest"]["properties"]["resolutions"]
    assert "edit" in str(resolutions)
    refusal = components["Error"]["anyOf"][0]["properties"]
    assert "invalid_edit" in refusal["resolutions"]["description"]


def test_page_edit_choice_writes_the_merged_version(client, parent, fork, staff, engineer):
    both_sides_conflict(parent, fork, staff, engineer)
    client.force_login(engineer)
    url = reverse("flows:pull_parent", args=[fork.pk])
    refused = client.post(
        url,
        {
            "resolve-patch": "edit",
            "edit-patch-title": "",
            "edit-patch-estimated_minutes": "5",
            "resolve-intake:server": "mine",
        },
    )
    assert refused.status_code == 400
    text = refused.content.decode()
    patch = text.split('conflict" data-node="patch"')[1].split("</li>")[0]
    assert 'value="edit" aria-controls="edit-form-patch" checked' in patch
    assert "This field is required." in patch  # next to the title
    assert 'value="5"' in patch  # what was typed is kept
    fork.refresh_from_db()
    assert fork.parent_version.number == 1
    done = client.post(
        url,
        {
            "resolve-patch": "edit",
            "edit-patch-title": "Install updates; reboot in the window",
            "edit-patch-reference_url": "https://example.com/kb",
            "resolve-intake:server": "edit",
            "edit-intake:server-label": "Server (FQDN or host)",
            "edit-intake:server-field_type": "text",
            "edit-intake:server-required": "on",
        },
    )
    assert done.status_code == 302 and done["Location"] == reverse("flows:edit", args=[fork.pk])
    fork.refresh_from_db()
    patch = next(s for s in fork.editing_structure["steps"] if s["id"] == "patch")
    assert patch["title"] == "Install updates; reboot in the window"
    assert patch["reference_url"] == "https://example.com/kb"
    assert fork.editing_intake_form[0] == {
        "name": "server",
        "label": "Server (FQDN or host)",
        "type": "text",
        "required": True,
    }


def test_page_edit_refused_by_the_service_shows_the_message_at_the_field(
    client, parent, fork, staff, engineer
):
    both_sides_conflict(parent, fork, staff, engineer)
    client.force_login(engineer)
    response = client.post(
        reverse("flows:pull_parent", args=[fork.pk]),
        {
            "resolve-patch": "theirs",
            "resolve-intake:server": "edit",
            "edit-intake:server-label": "Server",
            "edit-intake:server-field_type": "select",
            "edit-intake:server-options": "",
        },
    )
    assert response.status_code == 400
    server = (
        response.content.decode().split('conflict" data-node="intake:server"')[1].split("</li>")[0]
    )
    assert "needs at least one option" in server and "invalid-feedback" in server


def test_viewer_and_outsider_cannot_pull_with_edits(
    client, parent, fork, engineer, viewer, outsider
):
    services.tree_publish(tree=fork, user=engineer)  # viewers see published flows only
    body = {"resolutions": {"patch": {"edit": {"title": "x"}}}}
    assert (
        api_as(outsider).post(f"/api/flows/{fork.pk}/pull-parent/", body, format="json").status_code
        == 404
    )
    client.force_login(outsider)
    assert client.post(reverse("flows:pull_parent", args=[fork.pk])).status_code == 404
    assert (
        api_as(viewer).post(f"/api/flows/{fork.pk}/pull-parent/", body, format="json").status_code
        == 403
    )
    client.force_login(viewer)
    assert client.post(reverse("flows:pull_parent", args=[fork.pk])).status_code == 403


def test_an_edit_keeps_or_brings_back_a_node_deleted_on_one_side():
    step = {"id": "b", "type": "procedure_step"}
    base = {"steps": [{"id": "a", "type": "procedure_step", "title": "A"}, {**step, "title": "B"}]}
    theirs = {"steps": [base["steps"][0]]}  # deleted b
    mine = {"steps": [base["steps"][0], {**step, "title": "B mine"}]}  # edited b
    kept = merge(
        "procedural",
        base=base,
        theirs=theirs,
        mine=mine,
        resolutions={"b": {"edit": {"title": "B kept"}}},
        clean_edit=lambda conflict, edit: {**conflict.side, **edit},
    )
    assert [s.get("title") for s in kept.structure["steps"]] == ["A", "B kept"]
    back = merge(
        "procedural",
        base=base,
        theirs={"steps": [base["steps"][0], {**step, "title": "B parent"}]},
        mine=theirs,  # the fork deleted b, the parent edited it
        resolutions={"b": {"edit": {"title": "B back"}}},
        clean_edit=lambda conflict, edit: {**conflict.side, **edit},
    )
    assert back.conflicts[0].kind == "deleted_in_fork"
    assert [s.get("title") for s in back.structure["steps"]] == ["A", "B back"]


def test_compare_counts_the_questions_a_clean_pull_updates(client, parent, fork, staff, engineer):
    parent = edit_content(parent, staff, intake=[SERVER, WINDOW, TICKET])
    services.tree_publish(tree=parent, user=staff)
    client.force_login(engineer)
    page = client.get(reverse("flows:compare", args=[fork.pk])).content.decode()
    assert "No conflicts: 0 nodes and 1 intake question will be updated from the parent." in page
    client.post(reverse("flows:pull_parent", args=[fork.pk]))
    fork.refresh_from_db()
    assert [f["name"] for f in fork.editing_intake_form] == ["server", "window", "ticket"]
