"""Whatever is stored renders: rows saved before the shape rules (written raw here, as they were)
are repaired by the data migration, after which every page, the export and the runner answer."""

import importlib
import json
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse

from flows import structure
from flows.models import Tree, TreeStatus
from flows.structure import (
    MAX_DEPTH,
    MAX_ID_LEN,
    MAX_MINUTES,
    MAX_NODES,
    MAX_OPTIONS,
    MAX_TEXT,
    repair_intake_form,
    repair_structure,
    validate_intake_form,
    validate_structure,
)
from sessions import services as runs
from tests.factories import TreeFactory, procedural_structure, troubleshooting_structure

migration = importlib.import_module("flows.migrations.0003_repair_flow_content")


def _shape_ok(tree_type: str, data: Any) -> bool:
    return validate_structure(tree_type, data, for_publish=False) == []


# --- the pure repair ------------------------------------------------------------------------


def test_options_that_are_not_a_list_are_dropped():
    data = troubleshooting_structure()
    data["options"] = 1.5
    fixed = repair_structure("troubleshooting", data)
    assert _shape_ok("troubleshooting", fixed)
    assert "options" not in fixed
    assert fixed["children"][0]["title"] == "Restart the VPN service"  # the rest is kept


def test_a_link_that_is_not_text_is_cleared():
    data = troubleshooting_structure()
    data["options"][0]["next_node_id"] = {}
    fixed = repair_structure("troubleshooting", data)
    assert fixed["options"][0] == {"label": "Yes", "next_node_id": ""}
    assert fixed["options"][1] == {"label": "No", "next_node_id": "fixed"}
    assert _shape_ok("troubleshooting", fixed)


def test_bad_ids_are_rewritten_and_links_follow():
    data = troubleshooting_structure()
    data["children"][0]["id"] = "re/start"
    data["options"][0]["next_node_id"] = "re/start"
    data["children"][1]["id"] = ".."
    data["options"][1]["next_node_id"] = ".."
    fixed = repair_structure("troubleshooting", data)
    assert [child["id"] for child in fixed["children"]] == ["re-start", "solution"]
    assert [o["next_node_id"] for o in fixed["options"]] == ["re-start", "solution"]
    assert validate_structure("troubleshooting", fixed) == []  # still publishable


def test_a_step_id_that_is_a_list_gets_a_new_unique_id():
    data = procedural_structure()
    data["steps"][1]["id"] = []
    data["steps"][2]["id"] = "procedure_step"  # the name the repair would like to use
    fixed = repair_structure("procedural", data)
    assert [s["id"] for s in fixed["steps"]] == [
        "prep",
        "procedure_step-2",
        "procedure_step",
        "end",
    ]
    assert fixed["steps"][1]["title"] == "Take a snapshot"
    assert validate_structure("procedural", fixed) == []


def test_repeated_ids_keep_the_first_and_rename_the_rest():
    data = troubleshooting_structure()
    data["children"][1]["id"] = "restart"
    fixed = repair_structure("troubleshooting", data)
    assert [child["id"] for child in fixed["children"]] == ["restart", "restart-2"]
    assert _shape_ok("troubleshooting", fixed)


def test_non_http_links_are_removed_and_good_ones_kept():
    data = procedural_structure()
    data["steps"][1]["reference_url"] = "javascript:alert(1)"
    data["steps"][2]["reference_url"] = "https://learn.example.com/patching"
    fixed = repair_structure("procedural", data)
    assert "reference_url" not in fixed["steps"][1]
    assert fixed["steps"][2]["reference_url"] == "https://learn.example.com/patching"


def test_text_is_cleaned_numbers_written_out_and_containers_dropped():
    data = procedural_structure()
    step = data["steps"][1]
    step.update(
        title="Snap\x00shot \ud800",
        description=42,
        warning_text={"a": 1},
        expected_outcome="x" * (MAX_TEXT + 10),
        estimated_minutes=MAX_MINUTES * 3,
        content_type="note",
        library_visibility="team",
        commands=[{"code": "Get-VM", "language": 5}, "hostname", 7],
        **{"odd\x00key": "value"},
    )
    fixed = repair_structure("procedural", data)["steps"][1]
    assert fixed["title"] == "Snap\\u0000shot \\ud800"
    assert fixed["description"] == "42"
    assert "warning_text" not in fixed and "content_type" not in fixed
    assert len(fixed["expected_outcome"]) == MAX_TEXT
    assert fixed["estimated_minutes"] == MAX_MINUTES
    assert fixed["library_visibility"] == "team"
    assert fixed["commands"] == [
        {"language": "shell", "label": "", "code": "Get-VM"},
        {"language": "shell", "label": "", "code": "hostname"},
    ]
    assert fixed["odd\\u0000key"] == "value"


