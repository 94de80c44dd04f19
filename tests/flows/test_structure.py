"""Tests for flows/structure.py: parsing, normalising and validating flow JSON (no database)."""

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from flows import structure
from flows.structure import (
    MAX_DEPTH,
    MAX_ERRORS,
    MAX_ID_LEN,
    MAX_INTAKE_FIELDS,
    MAX_NODES,
    MAX_OPTIONS,
    MAX_TEXT,
    StructureError,
    StructureInvalid,
    empty_structure,
    fill_variables,
    iter_nodes,
    node_index,
    normalise_commands,
    normalise_structure,
    parse_json,
    validate_intake_form,
    validate_structure,
    variables_used,
)

# The SPEC §3.1 example: "restart" loops back to the root.
SONICWALL = {
    "id": "root",
    "type": "decision",
    "question": "Does the tunnel show as down on both peers?",
    "options": [
        {"label": "Yes", "next_node_id": "restart"},
        {"label": "No", "next_node_id": "fixed"},
    ],
    "children": [
        {
            "id": "restart",
            "type": "action",
            "title": "Restart the VPN service",
            "description": "Bounce the tunnel from the firewall UI.",
            "commands": [{"language": "shell", "label": "Renegotiate", "code": "..."}],
            "next_node_id": "root",
        },
        {
            "id": "fixed",
            "type": "solution",
            "title": "Tunnel restored",
            "description": "Traffic passes.",
        },
    ],
}

TUNNEL = "'Does the tunnel show as down on both peers?'"  # messages name a node by its heading

ONBOARDING = {
    "steps": [
        {"id": "prep", "type": "section_header", "title": "Preparation"},
        {
            "id": "create-user",
            "type": "procedure_step",
            "title": "Create the user [VAR:username]",
            "description": "Create the account in the Microsoft 365 admin centre.",
            "content_type": "action",
            "estimated_minutes": 5,
            "commands": "New-MgUser -DisplayName '[VAR:display_name]'",
            "expected_outcome": "The user appears in the user list.",
            "reference_url": "https://learn.microsoft.com/",
            "library_visibility": "team",
        },
        {
            "id": "verify",
            "type": "procedure_step",
            "title": "Verify sign-in",
            "content_type": "verification",
            "estimated_minutes": None,
            "verification_prompt": "Could the user sign in?",
            "warning_text": "Do not share the temporary password by e-mail.",
        },
        {"id": "end", "type": "procedure_end", "title": "Done"},
    ]
}

Mutation = Callable[[Any], Any]


def _walk_to(data: Any, path: tuple) -> tuple[Any, Any]:
    *parents, last = path
    for key in parents:
        data = data[key]
    return data, last


def set_(path: tuple, value: Any) -> Mutation:
    """Mutation that sets the value at ``path`` (keys and list indexes)."""

    def mutate(data: Any) -> Any:
        parent, last = _walk_to(data, path)
        parent[last] = value
        return data

    return mutate


def drop(path: tuple) -> Mutation:
    def mutate(data: Any) -> Any:
        parent, last = _walk_to(data, path)
        del parent[last]
        return data

    return mutate


def append(path: tuple, value: Any) -> Mutation:
    def mutate(data: Any) -> Any:
        parent, last = _walk_to(data, path)
        parent[last].append(value)
        return data

    return mutate


def replace(value: Any) -> Mutation:
    return lambda _data: value


def both(*mutations: Mutation) -> Mutation:
    def mutate(data: Any) -> Any:
        for mutation in mutations:
            data = mutation(data)
        return data

    return mutate


RESTART = ("children", 0)
FIXED = ("children", 1)
STEP = ("steps", 1)

