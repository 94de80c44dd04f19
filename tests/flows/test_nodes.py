"""The flow format table (flows/nodes.py): it covers SPEC §3.1/§3.2, walk() and heading() never
raise on hostile input, and the editor, the pages and the runner take their names and choices
from it."""

import re

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import editor, nodes, structure
from flows.models import Tree, TreeStatus, TreeType
from sessions import runtime
from sessions.models import FlowSession
from tests.factories import TreeFactory

HTMX = {"HTTP_HX_REQUEST": "true"}

# --- the table covers the spec --------------------------------------------------------------

# SPEC §3.1: every field each node type may carry (besides id and type).
SPEC_FIELDS = {
    "decision": {"question", "description", "options"},
    "action": {"title", "description", "commands", "next_node_id"},
    "solution": {"title", "description"},
    "section_header": {"title"},
    "procedure_step": {
        "title",
        "description",
        "content_type",
        "estimated_minutes",
        "commands",
        "expected_outcome",
        "verification_prompt",
        "warning_text",
        "reference_url",
        "library_visibility",
    },
    "procedure_end": set(),
}


def test_table_has_exactly_the_node_types_of_the_spec() -> None:
    assert nodes.NODE_TYPES == ("decision", "action", "solution")
    assert nodes.STEP_TYPES == ("section_header", "procedure_step", "procedure_end")
    assert set(nodes.NODE_TYPES_BY_NAME) == set(SPEC_FIELDS)


@pytest.mark.parametrize("name", list(SPEC_FIELDS))
def test_each_node_type_has_the_spec_fields_with_labels(name: str) -> None:
    kind = nodes.NODE_TYPES_BY_NAME[name]
    names = [spec.name for spec in kind.fields]
    assert SPEC_FIELDS[name] <= set(names)
    assert len(names) == len(set(names))  # no field listed twice
    assert kind.label and kind.noun == kind.label.lower()
    assert all(spec.label.strip() for spec in kind.fields)
    assert kind.heading_field in names


def test_required_fields_and_kinds_follow_the_spec() -> None:
    required = {kind.name: set(kind.required) for kind in nodes.NODE_TYPE_TABLE}
    assert required == {
        "decision": {"question"},
        "action": {"title", "next_node_id"},
        "solution": {"title"},
        "section_header": {"title"},
        "procedure_step": {"title"},
        "procedure_end": set(),
    }
    step = nodes.NODE_TYPES_BY_NAME["procedure_step"]
    kinds = {spec.name: spec.kind for spec in step.fields}
    assert kinds["reference_url"] == "url"
    assert kinds["estimated_minutes"] == "minutes"
    assert kinds["commands"] == "commands"
    assert kinds["content_type"] == kinds["library_visibility"] == "choice"
    assert nodes.field_names("commands") == {"commands"}
    assert nodes.field_names("target") == {"next_node_id"}
    assert nodes.field_names("links") == {"options"}
    assert nodes.NODE_TYPES_BY_NAME["decision"].has_children
    assert not any(nodes.NODE_TYPES_BY_NAME[n].has_children for n in ("action", "solution"))


def test_choices_and_intake_types_follow_the_spec_with_human_names() -> None:
    assert set(nodes.CONTENT_TYPES) == {"action", "informational", "verification", "warning"}
    assert set(nodes.LIBRARY_VISIBILITIES) == {"team", "public"}
    assert nodes.choice_label("content_type", "informational") == "Informational"
    assert nodes.choice_label("library_visibility", "team") == "Team only"
    assert nodes.choice_label("library_visibility", None) == "Inherit from flow"
    assert nodes.choice_label("content_type", "") == "Action"
    # The default is the blank choice, listed once (not "Action (default)" and "Action").
    labels = [label for _value, label in nodes.CONTENT_TYPE.form_choices()]
    assert labels == ["Action", "Informational", "Verification", "Warning"]
    assert nodes.choice_label("content_type", "odd") == "odd"  # shown as stored, not hidden
    assert set(nodes.INTAKE_TYPES) == {"text", "number", "select", "textarea"}
    assert {spec.name for spec in nodes.INTAKE_FIELDS} == {
        "name",
        "label",
        "type",
        "required",
        "options",
    }
    assert dict(nodes.intake_type_choices())["textarea"] == "Long text"


def test_flow_types_are_defined_once() -> None:
    assert nodes.TREE_TYPES == ("troubleshooting", "procedural", "maintenance")
    assert nodes.STEP_TREE_TYPES == ("procedural", "maintenance")
    assert TreeType.choices == nodes.TREE_TYPE_CHOICES
    # structure.py re-exports the same objects, so old imports keep working.
    for name in ("TREE_TYPES", "STEP_TREE_TYPES", "NODE_TYPES", "STEP_TYPES", "CONTENT_TYPES"):
        assert getattr(structure, name) is getattr(nodes, name)
    assert structure.LIBRARY_VISIBILITIES is nodes.LIBRARY_VISIBILITIES
    assert structure.INTAKE_TYPES is nodes.INTAKE_TYPES


