"""Reordering in the editors: the arrow buttons and drag and drop share one service per list
(steps and sections, a decision's options, intake questions); the end step stays last."""

import pytest
from django.urls import reverse

from flows import editor, structure
from flows.models import Tree, TreeStatus, TreeType
from tests.factories import TreeFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def checklist_draft(account, owner):
    return TreeFactory(
        account=account,
        author=owner,
        status=TreeStatus.DRAFT,
        tree_type=TreeType.PROCEDURAL,
        intake_form=[
            {"name": "server", "label": "Server", "type": "text"},
            {"name": "window", "label": "Window", "type": "text"},
            {"name": "owner", "label": "Owner", "type": "text"},
        ],
    )


@pytest.fixture
def tree_draft(account, owner):
    return TreeFactory(account=account, author=owner, status=TreeStatus.DRAFT)


def step_ids(tree: Tree) -> list[str]:
    tree = Tree.objects.get(pk=tree.pk)
    return [n["id"] for n in structure.iter_nodes(tree.tree_type, tree.editing_structure)]


def post(client, name: str, tree: Tree, *args, **data):
    data = {"revision": Tree.objects.get(pk=tree.pk).revision, **data}
    return client.post(reverse(f"flows:{name}", args=[tree.pk, *args]), data, **HTMX)


def test_a_step_moves_to_a_dropped_position_and_never_past_the_end(engineer, checklist_draft):
    assert step_ids(checklist_draft) == ["prep", "snapshot", "patch", "end"]
    editor.tree_node_move(tree=checklist_draft, user=engineer, revision=None, node_id="patch", to=0)
    assert step_ids(checklist_draft) == ["patch", "prep", "snapshot", "end"]
    editor.tree_node_move(
        tree=checklist_draft, user=engineer, revision=None, node_id="patch", to=99
    )
    assert step_ids(checklist_draft) == ["prep", "snapshot", "patch", "end"]
    # The arrows are the same path, one place at a time.
    editor.tree_node_move(
        tree=checklist_draft, user=engineer, revision=None, node_id="patch", direction="up"
    )
    assert step_ids(checklist_draft) == ["prep", "patch", "snapshot", "end"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"to": "first"}, "a position in the list"),
        ({"direction": "left"}, "Move up or down"),
        ({}, "Move up or down"),
    ],
)
def test_a_move_without_a_place_is_refused(engineer, checklist_draft, arguments, message):
    with pytest.raises(editor.EditRefused) as refused:
        editor.tree_node_move(
            tree=checklist_draft, user=engineer, revision=None, node_id="patch", **arguments
        )
    assert message in str(refused.value)


def test_the_end_step_cannot_be_dragged(engineer, checklist_draft):
    with pytest.raises(editor.EditRefused, match="always last"):
        editor.tree_node_move(
            tree=checklist_draft, user=engineer, revision=None, node_id="end", to=0
        )


def test_dropping_a_step_posts_its_new_place(client, engineer, checklist_draft):
    client.force_login(engineer)
    response = post(client, "editor_node_move", checklist_draft, "snapshot", to="2")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert step_ids(checklist_draft) == ["prep", "patch", "snapshot", "end"]
    response = post(client, "editor_node_move", checklist_draft, "snapshot", to="-1")
    assert response.status_code == 422
    assert "a position in the list" in response.content.decode()


def test_options_reorder_by_drop_and_by_arrows(client, engineer, tree_draft):
    client.force_login(engineer)
    post(client, "editor_option_move", tree_draft, "root", 1, to="0")
    root = Tree.objects.get(pk=tree_draft.pk).editing_structure
    assert [o["label"] for o in root["options"]] == ["No", "Yes"]
    post(client, "editor_option_move", tree_draft, "root", 0, direction="down")
    root = Tree.objects.get(pk=tree_draft.pk).editing_structure
    assert [o["label"] for o in root["options"]] == ["Yes", "No"]
    assert root["options"][0]["next_node_id"] == "restart"  # the targets move with them


def test_the_open_decision_shows_drag_handles_and_arrow_buttons(client, engineer, tree_draft):
    client.force_login(engineer)
    body = client.get(reverse("flows:edit", args=[tree_draft.pk]), {"open": "root"}).content
    body = body.decode()
    assert 'data-sortable="options"' in body
    assert "Move option Yes down" in body and "Move option No up" in body
    move = reverse("flows:editor_option_move", args=[tree_draft.pk, "root", 1])
    assert f'data-move-url="{move}"' in body


def test_intake_questions_reorder_by_drop(client, engineer, checklist_draft):
    client.force_login(engineer)
    post(client, "editor_intake_move", checklist_draft, 2, to="0")
    form = Tree.objects.get(pk=checklist_draft.pk).editing_intake_form
    assert [f["name"] for f in form] == ["owner", "server", "window"]


def test_outsider_cannot_reorder(client, outsider, checklist_draft):
    client.force_login(outsider)
    assert post(client, "editor_node_move", checklist_draft, "patch", to="0").status_code == 404
    assert post(client, "editor_option_move", checklist_draft, "x", 0, to="0").status_code == 404
    assert step_ids(checklist_draft) == ["prep", "snapshot", "patch", "end"]


def test_reorder_answers_in_bounded_queries(
    client, engineer, tree_draft, checklist_draft, django_assert_max_num_queries
):
    client.force_login(engineer)
    with django_assert_max_num_queries(14):
        post(client, "editor_option_move", tree_draft, "root", 1, to="0")
    with django_assert_max_num_queries(14):
        post(client, "editor_intake_move", checklist_draft, 2, to="0")