INVALID_CASES = [
    # --- troubleshooting: document and root ---
    pytest.param(
        "troubleshooting", replace([]), None, None, "must be a JSON object", id="not-dict"
    ),
    pytest.param("diagnostic", None, None, "tree_type", "Unknown flow type", id="unknown-type"),
    pytest.param(
        "troubleshooting",
        replace({"id": "root", "type": "solution", "title": "Done"}),
        "root",
        "type",
        "The first node must be a question (a decision), not a solution: change its type.",
        id="root-not-decision",
    ),
    # --- ids and types ---
    pytest.param("troubleshooting", drop((*FIXED, "id")), None, "id", "has no id", id="no-id"),
    pytest.param(
        "troubleshooting", set_((*FIXED, "id"), 7), None, "id", "must be text", id="id-number"
    ),
    pytest.param(
        "troubleshooting",
        set_((*FIXED, "id"), "fixed it"),
        "fixed it",
        "id",
        "may only contain",
        id="id-not-slug",
    ),
    pytest.param(
        "troubleshooting",
        set_((*FIXED, "id"), "x" * (MAX_ID_LEN + 1)),
        None,
        "id",
        "the limit is 100",
        id="id-too-long",
    ),
    pytest.param(
        "troubleshooting", drop((*FIXED, "type")), "fixed", "type", "has no type", id="no-type"
    ),
    pytest.param(
        "troubleshooting",
        set_((*FIXED, "type"), "answer"),
        "fixed",
        "type",
        "Unknown node type 'answer'",
        id="unknown-node-type",
    ),
    pytest.param(
        "troubleshooting",
        set_((*FIXED, "id"), "restart"),
        "restart",
        "id",
        "Duplicate node id 'restart'",
        id="duplicate-id",
    ),
    # --- decisions and options ---
    pytest.param(
        "troubleshooting",
        set_(("question",), " "),
        "root",
        "question",
        "The first question is empty: write what the engineer is asked first.",
        id="no-question",
    ),
    pytest.param(
        "troubleshooting",
        set_(("question",), 42),
        "root",
        "question",
        "must be text",
        id="question-number",
    ),
    pytest.param(
        "troubleshooting",
        set_(("options",), []),
        "root",
        "options",
        f"{TUNNEL} has no answers yet: add at least one",
        id="no-options",
    ),
    pytest.param(
        "troubleshooting",
        set_(("options",), "Yes/No"),
        "root",
        "options",
        "must be a list",
        id="options-text",
    ),
    pytest.param(
        "troubleshooting",
        set_(("options",), [{"label": f"o{i}", "next_node_id": "fixed"} for i in range(51)]),
        "root",
        "options",
        f"more than {MAX_OPTIONS} options",
        id="too-many-options",
    ),
    pytest.param(
        "troubleshooting",
        set_(("options", 1), "No"),
        "root",
        "options[1]",
        "must be an object",
        id="option-not-object",
    ),
    pytest.param(
        "troubleshooting",
        set_(("options", 0, "label"), ""),
        "root",
        "options[0].label",
        f"{TUNNEL} → answer 1 has no label: name the answer",
        id="option-no-label",
    ),
    pytest.param(
        "troubleshooting",
        drop(("options", 0, "next_node_id")),
        "root",
        "options[0].next_node_id",
        f"{TUNNEL} → answer 'Yes' leads nowhere: pick the next step.",
        id="option-no-target",
    ),
    pytest.param(
        "troubleshooting",
        set_(("options", 1, "label"), " yes"),
        "root",
        "options[1].label",
        f"{TUNNEL} has two answers labelled 'yes': rename one.",
        id="duplicate-label",
    ),
    pytest.param(
        "troubleshooting",
        set_(("options", 1, "next_node_id"), "fix-it"),
        "root",
        "options[1].next_node_id",
        f"{TUNNEL} → answer 'No' leads to 'fix-it', which does not exist: pick the next step.",
        id="dangling-option",
    ),
    pytest.param(
        "troubleshooting",
        set_(("children",), {"id": "x"}),
        "root",
        "children",
        "must be a list of nodes",
        id="children-object",
    ),
    pytest.param(
        "troubleshooting",
        append(("children",), "oops"),
        "root",
        "children[2]",
        "must be a node object",
        id="child-not-object",
    ),
    # --- actions ---
    pytest.param(
        "troubleshooting",
        drop((*RESTART, "title")),
        "restart",
        "title",
        "An action has no title: give it a title.",
        id="action-no-title",
    ),
    pytest.param(
        "troubleshooting",
        drop((*RESTART, "next_node_id")),
        "restart",
        "next_node_id",
        "'Restart the VPN service' leads nowhere: pick what comes after this action.",
        id="action-no-next",
    ),
    pytest.param(
        "troubleshooting",
        set_((*RESTART, "next_node_id"), "reboot"),
        "restart",
        "next_node_id",
        "'Restart the VPN service' leads to 'reboot', which does not exist",
        id="action-dangling",
    ),
    pytest.param(
        "troubleshooting",
        set_((*RESTART, "children"), [{"id": "x", "type": "solution", "title": "X"}]),
        "restart",
        "children",
        "'Restart the VPN service' is an action, which cannot have nested nodes",
        id="action-children",
    ),
    pytest.param(
        "troubleshooting",
        set_((*RESTART, "description"), ["a"]),
        "restart",
        "description",
        "must be text, not a list",
        id="description-list",
    ),
    pytest.param(
        "troubleshooting",
        set_((*RESTART, "description"), "x" * (MAX_TEXT + 1)),
        "restart",
        "description",
        "the limit is 20,000",
        id="text-too-long",
    ),
    # --- commands ---
    pytest.param(
        "troubleshooting",
        set_((*RESTART, "commands"), 42),
        "restart",
        "commands",
        "must be text or a list",
        id="commands-number",
    ),
    pytest.param(
        "troubleshooting",
        set_((*RESTART, "commands"), ["ping 10.0.0.1"]),
        "restart",
        "commands[0]",
        "must be an object",
        id="command-text-item",
    ),
    pytest.param(
        "troubleshooting",
        set_((*RESTART, "commands"), [{"label": "Ping"}]),
        "restart",
        "commands[0]",
        "has no code",
        id="command-no-code",
    ),
    pytest.param(
        "troubleshooting",
        set_((*RESTART, "commands", 0, "code"), 5),
        "restart",
        "commands[0].code",
        "must be text",
        id="command-code-number",
    ),
    # --- solutions, reachability ---
    pytest.param(
        "troubleshooting",
        set_((*FIXED, "title"), None),
        "fixed",
        "title",
        "A solution has no title: give it a title.",
        id="solution-no-title",
    ),
    pytest.param(
        "troubleshooting",
        set_((*FIXED, "next_node_id"), "root"),
        "fixed",
        "next_node_id",
        "'Tunnel restored' is a solution, so the flow ends there: remove its next step.",
        id="solution-next",
    ),
    pytest.param(
        "troubleshooting",
        set_((*FIXED, "options"), [{"label": "a", "next_node_id": "root"}]),
        "fixed",
        "options",
        "'Tunnel restored' is a solution, so the flow ends there: remove its answers.",
        id="solution-options",
    ),
    pytest.param(
        "troubleshooting",
        append(("children",), {"id": "orphan", "type": "solution", "title": "Orphan"}),
        "orphan",
        None,
        "'Orphan' cannot be reached from the first question: link an answer or an action to it"
        ", or delete it.",
        id="unreachable",
    ),
    pytest.param(
        "troubleshooting",
        set_(FIXED, {"id": "fixed", "type": "action", "title": "Wait", "next_node_id": "root"}),
        None,
        None,
        "no solution",
        id="no-solution",
    ),
    # --- procedural ---
    pytest.param("procedural", replace([]), None, None, "must be a JSON object", id="p-not-dict"),
    pytest.param("procedural", drop(("steps",)), None, "steps", "no steps list", id="p-no-steps"),
    pytest.param(
        "procedural",
        set_(("steps",), {"a": 1}),
        None,
        "steps",
        "must be a list",
        id="p-steps-object",
    ),
    pytest.param(
        "procedural",
        set_(STEP, "Create user"),
        None,
        "steps[1]",
        "must be a step object",
        id="p-step-text",
    ),
    pytest.param(
        "procedural",
        drop((*STEP, "id")),
        None,
        "id",
        "Node at steps[1] has no id",
        id="p-no-id",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "type"), "task"),
        "create-user",
        "type",
        "Unknown node type 'task'",
        id="p-unknown-type",
    ),
    pytest.param(
        "procedural",
        drop((*STEP, "type")),
        "create-user",
        "type",
        "has no type",
        id="p-no-type",
    ),
    pytest.param(
        "procedural",
        set_(("steps", 2, "id"), "create-user"),
        "create-user",
        "id",
        "Duplicate node id",
        id="p-duplicate-id",
    ),
    pytest.param(
        "procedural",
        set_(("steps", 0, "title"), ""),
        "prep",
        "title",
        "The section header at step 1 has no title: give it a title.",
        id="p-header-no-title",
    ),
    pytest.param(
        "procedural",
        drop((*STEP, "title")),
        "create-user",
        "title",
        "Step 2 has no title: give it a title.",
        id="p-step-no-title",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "content_type"), "note"),
        "create-user",
        "content_type",
        "must be one of action",
        id="p-content-type",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "estimated_minutes"), -1),
        "create-user",
        "estimated_minutes",
        "0 or more",
        id="p-minutes-negative",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "estimated_minutes"), "5"),
        "create-user",
        "estimated_minutes",
        "whole number",
        id="p-minutes-text",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "estimated_minutes"), True),
        "create-user",
        "estimated_minutes",
        "whole number",
        id="p-minutes-bool",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "reference_url"), "ftp://files.example.com"),
        "create-user",
        "reference_url",
        "http:// or https://",
        id="p-url-scheme",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "library_visibility"), "private"),
        "create-user",
        "library_visibility",
        "team, public",
        id="p-visibility",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "expected_outcome"), {"text": "ok"}),
        "create-user",
        "expected_outcome",
        "must be text, not an object",
        id="p-outcome-object",
    ),
    pytest.param(
        "procedural",
        set_((*STEP, "commands"), {"code": "ls"}),
        "create-user",
        "commands",
        "must be text or a list",
        id="p-commands-object",
    ),
    pytest.param(
        "procedural",
        drop(("steps", 3)),
        None,
        "steps",
        "The checklist has no end step: add one as the last step.",
        id="p-no-end",
    ),
    pytest.param(
        "procedural",
        set_(("steps",), [ONBOARDING["steps"][3], *ONBOARDING["steps"][:3]]),
        "end",
        "type",
        "must be the last step",
        id="p-end-not-last",
    ),
    pytest.param(
        "procedural",
        append(("steps",), {"id": "end-2", "type": "procedure_end"}),
        "end-2",
        "type",
        "is a second end step",
        id="p-end-repeated",
    ),
    pytest.param(
        "procedural",
        set_(("steps",), [ONBOARDING["steps"][0], ONBOARDING["steps"][3]]),
        None,
        "steps",
        "The checklist has no steps yet: add at least one step.",
        id="p-no-steps-to-do",
    ),
    pytest.param(
        "maintenance",
        drop(("steps", 3)),
        None,
        "steps",
        "The checklist has no end step: add one as the last step.",
        id="m-no-end",
    ),
]