_VALID_BY_KIND = {
    "text": "Some text",
    "longtext": "Line one\nline two",
    "url": "https://example.com/kb/1",
    "minutes": 5,
    "commands": [{"language": "shell", "label": "List", "code": "ls"}],
    "bool": True,
}


def _filled(kind: nodes.NodeType, node_id: str) -> dict:
    """A node with every field of its type set to a value of the field's kind."""
    node: dict = {"id": node_id, "type": kind.name}
    for spec in kind.fields:
        if spec.kind == "choice":
            node[spec.name] = spec.values[-1]
        elif spec.kind in _VALID_BY_KIND:
            node[spec.name] = _VALID_BY_KIND[spec.kind]
    return node


def test_a_node_with_every_table_field_set_is_valid_for_publish() -> None:
    """The table and the validator agree on what each type may carry."""
    types = nodes.NODE_TYPES_BY_NAME
    steps = {
        "steps": [
            _filled(types["section_header"], "head"),
            _filled(types["procedure_step"], "step"),
            _filled(types["procedure_end"], "end"),
        ]
    }
    assert structure.validate_structure("procedural", steps) == []
    action = {**_filled(types["action"], "act"), "next_node_id": "done"}
    tree = {
        **_filled(types["decision"], "root"),
        "options": [{"label": "Go", "next_node_id": "act"}],
        "children": [action, _filled(types["solution"], "done")],
    }
    assert structure.validate_structure("troubleshooting", tree) == []


def _checklist_with(step: dict) -> dict:
    end = {"id": "end", "type": "procedure_end", "title": "Done"}
    return {"steps": [step, end]}


def _fields_named(errors: list) -> set[str]:
    return {error.field for error in errors}


@pytest.mark.parametrize(
    ("kind", "bad"),
    [("text", ["x"]), ("longtext", 7), ("url", "javascript:alert(1)"), ("minutes", -1)],
)
def test_the_validator_checks_each_field_by_the_kind_the_table_gives_it(kind, bad) -> None:
    """Every field of a kind, on a draft save: no list of field names outside the table."""
    step_type = nodes.NODE_TYPES_BY_NAME["procedure_step"]
    names = step_type.names(kind)
    assert names
    for name in names:
        step = {"id": "s1", "type": "procedure_step", "title": "Check", name: bad}
        errors = structure.validate_structure(
            "procedural", _checklist_with(step), for_publish=False
        )
        assert name in _fields_named(errors), (name, errors)


@pytest.mark.parametrize("node_type", nodes.NODE_TYPE_TABLE, ids=lambda t: t.name)
def test_publish_requires_the_text_the_table_marks_required(node_type) -> None:
    for name in node_type.required_text:
        node = {"id": "n1", "type": node_type.name, name: "  "}
        if node_type.family == "steps":
            errors = structure.validate_structure(
                "procedural", _checklist_with(node), for_publish=True
            )
        else:
            errors = structure.validate_structure("troubleshooting", node, for_publish=True)
        assert any(e.field == name and e.node_id == "n1" for e in errors), (name, errors)
        # A draft may leave it blank.
        family = "procedural" if node_type.family == "steps" else "troubleshooting"
        draft = _checklist_with(node) if node_type.family == "steps" else node
        draft_errors = structure.validate_structure(family, draft, for_publish=False)
        assert name not in _fields_named(draft_errors)


# --- walk() ---------------------------------------------------------------------------------


def _tree() -> dict:
    return {
        "id": "root",
        "type": "decision",
        "children": [
            {"id": "a", "children": [{"id": "a1"}, {"id": "a2"}]},
            {"id": "b"},
        ],
    }


def test_walk_is_depth_first_in_document_order_with_where_each_node_sits() -> None:
    visits = list(nodes.walk("troubleshooting", _tree()))
    assert [v.node["id"] for v in visits] == ["root", "a", "a1", "a2", "b"]
    assert [v.depth for v in visits] == [0, 1, 2, 2, 1]
    assert [v.parent["id"] if v.parent else None for v in visits] == [
        None,
        "root",
        "a",
        "a",
        "root",
    ]
    assert [(v.index, v.is_first, v.is_last) for v in visits] == [
        (None, True, True),
        (0, True, False),
        (0, True, False),
        (1, False, True),
        (1, False, True),
    ]
    a2 = visits[3]
    assert a2.siblings is visits[1].node["children"] and a2.siblings[a2.index] is a2.node