def test_unknown_types_are_guessed_so_content_stays_visible():
    data = troubleshooting_structure()
    data["children"] += [
        {"id": "q", "type": "question", "question": "Is it plugged in?"},
        {"id": "a", "type": 5, "title": "Plug it in", "next_node_id": "root"},
        {"id": "s", "title": "Done"},
        "junk",
    ]
    fixed = repair_structure("troubleshooting", data)
    assert [(c["id"], c["type"]) for c in fixed["children"][2:]] == [
        ("q", "decision"),
        ("a", "action"),
        ("s", "solution"),
    ]
    steps = repair_structure("maintenance", {"steps": [{"id": "x", "type": "task"}, 4]})
    assert steps == {"steps": [{"id": "x", "type": "procedure_step"}]}


def test_sizes_are_cut_to_the_limits():
    deep = node = {"id": "n0", "type": "decision", "question": "?", "options": []}
    for level in range(1, 5_000):
        child = {"id": f"n{level}", "type": "decision", "question": "?"}
        node["children"] = [child]
        node = child
    fixed = repair_structure("troubleshooting", deep)
    assert len(list(structure.iter_nodes("troubleshooting", fixed))) == MAX_DEPTH
    assert _shape_ok("troubleshooting", fixed)

    wide = troubleshooting_structure()
    wide["children"] = [{"id": f"s{i}", "type": "solution"} for i in range(5_000)]
    wide["options"] = [{"label": f"o{i}", "next_node_id": "s1"} for i in range(80)]
    fixed = repair_structure("troubleshooting", wide)
    assert len(list(structure.iter_nodes("troubleshooting", fixed))) == MAX_NODES
    assert len(fixed["options"]) == MAX_OPTIONS
    assert _shape_ok("troubleshooting", fixed)

    long_id = procedural_structure()
    long_id["steps"][1]["id"] = "s" * (MAX_ID_LEN + 1)
    nested = procedural_structure()
    nested["steps"][1]["extra"] = json.loads("[" * 300 + "]" * 300)
    for data in (long_id, nested):
        assert _shape_ok("procedural", repair_structure("procedural", data))


@pytest.mark.parametrize("tree_type", structure.TREE_TYPES)
@pytest.mark.parametrize("data", [None, 3, "text", [], {}, [1, {"id": "x"}], {"steps": 4}])
def test_anything_becomes_a_valid_draft(tree_type, data):
    assert _shape_ok(tree_type, repair_structure(tree_type, data))


def test_a_valid_structure_is_left_as_it_is():
    for tree_type, data in (
        ("troubleshooting", troubleshooting_structure()),
        ("procedural", procedural_structure()),
    ):
        assert repair_structure(tree_type, data) == data


def test_intake_form_repair():
    form = [
        {"name": "server name", "label": "", "type": "text", "required": "yes"},
        {"name": "server name", "label": "Again", "type": "select", "options": []},
        {"name": None, "label": "Colour", "type": "colour", "options": ["red", "", 5]},
        "junk",
        {"name": "ok", "label": "Fine", "type": "number", "required": True},
    ]
    fixed = repair_intake_form(form)
    assert validate_intake_form(fixed) == []
    assert fixed == [
        {"name": "server_name", "label": "server_name", "type": "text"},
        {"name": "server_name_2", "label": "Again", "type": "text", "options": []},
        {"name": "field3", "label": "Colour", "type": "text", "options": ["red"]},
        {"name": "ok", "label": "Fine", "type": "number", "required": True},
    ]
    assert repair_intake_form({"name": "x"}) == []
    assert len(repair_intake_form([{"name": f"f{i}"} for i in range(80)])) == 50


# --- the data migration on rows saved raw ---------------------------------------------------


def _raw(tree: Tree, **fields: Any) -> None:
    """Store content the way rows were stored before the shape rules: no checks at all."""
    Tree.objects.filter(pk=tree.pk).update(**fields)