def _base(tree_type: str) -> dict:
    return copy.deepcopy(SONICWALL if tree_type == "troubleshooting" else ONBOARDING)


def _has(errors: list[StructureError], node_id: str | None, field: str | None, text: str) -> bool:
    return any(e.node_id == node_id and e.field == field and text in e.message for e in errors)


@pytest.mark.parametrize("tree_type", structure.TREE_TYPES)
def test_valid_examples_have_no_errors(tree_type: str) -> None:
    data = _base(tree_type)
    assert validate_structure(tree_type, data) == []
    assert validate_structure(tree_type, data, for_publish=False) == []


@pytest.mark.parametrize(("tree_type", "mutate", "node_id", "field", "text"), INVALID_CASES)
def test_invalid_structure_is_reported_on_the_node(
    tree_type: str, mutate: Mutation | None, node_id: str | None, field: str | None, text: str
) -> None:
    data = mutate(_base(tree_type)) if mutate else _base("troubleshooting")
    errors = validate_structure(tree_type, data)
    assert _has(errors, node_id, field, text), [str(e) for e in errors]


def test_invalid_cases_are_many_and_distinct() -> None:
    ids = [case.id for case in INVALID_CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


def test_structure_error_str_names_node_and_field() -> None:
    error = StructureError("restart", "next_node_id", "Points nowhere.")
    assert str(error) == "[node restart] next_node_id: Points nowhere."
    assert str(StructureError(None, None, "No solution.")) == "No solution."


def test_structure_invalid_carries_errors() -> None:
    errors = [StructureError("a", None, "Bad.")]
    invalid = StructureInvalid(errors)
    assert isinstance(invalid, ValueError)
    assert invalid.errors == errors
    assert "[node a] Bad." in str(invalid)


# --- parse_json -----------------------------------------------------------------------------


def _parse_error(text: Any, **kwargs: Any) -> str:
    with pytest.raises(StructureInvalid) as caught:
        parse_json(text, **kwargs)
    assert len(caught.value.errors) == 1
    return caught.value.errors[0].message


def test_parse_json_reads_text_bytes_and_bom() -> None:
    assert parse_json('{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_json(b'\xef\xbb\xbf{"a": "\xc3\xa9"}') == {"a": "é"}
    assert parse_json("\ufeff[]") == []


def test_parse_json_malformed_names_line_and_column() -> None:
    message = _parse_error('{\n  "id": "root",\n  "type" "decision"\n}')
    assert "line 3, column 10" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1, column 1"),
        ("[NaN]", "NaN is not valid JSON"),
        ("1" * 5000, "Invalid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (None, "Expected JSON text"),
        ("[" * 10_000 + "]" * 10_000, "nested too deeply"),
    ],
    ids=["empty", "nan", "huge-int", "bad-utf8", "not-text", "deep"],
)
def test_parse_json_rejects_bad_input_with_one_error(text: Any, expected: str) -> None:
    assert expected in _parse_error(text)


@pytest.mark.parametrize("text", ['"' + "x" * 100 + '"', ('"' + "x" * 100 + '"').encode()])
def test_parse_json_rejects_oversized_input(text: str | bytes) -> None:
    assert "larger than the limit of 50 bytes" in _parse_error(text, max_bytes=50)


def test_parse_json_counts_bytes_not_characters() -> None:
    text = json.dumps("é" * 30, ensure_ascii=False)  # 32 characters, 62 bytes
    assert "larger than the limit" in _parse_error(text, max_bytes=50)
    assert parse_json(text, max_bytes=62) == "é" * 30


# --- hostile sizes --------------------------------------------------------------------------


def _deep_tree(depth: int) -> dict:
    root = node = {"id": "n0", "type": "decision", "question": "?", "options": []}
    for level in range(1, depth):
        child = {"id": f"n{level}", "type": "decision", "question": "?", "options": []}
        node["children"] = [child]
        node = child
    return root


@pytest.mark.parametrize("for_publish", [True, False])
def test_ten_thousand_deep_tree_gives_an_error_not_an_exception(for_publish: bool) -> None:
    errors = validate_structure("troubleshooting", _deep_tree(10_000), for_publish=for_publish)
    assert errors == [
        StructureError(f"n{MAX_DEPTH}", None, f"Node is nested more than {MAX_DEPTH} levels deep.")
    ]


def test_tree_at_the_depth_limit_is_accepted_as_a_draft() -> None:
    assert validate_structure("troubleshooting", _deep_tree(MAX_DEPTH), for_publish=False) == []


def test_deep_tree_can_be_read_and_normalised() -> None:
    tree = _deep_tree(10_000)
    assert len(list(iter_nodes("troubleshooting", tree))) == 10_000
    assert len(node_index("troubleshooting", tree)) == 10_000
    copied = normalise_structure("troubleshooting", tree)
    assert len(list(iter_nodes("troubleshooting", copied))) == 10_000


def test_deeply_nested_value_inside_a_field_is_an_error() -> None:
    data = _base("troubleshooting")
    value: list = []
    data["children"][0]["description"] = value
    for _ in range(10_000):
        value.append([])
        value = value[0]
    errors = validate_structure("troubleshooting", data, for_publish=False)
    path = "description" + "[0]" * MAX_DEPTH
    message = f"Value is nested more than {MAX_DEPTH} levels deep."
    assert errors == [StructureError("restart", path, message)]


@pytest.mark.parametrize("for_publish", [True, False])
def test_five_thousand_nodes_give_an_error(for_publish: bool) -> None:
    tree = _base("troubleshooting")
    tree["children"] += [{"id": f"s{i}", "type": "solution", "title": "S"} for i in range(5_000)]
    steps = {
        "steps": [{"id": f"s{i}", "type": "procedure_step", "title": "S"} for i in range(5_000)]
    }
    tree_errors = validate_structure("troubleshooting", tree, for_publish=for_publish)
    step_errors = validate_structure("procedural", steps, for_publish=for_publish)
    assert tree_errors == [StructureError(None, None, f"The flow has more than {MAX_NODES} nodes.")]
    assert step_errors == [
        StructureError(None, "steps", f"The flow has more than {MAX_NODES} steps.")
    ]


def test_error_count_is_capped() -> None:
    tree = _base("troubleshooting")
    tree["children"] += [{"id": f"x{i}", "type": "mystery"} for i in range(500)]
    errors = validate_structure("troubleshooting", tree)
    assert len(errors) == MAX_ERRORS + 1
    assert errors[-1].message.startswith("Too many errors")


# --- drafts ---------------------------------------------------------------------------------


def test_draft_accepts_an_incomplete_but_well_shaped_structure() -> None:
    draft = _base("troubleshooting")
    draft["options"][0]["next_node_id"] = "not-written-yet"
    draft["question"] = ""
    draft["children"].append({"id": "later", "type": "action", "title": ""})
    assert validate_structure("troubleshooting", draft) != []
    assert validate_structure("troubleshooting", draft, for_publish=False) == []
    no_end = {"steps": [{"id": "a", "type": "procedure_step"}]}
    assert validate_structure("procedural", no_end, for_publish=False) == []


def test_draft_refuses_a_badly_shaped_node() -> None:
    draft = _base("troubleshooting")
    draft["children"].append({"type": "weird", "title": 5})
    errors = validate_structure("troubleshooting", draft, for_publish=False)
    assert [(e.field, e.message) for e in errors] == [
        ("id", "Node at children[2] of 'root' has no id."),
        ("type", "Unknown node type 'weird'; expected one of decision, action, solution."),
        ("title", "title must be text, not a number."),
    ]
    junk = {"steps": [{"id": "a", "type": "procedure_step"}, "junk"]}
    errors = validate_structure("procedural", junk, for_publish=False)
    assert errors == [StructureError(None, "steps[1]", "steps[1] must be a step object, not text.")]


@pytest.mark.parametrize(
    ("tree_type", "data", "text"),
    [
        ("troubleshooting", ["not", "a", "tree"], "must be a JSON object"),
        ("procedural", "steps", "must be a JSON object"),
        ("procedural", {"steps": [{"id": "a", "title": "x" * (MAX_TEXT + 1)}]}, "the limit"),
        ("maintenance", {"steps": [{"id": "a" * (MAX_ID_LEN + 1)}]}, "the limit is 100"),
        ("checklist", {"steps": []}, "Unknown flow type 'checklist'"),
    ],
    ids=["tree-list", "steps-text", "long-text", "long-id", "unknown-type"],
)
def test_draft_rejects_unsafe_structure(tree_type: str, data: Any, text: str) -> None:
    errors = validate_structure(tree_type, data, for_publish=False)
    assert any(text in e.message for e in errors), errors


def test_empty_structures_are_valid_drafts_but_not_publishable() -> None:
    for tree_type in structure.TREE_TYPES:
        starter = empty_structure(tree_type)
        assert validate_structure(tree_type, starter, for_publish=False) == []
        assert validate_structure(tree_type, starter) != []
    assert empty_structure("procedural")["steps"][-1]["type"] == "procedure_end"
    assert empty_structure("troubleshooting")["type"] == "decision"
    with pytest.raises(StructureInvalid):
        empty_structure("nonsense")


# --- normalising ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ipconfig /all", [{"language": "shell", "label": "", "code": "ipconfig /all"}]),
        (None, []),
        ("", []),
        ("   ", []),
        (
            [{"code": "Get-Service", "language": "powershell", "label": "Services"}],
            [{"language": "powershell", "label": "Services", "code": "Get-Service"}],
        ),
        ([{"label": "Empty"}], [{"language": "shell", "label": "Empty", "code": ""}]),
        (
            [{"code": "ls", "language": "", "label": 3}],
            [{"language": "shell", "label": "", "code": "ls"}],
        ),
        (42, []),
        (
            [7, None, {"code": 5}, ["ls"], "whoami"],
            [{"language": "shell", "label": "", "code": "whoami"}],
        ),
        ({"code": "ls"}, [{"language": "shell", "label": "", "code": "ls"}]),
    ],
    ids=[
        "string",
        "none",
        "empty",
        "blank",
        "list",
        "missing-code",
        "bad-keys",
        "number",
        "junk-items",
        "single-object",
    ],
)
def test_normalise_commands(value: Any, expected: list[dict[str, str]]) -> None:
    assert normalise_commands(value) == expected