def test_walk_reads_steps_in_order_and_skips_non_objects() -> None:
    data = {"steps": [{"id": "one"}, 7, None, {"id": "two"}, "x"]}
    for tree_type in ("procedural", "maintenance"):
        visits = list(nodes.walk(tree_type, data))
        assert [(v.node["id"], v.index, v.depth) for v in visits] == [("one", 0, 0), ("two", 3, 0)]
        assert visits[1].siblings is data["steps"] and visits[0].parent is None
    malformed = list(nodes.walk("procedural", data, malformed=True))
    assert [v.node for v in malformed][1:3] == [7, None] and len(malformed) == 5


def test_walk_survives_ten_thousand_levels() -> None:
    root: dict = {"id": "n0", "type": "decision"}
    node = root
    for level in range(1, 10_000):
        child = {"id": f"n{level}", "type": "decision"}
        node["children"] = [child]
        node = child
    visits = list(nodes.walk("troubleshooting", root))
    assert len(visits) == 10_000 and visits[-1].depth == 9_999
    assert nodes.heading(visits[-1].node) == "n9999"
    # With a limit, the too-deep node is still met (to be reported) but not entered.
    limited = list(nodes.walk("troubleshooting", root, max_depth=5))
    assert [v.depth for v in limited] == [0, 1, 2, 3, 4, 5, 6]


def test_walk_ends_on_cycles_of_objects_and_of_ids() -> None:
    looped: dict = {"id": "root", "type": "decision"}
    looped["children"] = [looped, {"id": "leaf"}]
    assert [v.node["id"] for v in nodes.walk("troubleshooting", looped)] == ["root", "leaf"]
    shared = {"id": "shared"}
    diamond = {"id": "root", "children": [{"id": "a", "children": [shared]}, shared]}
    assert [v.node["id"] for v in nodes.walk("troubleshooting", diamond)] == [
        "root",
        "a",
        "shared",
    ]
    # Links between ids loop (allowed in a flow); walk follows children only.
    ids_loop = {
        "id": "root",
        "options": [{"label": "Again", "next_node_id": "root"}],
        "next_node_id": "root",
        "children": [{"id": "root", "next_node_id": "root"}],
    }
    assert len(list(nodes.walk("troubleshooting", ids_loop))) == 2


HOSTILE = [
    None,
    1.5,
    "root",
    [],
    [{"id": "x"}],
    {},
    {"children": 1.5},
    {"children": [1, None, "a", [], {"id": "ok", "children": {}}]},
    {"steps": "x"},
    {"steps": [[], {}, {"id": []}]},
    {"id": [], "question": {}, "title": ["x"], "children": [{"id": {}}]},
]


@pytest.mark.parametrize("data", HOSTILE)
@pytest.mark.parametrize(
    "tree_type", ["troubleshooting", "procedural", "maintenance", "bogus", None, [], {}]
)
def test_walk_and_heading_never_raise_on_hostile_input(tree_type, data) -> None:
    for malformed in (False, True):
        for visit in nodes.walk(tree_type, data, malformed=malformed):
            assert malformed or isinstance(visit.node, dict)
            assert isinstance(nodes.heading(visit.node), str)
    assert isinstance(nodes.heading(data), str)
    # What the walk yields is what iter_nodes and node_index read.
    assert list(structure.iter_nodes(tree_type, data)) == [
        v.node for v in nodes.walk(tree_type, data)
    ]
    structure.node_index(tree_type, data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "type", "question", "title", "children", "steps", "x"]),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(tree_type=st.sampled_from(nodes.TREE_TYPES), data=JSON)
def test_walk_yields_only_objects_and_heading_only_text_for_any_json(tree_type, data) -> None:
    for visit in nodes.walk(tree_type, data):
        assert isinstance(visit.node, dict)
        heading = nodes.heading(visit.node)
        assert isinstance(heading, str) and heading


# --- heading() ------------------------------------------------------------------------------


def test_heading_prefers_question_then_title_then_id() -> None:
    assert nodes.heading({"question": "Q?", "title": "T", "id": "i"}) == "Q?"
    assert nodes.heading({"question": "  ", "title": "T", "id": "i"}) == "T"
    assert nodes.heading({"title": "", "id": "i"}) == "i"
    assert nodes.heading({"id": "i"}, with_id=False) == "(untitled)"
    assert nodes.heading({}) == "(untitled)"
    assert nodes.heading({}, fallback="node") == "node"


def test_heading_never_prints_a_value_that_is_not_text() -> None:
    deep: list = []
    for _ in range(10_000):
        deep = [deep]  # str() of this would recurse past the limit
    assert nodes.heading({"question": deep, "title": 5, "id": "kept"}) == "kept"
    assert nodes.heading({"question": {"a": 1}, "title": None, "id": []}) == "(untitled)"
    for value in (None, 3, "text", [], deep):
        assert nodes.heading(value) == "(untitled)"


