"""The diff engine and the three-way merge, on both flow kinds."""

from flows.diff import diff_diagram, structure_diff, word_diff
from flows.merge import merge
from tests.factories import procedural_structure, troubleshooting_structure


def kinds(diff):
    return {c.id: c.change for c in diff.changes}


def step(node_id, title, **extra):
    return {"id": node_id, "type": "procedure_step", "title": title, **extra}


def checklist(*steps):
    return {"steps": list(steps)}


# --- diff: checklists -----------------------------------------------------------------------


def test_checklist_rename_add_remove_and_changed_commands():
    before = procedural_structure()
    after = procedural_structure()
    after["steps"][2]["title"] = "Install security updates"
    after["steps"][1]["commands"][0]["code"] = "Get-VM | Checkpoint-VM"
    del after["steps"][0]
    after["steps"].insert(2, step("reboot", "Reboot"))
    diff = structure_diff("procedural", before, after)
    assert kinds(diff) == {
        "snapshot": "changed",
        "patch": "changed",
        "reboot": "added",
        "prep": "removed",
    }
    patch = diff.by_id["patch"].fields[0]
    assert patch.name == "title"
    assert [(w.op, w.text) for w in patch.words] == [
        ("equal", "Install "),
        ("insert", "security "),
        ("equal", "updates"),
    ]
    commands = diff.by_id["snapshot"].fields[0]
    assert commands.name == "commands"
    assert ("insert", "| Checkpoint-VM") in [(w.op, w.text) for w in commands.words] or any(
        w.op == "insert" and "Checkpoint-VM" in w.text for w in commands.words
    )
    # Insertions and removals move nothing.
    assert not any(c.moved for c in diff.changes)


def test_checklist_swap_moves_one_step_not_every_step_after_it():
    before = checklist(step("a", "A"), step("b", "B"), step("c", "C"), step("d", "D"))
    after = checklist(step("a", "A"), step("c", "C"), step("b", "B"), step("d", "D"))
    diff = structure_diff("maintenance", before, after)
    assert list(kinds(diff).values()) == ["moved"]
    assert set(kinds(diff)) <= {"b", "c"}


def test_identical_structures_have_no_diff():
    assert structure_diff("procedural", procedural_structure(), procedural_structure()).is_empty


# --- diff: troubleshooting trees ------------------------------------------------------------


def test_tree_move_to_another_parent_and_added_and_removed_branches():
    before = troubleshooting_structure()
    after = troubleshooting_structure()
    restart = after["children"][0]
    # A new decision branch under the root; the restart action moves under it, edited.
    branch = {
        "id": "check",
        "type": "decision",
        "question": "Is the WAN link up?",
        "options": [{"label": "Yes", "next_node_id": "restart"}],
        "children": [restart],
    }
    restart["commands"] = "diag vpn tunnel flush"
    after["children"] = [branch]  # "fixed" is removed
    after["options"] = [{"label": "Yes", "next_node_id": "check"}]
    diff = structure_diff("troubleshooting", before, after)
    assert kinds(diff) == {
        "root": "changed",  # its options no longer point at "fixed"
        "check": "added",
        "restart": "changed",
        "fixed": "removed",
    }
    moved = diff.by_id["restart"]
    assert moved.moved and (moved.before_parent, moved.after_parent) == ("root", "check")
    words = [(w.op, w.text) for w in moved.fields[0].words]
    assert ("delete", "reset") in words and ("insert", "flush") in words
    as_json = moved.as_json()
    assert as_json["fields"]["parent"] == {"before": "root", "after": "check"}
    assert as_json["change"] == "changed" and as_json["moved"] is True


def test_tree_sibling_reorder_is_a_move():
    before = troubleshooting_structure()
    after = troubleshooting_structure()
    after["children"].reverse()
    diff = structure_diff("troubleshooting", before, after)
    assert list(kinds(diff).values()) == ["moved"]


def test_diagram_marks_every_change_with_a_sign():
    before = troubleshooting_structure()
    after = troubleshooting_structure()
    after["children"][1]["title"] = "Tunnel is up"
    del after["children"][0]
    after["options"] = [{"label": "No", "next_node_id": "fixed"}]
    diff = structure_diff("troubleshooting", before, after)
    drawing = diff_diagram("troubleshooting", after, diff)
    signs = {box.id: (box.change, box.sign) for box in drawing.boxes}
    assert signs["fixed"] == ("changed", "✎")
    assert signs["restart"] == ("removed", "−")
    assert signs["root"] == ("changed", "✎")


def test_word_diff_keeps_whitespace_and_handles_empty_sides():
    assert [(w.op, w.text) for w in word_diff("", "New text")] == [("insert", "New text")]
    assert [(w.op, w.text) for w in word_diff("a  b", "a  b")] == [("equal", "a  b")]