def test_normalise_structure_copies_and_normalises_every_node() -> None:
    tree = _base("troubleshooting")
    tree["children"][1]["commands"] = "Test-Connection fw01"
    snapshot = copy.deepcopy(tree)
    result = normalise_structure("troubleshooting", tree)
    assert tree == snapshot
    assert result["children"][1]["commands"] == [
        {"language": "shell", "label": "", "code": "Test-Connection fw01"}
    ]
    assert result["children"][0]["commands"] == tree["children"][0]["commands"]
    assert result["children"][0]["commands"] is not tree["children"][0]["commands"]
    assert "commands" not in result


def test_normalise_structure_normalises_steps_without_touching_input() -> None:
    steps = _base("procedural")
    snapshot = copy.deepcopy(steps)
    result = normalise_structure("procedural", steps)
    assert steps == snapshot
    assert result["steps"][1]["commands"][0]["code"].startswith("New-MgUser")
    assert "commands" not in result["steps"][0]


@pytest.mark.parametrize(
    ("tree_type", "data"),
    [
        ("troubleshooting", None),
        ("troubleshooting", [1, {"commands": 2}]),
        ("procedural", {"steps": "many"}),
        ("procedural", {"steps": [None, {"commands": {"x": 1}}]}),
        ("unknown", {"commands": "ls"}),
    ],
)
def test_normalise_structure_tolerates_weird_input(tree_type: str, data: Any) -> None:
    snapshot = copy.deepcopy(data)
    result = normalise_structure(tree_type, data)
    assert data == snapshot
    if tree_type == "unknown" or not isinstance(data, dict):
        assert result == data


