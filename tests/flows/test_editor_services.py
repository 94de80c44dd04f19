"""The editor services (`flows/editor.py`): every operation on both kinds, bad input, stale pages
and working copies of published flows."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from flows import editor, services, structure
from flows.models import Tree, TreeStatus, TreeType
from tests.factories import TreeFactory


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
    )


def fresh(tree: Tree) -> Tree:
    return Tree.objects.get(pk=tree.pk)


def ids(tree: Tree) -> list[str]:
    tree = fresh(tree)
    return [n["id"] for n in structure.iter_nodes(tree.tree_type, tree.editing_structure)]


def node(tree: Tree, node_id: str) -> dict:
    tree = fresh(tree)
    return structure.node_index(tree.tree_type, tree.editing_structure)[node_id]


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(editor.EditRefused) as raised:
        call(*args, **kwargs)
    return " ".join(error.message for error in raised.value.errors)


# --- troubleshooting ------------------------------------------------------------------------


def test_add_a_child_to_a_decision_with_a_short_unique_id(engineer, tree_draft):
    edited = editor.tree_node_add(
        tree=tree_draft,
        user=engineer,
        revision=0,
        parent_id="root",
        node_type="solution",
        text="Tunnel restored",
    )
    assert edited.node_id == "s1"  # short and stable, not a slug of the title
    again = editor.tree_node_add(
        tree=tree_draft,
        user=engineer,
        revision=1,
        parent_id="root",
        node_type="solution",
        text="Tunnel restored",
    )
    assert again.node_id == "s2"
    children = fresh(tree_draft).tree_structure["children"]
    assert [c["id"] for c in children[-2:]] == ["s1", "s2"]
    assert children[-1] == {
        "id": "s2",
        "type": "solution",
        "title": "Tunnel restored",
    }
    assert fresh(tree_draft).revision == 2


def test_add_a_node_as_the_target_of_an_existing_or_a_new_option(engineer, tree_draft):
    editor.tree_node_add(
        tree=tree_draft,
        user=engineer,
        revision=None,
        parent_id="root",
        node_type="decision",
        text="Is the peer reachable?",
        option_index=1,
    )
    root = node(tree_draft, "root")
    assert root["options"][1] == {"label": "No", "next_node_id": "q1"}
    new = node(tree_draft, "q1")
    assert new == {
        "id": "q1",
        "type": "decision",
        "question": "Is the peer reachable?",
        "options": [],
        "children": [],
    }
    editor.tree_node_add(
        tree=tree_draft,
        user=engineer,
        revision=None,
        parent_id="q1",
        node_type="action",
        text="Ping the peer",
        option_label="No reply",
    )
    assert node(tree_draft, "q1")["options"] == [{"label": "No reply", "next_node_id": "a1"}]


def test_add_after_an_action_slots_into_the_chain(engineer, tree_draft):
    editor.tree_node_add(
        tree=tree_draft,
        user=engineer,
        revision=None,
        parent_id="restart",
        node_type="action",
        text="Clear the SAs",
    )
    assert node(tree_draft, "restart")["next_node_id"] == "a1"
    assert node(tree_draft, "a1")["next_node_id"] == "root"  # the old next node
    children = fresh(tree_draft).tree_structure["children"]
    assert [c["id"] for c in children] == ["restart", "a1", "fixed"]
    editor.tree_node_add(
        tree=tree_draft,
        user=engineer,
        revision=None,
        parent_id="a1",
        node_type="solution",
        text="Fixed by clearing",
    )
    assert node(tree_draft, "a1")["next_node_id"] == "s1"
    assert "next_node_id" not in node(tree_draft, "s1")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"parent_id": "fixed"}, "A solution ends the flow"),
        ({"parent_id": "ghost"}, "There is no node 'ghost'"),
        ({"parent_id": "root", "node_type": "procedure_step"}, "Choose a decision"),
        ({"parent_id": "root", "text": "   "}, "Give the new action a title"),
        ({"parent_id": "root", "option_index": 7}, "That option does not exist"),
        ({"parent_id": "root", "option_label": "yes"}, "There is already an option"),
        ({"parent_id": "restart", "text": "x" * 20_001}, "20,000"),
    ],
)
def test_add_refuses_bad_input_and_changes_nothing(engineer, tree_draft, arguments, message):
    before = fresh(tree_draft).tree_structure
    arguments = {"node_type": "action", "text": "Do it", **arguments}
    assert message in refused(
        editor.tree_node_add, tree=tree_draft, user=engineer, revision=None, **arguments
    )
    after = fresh(tree_draft)
    assert after.tree_structure == before and after.revision == 0


def test_update_node_fields_and_drop_empty_optional_ones(engineer, tree_draft):
    editor.tree_node_update(
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="restart",
        changes={
            "title": "  Restart the tunnel  ",
            "description": "",
            "commands": [
                {"label": "Reset", "language": "", "code": "diag vpn tunnel reset"},
                {"label": "empty", "language": "shell", "code": "   "},
            ],
            "next_node_id": "fixed",
        },
    )
    assert node(tree_draft, "restart") == {
        "id": "restart",
        "type": "action",
        "title": "Restart the tunnel",
        "commands": [{"language": "shell", "label": "Reset", "code": "diag vpn tunnel reset"}],
        "next_node_id": "fixed",
    }
    editor.tree_node_update(
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="root",
        changes={"question": "Is the tunnel down?", "description": "Check both sides."},
    )
    assert node(tree_draft, "root")["question"] == "Is the tunnel down?"
    assert node(tree_draft, "root")["description"] == "Check both sides."


def test_an_action_may_loop_back_and_may_lose_its_next_node(engineer, tree_draft):
    editor.tree_node_update(
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="restart",
        changes={"next_node_id": "restart"},
    )
    assert node(tree_draft, "restart")["next_node_id"] == "restart"
    editor.tree_node_update(
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="restart",
        changes={"next_node_id": ""},
    )
    assert "next_node_id" not in node(tree_draft, "restart")


@pytest.mark.parametrize(
    "node_id, changes, message",
    [
        ("restart", {"title": ""}, "The title cannot be empty"),
        ("root", {"question": None}, "The question cannot be empty"),
        ("restart", {"next_node_id": "ghost"}, "There is no node 'ghost' to go to"),
        ("root", {"options": []}, "A decision has no options"),
        ("fixed", {"next_node_id": "root"}, "A solution has no next_node_id"),
        ("restart", {"commands": 5}, "Commands must be a list"),
        ("restart", {"commands": [{"code": 1}]}, "Each command needs text"),
        ("restart", {"title": ["list"]}, "title must be text"),
        ("ghost", {"title": "x"}, "There is no node 'ghost'"),
        ("restart", {"description": "x" * 20_001}, "20,000"),
    ],
)
def test_update_refuses_bad_input_and_changes_nothing(
    engineer, tree_draft, node_id, changes, message
):
    before = fresh(tree_draft).tree_structure
    assert message in refused(
        editor.tree_node_update,
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id=node_id,
        changes=changes,
    )
    assert fresh(tree_draft).tree_structure == before


def test_options_add_rename_retarget_and_remove(engineer, tree_draft):
    def call(service, **kwargs):
        return service(tree=tree_draft, user=engineer, revision=None, node_id="root", **kwargs)

    call(editor.tree_option_add, label="Only one side", next_node_id="root")  # a loop
    assert node(tree_draft, "root")["options"][2] == {
        "label": "Only one side",
        "next_node_id": "root",
    }
    call(editor.tree_option_add, label="Not sure")
    assert node(tree_draft, "root")["options"][3] == {"label": "Not sure", "next_node_id": ""}
    call(editor.tree_option_update, index=3, label="Unsure", next_node_id="fixed")
    assert node(tree_draft, "root")["options"][3] == {"label": "Unsure", "next_node_id": "fixed"}
    call(editor.tree_option_update, index=0, label="YES", next_node_id="restart")  # same label
    call(editor.tree_option_remove, index=1)
    labels = [o["label"] for o in node(tree_draft, "root")["options"]]
    assert labels == ["YES", "Only one side", "Unsure"]
    assert "fixed" in ids(tree_draft)  # the node an option led to stays


@pytest.mark.parametrize(
    "service, kwargs, message",
    [
        (editor.tree_option_add, {"label": "yes"}, "There is already an option “yes”"),
        (editor.tree_option_add, {"label": " "}, "Give the option a label"),
        (editor.tree_option_add, {"label": "x" * 201}, "200 characters"),
        (editor.tree_option_add, {"label": "Maybe", "next_node_id": "ghost"}, "no node 'ghost'"),
        (editor.tree_option_update, {"index": 5, "label": "x", "next_node_id": ""}, "any more"),
        (editor.tree_option_update, {"index": 1, "label": "Yes", "next_node_id": ""}, "already"),
        (editor.tree_option_remove, {"index": -1}, "does not exist any more"),
    ],
)
def test_option_changes_refuse_bad_input(engineer, tree_draft, service, kwargs, message):
    before = fresh(tree_draft).tree_structure
    assert message in refused(
        service, tree=tree_draft, user=engineer, revision=None, node_id="root", **kwargs
    )
    assert fresh(tree_draft).tree_structure == before


def test_only_decisions_have_options(engineer, tree_draft):
    assert "Only decisions have options" in refused(
        editor.tree_option_add,
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="restart",
        label="x",
    )


def test_remove_takes_the_subtree_and_clears_links_into_it(engineer, tree_draft):
    editor.tree_node_add(
        tree=tree_draft,
        user=engineer,
        revision=None,
        parent_id="root",
        node_type="decision",
        text="Peer reachable?",
        option_label="Maybe",
    )
    editor.tree_node_add(
        tree=tree_draft,
        user=engineer,
        revision=None,
        parent_id="q1",
        node_type="solution",
        text="Call the ISP",
        option_label="No",
    )
    editor.tree_node_update(
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="restart",
        changes={"next_node_id": "s1"},
    )
    edited = editor.tree_node_remove(tree=tree_draft, user=engineer, revision=None, node_id="q1")
    assert "and 1 nested node" in edited.message and "2 links" in edited.message
    assert edited.node_id == "root"
    assert ids(tree_draft) == ["root", "restart", "fixed"]
    assert node(tree_draft, "root")["options"][2] == {"label": "Maybe", "next_node_id": ""}
    assert "next_node_id" not in node(tree_draft, "restart")
    errors = fresh(tree_draft).publish_errors()
    assert any(e.node_id == "restart" and e.field == "next_node_id" for e in errors)


def test_the_root_can_be_neither_removed_nor_moved(engineer, tree_draft):
    assert "cannot be deleted" in refused(
        editor.tree_node_remove, tree=tree_draft, user=engineer, revision=None, node_id="root"
    )
    assert "stays first" in refused(
        editor.tree_node_move,
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="root",
        direction="up",
    )


def test_move_reorders_siblings_and_stops_at_the_edges(engineer, tree_draft):
    def move(node_id, direction):
        editor.tree_node_move(
            tree=tree_draft, user=engineer, revision=None, node_id=node_id, direction=direction
        )

    move("fixed", "up")
    assert ids(tree_draft) == ["root", "fixed", "restart"]
    move("fixed", "up")  # already first: nothing happens
    assert ids(tree_draft) == ["root", "fixed", "restart"]
    move("fixed", "down")
    assert ids(tree_draft) == ["root", "restart", "fixed"]
    assert "Move up or down" in refused(
        editor.tree_node_move,
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="fixed",
        direction="sideways",
    )


def test_duplicate_ids_are_refused_with_a_message_instead_of_guessing(engineer, tree_draft):
    data = fresh(tree_draft).tree_structure
    data["children"].append({"id": "fixed", "type": "solution", "title": "Twin"})
    Tree.objects.filter(pk=tree_draft.pk).update(tree_structure=data)
    message = refused(
        editor.tree_node_update,
        tree=tree_draft,
        user=engineer,
        revision=None,
        node_id="fixed",
        changes={"title": "Which one?"},
    )
    assert "Several nodes have the id 'fixed'" in message
    assert "Advanced: edit JSON" in message
    assert fresh(tree_draft).tree_structure == data


def test_a_broken_draft_gets_a_clear_message(engineer, account, owner):
    broken = TreeFactory(
        account=account,
        author=owner,
        status=TreeStatus.DRAFT,
        tree_type=TreeType.PROCEDURAL,
        tree_structure={"steps": "oops"},
    )
    assert "repair it under Advanced: edit JSON" in refused(
        editor.tree_step_add,
        tree=broken,
        user=engineer,
        revision=None,
        step_type="procedure_step",
        title="x",
    )


# --- checklists -----------------------------------------------------------------------------


def test_build_a_checklist_from_nothing_and_publish_it(engineer):
    tree = services.tree_create(user=engineer, name="Onboard", tree_type=TreeType.PROCEDURAL)
    assert ids(tree) == ["end"]

    def add(step_type, title, after_id=None):
        return editor.tree_step_add(
            tree=tree,
            user=engineer,
            revision=fresh(tree).revision,
            step_type=step_type,
            title=title,
            after_id=after_id,
        ).node_id

    add("section_header", "Account")
    create = add("procedure_step", "Create the user")
    add("section_header", "Licences")
    add("procedure_step", "Assign a licence")
    add("procedure_step", "Enable MFA", after_id=create)
    assert ids(tree) == [
        "sec1",
        "step1",
        "step3",
        "sec2",
        "step2",
        "end",
    ]
    editor.tree_node_update(
        tree=tree,
        user=engineer,
        revision=fresh(tree).revision,
        node_id=create,
        changes={
            "description": "Create [VAR:upn] in Entra ID.",
            "commands": [{"language": "powershell", "label": "", "code": "New-MgUser"}],
            "library_visibility": "team",
        },
    )
    editor.tree_intake_field_add(
        tree=tree,
        user=engineer,
        revision=fresh(tree).revision,
        name="upn",
        label="User principal name",
        field_type="text",
        required=True,
    )
    published = fresh(services.tree_publish(tree=tree, user=engineer))
    assert published.status == TreeStatus.PUBLISHED
    assert published.intake_form[0]["name"] == "upn"
    assert node(published, create)["library_visibility"] == "team"


def test_step_update_sets_every_field_of_a_procedure_step(engineer, checklist_draft):
    changes = {
        "title": "Take a snapshot",
        "description": "Snapshot [VAR:server].",
        "content_type": "warning",
        "estimated_minutes": 5,
        "commands": [{"language": "powershell", "label": "Snap", "code": "Checkpoint-VM"}],
        "expected_outcome": "A checkpoint exists.",
        "verification_prompt": "Is it listed?",
        "warning_text": "Never on a DC.",
        "reference_url": "https://learn.microsoft.com/",
        "library_visibility": "team",
    }
    editor.tree_node_update(
        tree=checklist_draft, user=engineer, revision=None, node_id="snapshot", changes=changes
    )
    assert node(checklist_draft, "snapshot") == {
        "id": "snapshot",
        "type": "procedure_step",
        **changes,
    }
    assert not structure.validate_structure("procedural", fresh(checklist_draft).tree_structure)


def test_only_staff_make_a_step_public_in_the_editor(engineer, staff, checklist_draft):
    def set_public(user):
        editor.tree_node_update(
            tree=checklist_draft,
            user=user,
            revision=None,
            node_id="patch",
            changes={"library_visibility": "public"},
        )

    with pytest.raises(editor.EditRefused, match="Only staff share steps with every team"):
        set_public(engineer)
    assert "library_visibility" not in node(checklist_draft, "patch")
    set_public(staff)
    assert node(checklist_draft, "patch")["library_visibility"] == "public"
    # An engineer may keep a node staff made public while changing something else.
    editor.tree_node_update(
        tree=checklist_draft,
        user=engineer,
        revision=None,
        node_id="patch",
        changes={"title": "Patch it", "library_visibility": "public"},
    )
    assert node(checklist_draft, "patch")["title"] == "Patch it"


def test_library_visibility_inherit_removes_the_key(engineer, checklist_draft):
    def set_visibility(value):
        editor.tree_node_update(
            tree=checklist_draft,
            user=engineer,
            revision=None,
            node_id="patch",
            changes={"library_visibility": value},
        )

    set_visibility("team")
    assert node(checklist_draft, "patch")["library_visibility"] == "team"
    set_visibility("")
    assert "library_visibility" not in node(checklist_draft, "patch")
    set_visibility("team")
    set_visibility(None)
    assert "library_visibility" not in node(checklist_draft, "patch")


@pytest.mark.parametrize(
    "node_id, changes, message",
    [
        ("patch", {"estimated_minutes": -1}, "whole minutes"),
        ("patch", {"estimated_minutes": "5"}, "whole minutes"),
        ("patch", {"estimated_minutes": True}, "whole minutes"),
        ("patch", {"reference_url": "javascript:alert(1)"}, "http:// or https://"),
        ("patch", {"content_type": "fun"}, "Choose one of"),
        ("patch", {"library_visibility": "private"}, "Choose one of team, public"),
        ("prep", {"commands": "x"}, "A section header has no commands"),
        ("end", {"estimated_minutes": 3}, "An end step has no estimated_minutes"),
        ("prep", {"title": ""}, "The title cannot be empty"),
    ],
)
def test_step_update_refuses_bad_values(engineer, checklist_draft, node_id, changes, message):
    before = fresh(checklist_draft).tree_structure
    assert message in refused(
        editor.tree_node_update,
        tree=checklist_draft,
        user=engineer,
        revision=None,
        node_id=node_id,
        changes=changes,
    )
    assert fresh(checklist_draft).tree_structure == before


def test_steps_move_within_the_list_and_the_end_step_stays_last(engineer, checklist_draft):
    def move(node_id, direction):
        editor.tree_node_move(
            tree=checklist_draft, user=engineer, revision=None, node_id=node_id, direction=direction
        )

    move("patch", "up")
    assert ids(checklist_draft) == ["prep", "patch", "snapshot", "end"]
    move("snapshot", "down")  # the end step is below: nothing happens
    assert ids(checklist_draft) == ["prep", "patch", "snapshot", "end"]
    move("prep", "down")
    assert ids(checklist_draft) == ["patch", "prep", "snapshot", "end"]
    assert "always last" in refused(
        editor.tree_node_move,
        tree=checklist_draft,
        user=engineer,
        revision=None,
        node_id="end",
        direction="up",
    )


def test_remove_steps_but_never_the_only_end_step(engineer, checklist_draft):
    editor.tree_node_remove(tree=checklist_draft, user=engineer, revision=None, node_id="prep")
    assert ids(checklist_draft) == ["snapshot", "patch", "end"]
    assert "ends with an end step" in refused(
        editor.tree_node_remove, tree=checklist_draft, user=engineer, revision=None, node_id="end"
    )


def test_a_missing_or_misplaced_end_step_is_put_back_last(engineer, account, owner):
    tree = TreeFactory(
        account=account,
        author=owner,
        status=TreeStatus.DRAFT,
        tree_type=TreeType.MAINTENANCE,
        tree_structure={
            "steps": [
                {"id": "end", "type": "procedure_end"},
                {"id": "a", "type": "procedure_step", "title": "A"},
            ]
        },
    )
    editor.tree_step_add(
        tree=tree, user=engineer, revision=None, step_type="procedure_step", title="B"
    )
    assert ids(tree) == ["a", "step1", "end"]
    Tree.objects.filter(pk=tree.pk).update(
        tree_structure={"steps": [{"id": "a", "type": "procedure_step", "title": "A"}]}
    )
    editor.tree_node_update(tree=tree, user=engineer, revision=None, node_id="a", changes={})
    assert ids(tree) == ["a", "end"]


def test_step_add_refuses_bad_input(engineer, checklist_draft):
    def add(**kwargs):
        arguments = {"step_type": "procedure_step", "title": "x", **kwargs}
        return refused(
            editor.tree_step_add, tree=checklist_draft, user=engineer, revision=None, **arguments
        )

    assert "Add a step or a section header" in add(step_type="procedure_end")
    assert "Give it a title" in add(title=" ")
    assert "There is no node 'ghost'" in add(after_id="ghost")
    assert ids(checklist_draft) == ["prep", "snapshot", "patch", "end"]


def test_intake_questions_add_update_move_remove(engineer, checklist_draft):
    def call(service, **kwargs):
        return service(tree=checklist_draft, user=engineer, revision=None, **kwargs)

    call(
        editor.tree_intake_field_add,
        name="server",
        label="Server",
        field_type="text",
        required=True,
    )
    call(
        editor.tree_intake_field_add,
        name="window",
        label="Window",
        field_type="select",
        options=["Tonight", " ", "Weekend "],
    )
    form = fresh(checklist_draft).intake_form
    assert form == [
        {"name": "server", "label": "Server", "type": "text", "required": True},
        {
            "name": "window",
            "label": "Window",
            "type": "select",
            "required": False,
            "options": ["Tonight", "Weekend"],
        },
    ]
    call(editor.tree_intake_field_move, index=1, direction="up")
    assert [f["name"] for f in fresh(checklist_draft).intake_form] == ["window", "server"]
    call(
        editor.tree_intake_field_update,
        index=1,
        name="host",
        label="Host name",
        field_type="text",
    )
    assert fresh(checklist_draft).intake_form[1]["name"] == "host"
    call(editor.tree_intake_field_remove, index=0)
    assert [f["name"] for f in fresh(checklist_draft).intake_form] == ["host"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "bad name"}, "may only contain"),
        ({"name": "server"}, "already named “server”"),
        ({"label": ""}, "has no label"),
        ({"field_type": "date"}, "Unknown field type"),
        ({"field_type": "select", "options": []}, "needs at least one option"),
    ],
)
def test_intake_refuses_bad_questions(engineer, checklist_draft, kwargs, message):
    editor.tree_intake_field_add(
        tree=checklist_draft,
        user=engineer,
        revision=None,
        name="server",
        label="Server",
        field_type="text",
    )
    arguments = {"name": "other", "label": "Other", "field_type": "text", **kwargs}
    assert message in refused(
        editor.tree_intake_field_add,
        tree=checklist_draft,
        user=engineer,
        revision=None,
        **arguments,
    )
    assert len(fresh(checklist_draft).intake_form) == 1
    assert "does not exist any more" in refused(
        editor.tree_intake_field_remove, tree=checklist_draft, user=engineer, revision=None, index=3
    )


# --- stale pages, permissions ---------------------------------------------------------------


def test_a_page_from_an_older_revision_is_refused_without_changes(engineer, tree_draft):
    first_tab = second_tab = fresh(tree_draft).revision
    editor.tree_node_update(
        tree=tree_draft,
        user=engineer,
        revision=first_tab,
        node_id="fixed",
        changes={"title": "From tab one"},
    )
    with pytest.raises(editor.EditConflict) as conflict:
        editor.tree_node_remove(
            tree=tree_draft, user=engineer, revision=second_tab, node_id="fixed"
        )
    assert "another tab" in conflict.value.errors[0].message
    assert node(tree_draft, "fixed")["title"] == "From tab one"
    assert fresh(tree_draft).revision == first_tab + 1


def test_viewers_and_outsiders_cannot_edit(viewer, outsider, tree_draft, own_flow):
    for user, tree in [(viewer, own_flow), (outsider, tree_draft)]:
        with pytest.raises(PermissionDenied):
            editor.tree_node_update(
                tree=tree, user=user, revision=None, node_id="fixed", changes={"title": "x"}
            )
    assert node(own_flow, "fixed")["title"] == "Tunnel restored"


def test_engineers_cannot_edit_official_content(engineer, public_flow):
    with pytest.raises(PermissionDenied):
        editor.tree_step_add(
            tree=public_flow, user=engineer, revision=None, step_type="procedure_step", title="x"
        )


# --- working copies of published flows ------------------------------------------------------


def test_editing_a_published_flow_changes_a_working_copy_only(engineer, own_flow):
    live = fresh(own_flow).tree_structure
    updated_at = fresh(own_flow).updated_at
    editor.tree_node_update(
        tree=own_flow, user=engineer, revision=None, node_id="fixed", changes={"title": "WIP"}
    )
    tree = fresh(own_flow)
    assert tree.tree_structure == live  # what engineers run is untouched
    assert tree.has_working_copy and tree.draft_structure["children"][1]["title"] == "WIP"
    assert tree.draft_intake_form == tree.intake_form
    assert tree.updated_at == updated_at and tree.status == TreeStatus.PUBLISHED
    assert node(tree, "fixed")["title"] == "WIP"  # the editor sees the working copy


def test_publishing_applies_the_working_copy(engineer, own_flow):
    editor.tree_node_update(
        tree=own_flow, user=engineer, revision=None, node_id="fixed", changes={"title": "Done"}
    )
    tree = fresh(services.tree_publish(tree=own_flow, user=engineer))
    assert tree.tree_structure["children"][1]["title"] == "Done"
    assert not tree.has_working_copy and tree.draft_structure is None


def test_an_invalid_working_copy_is_refused_and_the_live_flow_stays(engineer, own_flow):
    live = fresh(own_flow).tree_structure
    editor.tree_node_remove(tree=own_flow, user=engineer, revision=None, node_id="fixed")
    with pytest.raises(services.PublishRefused) as refusal:
        services.tree_publish(tree=own_flow, user=engineer)
    assert any(e.node_id == "root" for e in refusal.value.errors)
    tree = fresh(own_flow)
    assert tree.tree_structure == live and tree.has_working_copy


def test_discard_returns_to_the_live_version(engineer, own_flow):
    editor.tree_node_remove(tree=own_flow, user=engineer, revision=None, node_id="fixed")
    services.tree_changes_discard(tree=own_flow, user=engineer)
    tree = fresh(own_flow)
    assert not tree.has_working_copy and "fixed" in ids(tree)


def test_undoing_every_change_leaves_nothing_to_publish(engineer, own_flow):
    def title(text):
        editor.tree_node_update(
            tree=own_flow, user=engineer, revision=None, node_id="fixed", changes={"title": text}
        )

    title("WIP")
    assert fresh(own_flow).has_working_copy
    title("Tunnel restored")
    assert not fresh(own_flow).has_working_copy


def test_unpublishing_turns_the_working_copy_into_the_draft(engineer, own_flow):
    editor.tree_node_update(
        tree=own_flow, user=engineer, revision=None, node_id="fixed", changes={"title": "WIP"}
    )
    tree = fresh(services.tree_unpublish(tree=own_flow, user=engineer))
    assert tree.status == TreeStatus.DRAFT and not tree.has_working_copy
    assert tree.tree_structure["children"][1]["title"] == "WIP"


def test_json_replace_goes_to_the_working_copy_of_a_published_flow(engineer, own_flow):
    live = fresh(own_flow).tree_structure
    services.tree_update(
        tree=own_flow,
        user=engineer,
        revision=own_flow.revision,
        tree_structure={"id": "root", "type": "decision"},
        intake_form=[],
    )
    tree = fresh(own_flow)
    assert tree.tree_structure == live
    assert tree.draft_structure == {"id": "root", "type": "decision"}


def test_drafts_are_edited_in_place(engineer, tree_draft):
    editor.tree_node_update(
        tree=tree_draft, user=engineer, revision=None, node_id="fixed", changes={"title": "New"}
    )
    tree = fresh(tree_draft)
    assert tree.tree_structure["children"][1]["title"] == "New"
    assert not tree.has_working_copy


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_never_lose_each_other(account, owner):
    """Two tabs adding at once: the row lock (PostgreSQL) or the immediate write transaction
    (SQLite) serialises them, so every node arrives."""
    tree = TreeFactory(account=account, author=owner, status=TreeStatus.DRAFT)
    errors: list[Exception] = []

    def tab(name: str) -> None:
        try:
            for number in range(10):
                editor.tree_node_add(
                    tree=tree,
                    user=owner,
                    revision=None,
                    parent_id="root",
                    node_type="solution",
                    text=f"{name} {number}",
                )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    tree = fresh(tree)
    assert len(tree.tree_structure["children"]) == 2 + 20
    assert tree.revision == 20