# --- the pages read the table ---------------------------------------------------------------


def _options(body: str, name: str) -> list[tuple[str, str]]:
    """The (value, text) of each option of the select named `name`."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))


@pytest.fixture
def checklist(account, owner) -> Tree:
    structure_ = {
        "steps": [
            {"id": "prep", "type": "section_header", "title": "Preparation"},
            {
                "id": "check",
                "type": "procedure_step",
                "title": "Check the disk",
                "content_type": "informational",
                "library_visibility": "public",
            },
            {"id": "end", "type": "procedure_end", "title": "Done"},
        ]
    }
    return TreeFactory(
        account=account,
        author=owner,
        status=TreeStatus.DRAFT,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=structure_,
    )


def test_step_form_choices_are_the_tables_choices(client, engineer, checklist) -> None:
    client.force_login(engineer)
    path = reverse("flows:editor_node_form", args=[checklist.pk, "check"])
    body = client.get(path, **HTMX).content.decode()
    assert _options(body, "content_type") == nodes.CONTENT_TYPE.form_choices()
    # Public stays on offer to an engineer only because this step is public already.
    assert _options(body, "library_visibility") == nodes.LIBRARY_VISIBILITY.form_choices()
    assert _options(body, "library_visibility")[0] == ("", "Inherit from flow")
    assert "Kind of step" in body and "Library visibility" in body
    # The saved values are the selected ones.
    assert re.search(r'<option value="informational"[^>]*selected', body)
    assert re.search(r'<option value="public"[^>]*selected', body)


def test_add_forms_and_intake_types_are_labelled_from_the_table(
    client, engineer, checklist, account, owner
) -> None:
    client.force_login(engineer)
    body = client.get(reverse("flows:edit", args=[checklist.pk])).content.decode()
    labels = {name: kind.label for name, kind in nodes.NODE_TYPES_BY_NAME.items()}
    assert _options(body, "step_type") == [
        ("procedure_step", labels["procedure_step"]),
        ("section_header", labels["section_header"]),
    ]
    intake_labels = dict(nodes.INTAKE_TYPE_TABLE)
    assert sorted(_options(body, "field_type")) == sorted(intake_labels.items())
    # The step list names kinds and choices in words, not stored values.
    assert ">Informational</span>" in body and "Library: Public" in body
    assert labels["section_header"] in body

    tree = TreeFactory(account=account, author=owner, status=TreeStatus.DRAFT)
    path = reverse("flows:edit", args=[tree.pk])
    body = client.get(path, {"open": "root"}).content.decode()
    assert _options(body, "node_type") == [
        ("action", labels["action"]),
        ("decision", labels["decision"]),
        ("solution", labels["solution"]),
    ]
    # The id is there for "Show ids", hidden by default.
    assert '<span class="node-id"> · id <code>root</code></span>' in body


def test_detail_page_names_a_steps_kind_in_words(client, engineer, checklist) -> None:
    client.force_login(engineer)
    body = client.get(reverse("flows:detail", args=[checklist.pk])).content.decode()
    assert ">Informational</span>" in body and ">informational</span>" not in body


def test_editor_service_refuses_fields_the_table_does_not_give_a_type(engineer, checklist) -> None:
    with pytest.raises(editor.EditRefused) as refused:
        editor.tree_node_update(
            tree=checklist,
            user=engineer,
            revision=None,
            node_id="prep",
            changes={"reference_url": "https://example.com"},
        )
    assert (
        str(refused.value.errors[0])
        == "[node prep] reference_url: A section header has no reference_url."
    )
    stored = Tree.objects.get(pk=checklist.pk)
    assert "reference_url" not in structure.node_index("procedural", stored.tree_structure)["prep"]


# --- the runner reads the table -------------------------------------------------------------


def test_runner_shows_a_steps_fields_by_their_kind() -> None:
    session = FlowSession(
        tree_type="procedural",
        variables={"server": "web-01"},
        structure_snapshot={
            "steps": [
                {
                    "id": "s",
                    "type": "procedure_step",
                    "title": "Patch [VAR:server]",
                    "expected_outcome": "[VAR:server] is back",
                    "estimated_minutes": 4,
                    "content_type": "warning",
                    "reference_url": "javascript:alert(1)",
                    "library_visibility": "team",
                },
                {
                    "id": "t",
                    "type": "procedure_step",
                    "title": "Read",
                    "reference_url": "https://example.com/kb",
                },
                {"id": "end", "type": "procedure_end"},
            ]
        },
    )
    first, second = runtime.checklist(session)
    assert first.title == "Patch web-01"
    assert first.fields == {
        "content_type": "warning",
        "estimated_minutes": 4,
        "expected_outcome": "web-01 is back",
    }
    assert second.fields == {"reference_url": "https://example.com/kb"}