# --- reading helpers ------------------------------------------------------------------------


def test_iter_nodes_is_depth_first_in_document_order() -> None:
    tree = _base("troubleshooting")
    tree["children"][0]["children"] = [{"id": "inner"}]
    ids = [node.get("id") for node in iter_nodes("troubleshooting", tree)]
    assert ids == ["root", "restart", "inner", "fixed"]
    assert [n["id"] for n in iter_nodes("maintenance", _base("maintenance"))] == [
        "prep",
        "create-user",
        "verify",
        "end",
    ]
    assert list(iter_nodes("procedural", {"steps": [1, "x"]})) == []
    assert list(iter_nodes("troubleshooting", "root")) == []


def test_node_index_keeps_the_first_of_duplicate_ids() -> None:
    tree = _base("troubleshooting")
    tree["children"].append({"id": "fixed", "type": "solution", "title": "Second"})
    index = node_index("troubleshooting", tree)
    assert set(index) == {"root", "restart", "fixed"}
    assert index["fixed"]["title"] == "Tunnel restored"


def test_variables_used_finds_names_in_all_text() -> None:
    assert variables_used("procedural", _base("procedural")) == {"username", "display_name"}
    tree = _base("troubleshooting")
    tree["options"][0]["label"] = "Yes on [VAR:peer]"
    tree["children"][0]["commands"][0]["code"] = "ping [VAR:peer_ip] [VAR:bad name]"
    assert variables_used("troubleshooting", tree) == {"peer", "peer_ip"}