def _broken_rows(account, owner) -> list[Tree]:
    options_number = troubleshooting_structure()
    options_number["options"] = 1.5
    dict_target = troubleshooting_structure()
    dict_target["options"][0]["next_node_id"] = {}
    slash_id = troubleshooting_structure()
    slash_id["children"][0]["id"] = "re/start"
    slash_id["options"][0]["next_node_id"] = "re/start"
    list_id = procedural_structure()
    list_id["steps"][1]["id"] = []
    javascript = procedural_structure()
    javascript["steps"][1]["reference_url"] = "javascript:alert(1)"
    rows = []
    for tree_type, data, status in (
        ("troubleshooting", options_number, TreeStatus.DRAFT),
        ("troubleshooting", dict_target, TreeStatus.PUBLISHED),
        ("troubleshooting", slash_id, TreeStatus.DRAFT),
        ("procedural", list_id, TreeStatus.PUBLISHED),
        ("maintenance", javascript, TreeStatus.PUBLISHED),
    ):
        tree = TreeFactory(account=account, author=owner, tree_type=tree_type, status=status)
        _raw(tree, tree_structure=data)
        rows.append(tree)
    # A published flow whose working copy and intake form are broken.
    working = TreeFactory(account=account, author=owner, tree_type="procedural")
    _raw(
        working,
        draft_structure=options_number,
        draft_intake_form=[{"name": "a b", "label": 3}],
        intake_form={"name": "x"},
    )
    rows.append(working)
    return rows


def _pages(tree: Tree) -> list[str]:
    return [
        reverse("flows:detail", args=[tree.pk]),
        reverse("flows:edit", args=[tree.pk]),
        reverse("flows:editor_preview", args=[tree.pk]),
        reverse("flows:edit_json", args=[tree.pk]),
        reverse("flows:export", args=[tree.pk]),
        f"/api/flows/{tree.pk}/",
        f"/api/flows/{tree.pk}/export/",
    ]


def test_migration_repairs_raw_rows_and_every_page_then_answers(account, owner, engineer):
    rows = _broken_rows(account, owner)
    good = TreeFactory(account=account, author=owner)
    untouched = Tree.objects.get(pk=good.pk)

    assert migration.repair_trees(django_apps, None) == len(rows)

    client = Client(raise_request_exception=False)
    client.force_login(owner)
    for tree in rows:
        fresh = Tree.objects.get(pk=tree.pk)
        assert fresh.revision == tree.revision + 1
        for data in (fresh.tree_structure, fresh.draft_structure):
            assert data is None or _shape_ok(fresh.tree_type, data)
        for form in (fresh.intake_form, fresh.draft_intake_form):
            assert form is None or validate_intake_form(form) == []
        for url in _pages(fresh):
            assert client.get(url).status_code == 200, url
    # A flow that was fine is not rewritten at all.
    assert Tree.objects.get(pk=good.pk).tree_structure == untouched.tree_structure
    assert Tree.objects.get(pk=good.pk).revision == untouched.revision
    assert migration.repair_trees(django_apps, None) == 0  # and a second run finds nothing


def test_repaired_published_flows_can_still_be_run(account, owner, engineer):
    rows = [tree for tree in _broken_rows(account, owner) if tree.status == "published"]
    migration.repair_trees(django_apps, None)
    client = Client(raise_request_exception=False)
    client.force_login(engineer)
    for tree in rows:
        session = runs.session_start(tree=Tree.objects.get(pk=tree.pk), user=engineer)
        for url in (
            reverse("sessions:run", args=[session.pk]),
            reverse("sessions:detail", args=[session.pk]),
            reverse("sessions:export", args=[session.pk]) + "?format=markdown",
        ):
            assert client.get(url).status_code == 200, url


def test_migration_helper_is_pure_on_content():
    content = {
        "tree_structure": {"steps": [{"id": "a/b", "type": "procedure_step"}]},
        "intake_form": [],
        "draft_structure": None,
        "draft_intake_form": None,
    }
    changes = migration.repaired_content("procedural", content)
    assert changes == {"tree_structure": {"steps": [{"id": "a-b", "type": "procedure_step"}]}}
    assert content["tree_structure"]["steps"][0]["id"] == "a/b"  # the input is not changed