# --- three-way merge ------------------------------------------------------------------------


def titles(structure):
    return [(s["id"], s.get("title")) for s in structure["steps"]]


BASE = checklist(step("a", "A"), step("b", "B"), step("c", "C"))


def test_one_sided_changes_merge_on_their_own():
    theirs = checklist(step("a", "A from parent"), step("b", "B"), step("c", "C"), step("n", "N"))
    mine = checklist(step("a", "A"), step("b", "B mine"), step("c", "C"), step("m", "M"))
    result = merge("procedural", base=BASE, theirs=theirs, mine=mine)
    assert result.conflicts == []
    assert titles(result.structure) == [
        ("a", "A from parent"),
        ("b", "B mine"),
        ("c", "C"),
        ("n", "N"),
        ("m", "M"),
    ]


def test_both_sided_identical_changes_are_taken_once():
    same = checklist(step("a", "A2"), step("b", "B"), step("c", "C"))
    result = merge("procedural", base=BASE, theirs=same, mine=same)
    assert result.conflicts == [] and titles(result.structure) == titles(same)


def test_true_conflicts_are_listed_and_resolved_per_node():
    theirs = checklist(step("a", "A parent"), step("b", "B parent"), step("c", "C"))
    mine = checklist(step("a", "A mine"), step("b", "B mine"), step("c", "C"))
    result = merge("procedural", base=BASE, theirs=theirs, mine=mine)
    assert [(c.id, c.kind) for c in result.conflicts] == [
        ("a", "both_changed"),
        ("b", "both_changed"),
    ]
    assert len(result.unresolved) == 2
    resolved = merge(
        "procedural", base=BASE, theirs=theirs, mine=mine, resolutions={"a": "theirs", "b": "mine"}
    )
    assert resolved.unresolved == []
    assert titles(resolved.structure)[:2] == [("a", "A parent"), ("b", "B mine")]


def test_deleted_vs_edited_is_a_conflict_both_ways():
    theirs = checklist(step("a", "A"), step("c", "C parent"))  # deleted b, edited c
    mine = checklist(step("a", "A"), step("b", "B mine"))  # edited b, deleted c
    result = merge("procedural", base=BASE, theirs=theirs, mine=mine)
    assert {(c.id, c.kind) for c in result.conflicts} == {
        ("b", "deleted_in_parent"),
        ("c", "deleted_in_fork"),
    }
    take_theirs = merge(
        "procedural",
        base=BASE,
        theirs=theirs,
        mine=mine,
        resolutions={"b": "theirs", "c": "theirs"},
    )
    assert titles(take_theirs.structure) == [("a", "A"), ("c", "C parent")]
    keep_mine = merge(
        "procedural", base=BASE, theirs=theirs, mine=mine, resolutions={"b": "mine", "c": "mine"}
    )
    assert titles(keep_mine.structure) == [("a", "A"), ("b", "B mine")]


def test_deletion_of_an_untouched_node_merges():
    theirs = checklist(step("a", "A"), step("c", "C"))
    result = merge("procedural", base=BASE, theirs=theirs, mine=BASE)
    assert result.conflicts == [] and titles(result.structure) == [("a", "A"), ("c", "C")]


def test_parent_reorder_is_applied_when_the_fork_kept_the_order():
    theirs = checklist(step("c", "C"), step("a", "A"), step("b", "B"))
    result = merge("procedural", base=BASE, theirs=theirs, mine=BASE)
    assert [s["id"] for s in result.structure["steps"]] == ["c", "a", "b"]


def test_tree_merge_adds_a_parent_branch_under_the_same_node():
    base = troubleshooting_structure()
    theirs = troubleshooting_structure()
    theirs["children"].append({"id": "escalate", "type": "solution", "title": "Escalate"})
    mine = troubleshooting_structure()
    mine["children"][0]["description"] = "Use the CLI, not the UI."
    result = merge("troubleshooting", base=base, theirs=theirs, mine=mine)
    assert result.conflicts == []
    children = result.structure["children"]
    assert [c["id"] for c in children] == ["restart", "fixed", "escalate"]
    assert children[0]["description"] == "Use the CLI, not the UI."


def test_without_a_base_the_merge_is_two_way():
    theirs = checklist(step("a", "A parent"), step("b", "B"), step("n", "N"))
    mine = checklist(step("a", "A mine"), step("b", "B"), step("c", "C"))
    result = merge("procedural", base=None, theirs=theirs, mine=mine)
    assert not result.three_way
    assert [(c.id, c.kind) for c in result.conflicts] == [("a", "both_changed")]
    # The parent's new node is added; the fork's "c" stays (deletions cannot be told apart).
    assert [s["id"] for s in result.structure["steps"]] == ["a", "b", "n", "c"]