def test_fill_variables_replaces_known_names_only() -> None:
    text = "Create [VAR:username] on [VAR:tenant-id] for [VAR:missing]"
    filled = fill_variables(text, {"username": "jdoe", "tenant-id": "contoso"})
    assert filled == "Create jdoe on contoso for [VAR:missing]"
    assert fill_variables("[VAR:a][VAR:a]", {"a": "[VAR:a]"}) == "[VAR:a][VAR:a]"


# --- intake form ----------------------------------------------------------------------------

INTAKE = [
    {"name": "username", "label": "User name", "type": "text", "required": True},
    {"name": "seats", "label": "Seats", "type": "number", "required": False},
    {"name": "licence", "label": "Licence", "type": "select", "options": ["E3", "E5"]},
    {"name": "notes_1", "label": "Notes", "type": "textarea"},
]


def _intake(index: int, **changes: Any) -> list[dict]:
    """INTAKE with field ``index`` changed; a value of ``...`` removes that key."""
    form = copy.deepcopy(INTAKE)
    form[index].update(changes)
    return [{k: v for k, v in field.items() if v is not ...} for field in form]


def test_valid_intake_form_has_no_errors() -> None:
    assert validate_intake_form(INTAKE) == []
    assert validate_intake_form([]) == []
    assert validate_intake_form(None) == []


@pytest.mark.parametrize(
    ("data", "node_id", "field", "text"),
    [
        ({"fields": []}, None, None, "must be a list of fields"),
        (["username"], None, None, "Field 1 must be an object"),
        (_intake(0, name=...), None, "name", "Intake question 1 has no variable name"),
        (_intake(0, name="user name"), "user name", "name", "may only contain"),
        (_intake(1, name="username"), "username", "name", "Two fields are named 'username'"),
        (_intake(0, label=""), "username", "label", "has no label"),
        (_intake(0, type="date"), "username", "type", "Unknown field type 'date'"),
        (_intake(0, type=...), "username", "type", "has no answer type: choose one"),
        (_intake(0, required="yes"), "username", "required", "true or false"),
        (_intake(2, options=[]), "licence", "options", "needs at least one option"),
        (_intake(2, options="E3,E5"), "licence", "options", "must be a list"),
        (_intake(2, options=["E3", ""]), "licence", "options[1]", "non-empty text"),
        (
            [dict(INTAKE[0], name=f"f{i}") for i in range(MAX_INTAKE_FIELDS + 1)],
            None,
            None,
            "more than 50 fields",
        ),
    ],
    ids=[
        "not-list",
        "not-object",
        "no-name",
        "bad-name",
        "duplicate-name",
        "no-label",
        "unknown-type",
        "no-type",
        "required-text",
        "select-no-options",
        "options-text",
        "empty-option",
        "too-many",
    ],
)
def test_invalid_intake_form(data: Any, node_id: str | None, field: str | None, text: str) -> None:
    errors = validate_intake_form(data)
    assert _has(errors, node_id, field, text), [str(e) for e in errors]
