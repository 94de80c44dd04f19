"""Issue 16's editor journeys: a new flow that starts without errors and speaks plain words,
drag-and-drop reordering and its keyboard alternative, the visual intake editor and the
repair panel; each page passes the axe-core accessibility check."""

import re

from playwright.sync_api import expect

from accounts.models import User
from flows import editor, services, structure
from flows.models import Tree, TreeType
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import click_and_settle, htmx_settle, log_in


def steps_of(tree: Tree) -> list[str]:
    tree = Tree.objects.get(pk=tree.pk)
    return [n.get("title") for n in structure.iter_nodes(tree.tree_type, tree.editing_structure)]


def drag(page, handle, target) -> None:
    """Drag with the mouse as a person would: press, move in small steps, release (both ends
    scrolled into the window first: the mouse works in window coordinates)."""
    target.scroll_into_view_if_needed()
    handle.scroll_into_view_if_needed()
    start, end = handle.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 2, start["y"] + 10, steps=4)
    page.mouse.move(end["x"] + 20, end["y"] + 5, steps=12)
    page.mouse.up()


def test_reorder_steps_by_drag_and_drop_and_by_keyboard(demo, new_page):
    engineer = User.objects.get(email="engineer@demo.local")
    tree = services.tree_create(user=engineer, name="Patch night", tree_type=TreeType.PROCEDURAL)
    for title in ("Snapshot the VM", "Install updates", "Reboot"):
        editor.tree_step_add(
            tree=tree, user=engineer, revision=None, step_type="procedure_step", title=title
        )
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto(f"/flows/{tree.pk}/edit/")
    page.wait_for_load_state()
    page.wait_for_function("() => !!document.querySelector('[data-sortable]').rfSortable")
    assert_accessible(page, "the checklist editor")

    # Drag "Reboot" above "Snapshot the VM".
    reboot = page.locator("li.step-card", has_text="Reboot")
    with htmx_settle(page, reboot.locator(".drag-handle")):
        drag(page, reboot.locator(".drag-handle"), page.locator("li.step-card").first)
    expect(page.locator("li.step-card").first).to_contain_text("Reboot")
    assert steps_of(tree) == ["Reboot", "Snapshot the VM", "Install updates", "Done"]

    # The keyboard alternative: focus "Move … down" and press Enter.
    button = page.get_by_role("button", name="Move “Reboot” down")
    button.focus()
    with htmx_settle(page, button):
        page.keyboard.press("Enter")
    assert steps_of(tree) == ["Snapshot the VM", "Reboot", "Install updates", "Done"]
    expect(page.locator("li.step-card").nth(1)).to_contain_text("Reboot")


def test_a_new_troubleshooting_flow_speaks_plain_words(demo, new_page):
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.get_by_role("link", name="My flows").click()
    page.get_by_role("link", name="New flow").click()
    page.get_by_label("Name").fill("VDA unregistered")
    page.get_by_label("Type").select_option("troubleshooting")
    page.get_by_role("button", name="Create and open the editor").click()
    page.wait_for_url("**/edit/")
    page.wait_for_load_state()

    # No errors before anything is typed; the first question is open with a hint.
    problems = page.locator("#editor-problems")
    expect(problems).to_contain_text("Publishing checks")
    expect(page.locator(".node-error")).to_have_count(0)
    expect(page.locator("#n0-heading")).to_have_text("Your first question (not written yet)")
    expect(page.locator("code", has_text="root")).to_be_hidden()  # ids are hidden …
    page.get_by_label("Show ids").check()
    expect(page.locator("code", has_text="root")).to_be_visible()  # … unless asked for
    page.get_by_label("Show ids").uncheck()
    question = page.locator("#node-root").get_by_role("textbox", name="Question *", exact=True)
    assert_accessible(page, "a new troubleshooting flow in the editor")

    # A required field the author empties and leaves is marked at once, before any save.
    hint = page.locator("#node-root .required-hint").first
    expect(hint).to_be_hidden()
    question.press_sequentially("Is")
    question.press("Control+a")
    question.press("Backspace")
    question.press("Tab")
    expect(hint).to_be_visible()
    expect(hint).to_have_text("Fill this in: question is needed.")

    question.fill("Is the VDA registered?")
    click_and_settle(page, page.get_by_role("button", name="Save decision"))
    node = page.locator("#node-root")
    add = node.locator(".option-add-form")
    add.get_by_label("Label").fill("No")
    click_and_settle(page, add.get_by_role("button", name="Add option"))

    click_and_settle(page, page.get_by_role("button", name="Publish"))
    expect(problems).to_contain_text(
        "'Is the VDA registered?' → answer 'No' leads nowhere: pick the next step."
    )
    expect(problems).to_contain_text("The flow has no solution yet")
    expect(problems).not_to_contain_text("next_node_id")
    expect(page.locator("#node-root .node-error").first).to_be_visible()
    assert re.search("next_node_id", page.locator("#editor-body").inner_text()) is None

    # The diagram's + on the question: "Reached by" starts at the answer that leads nowhere,
    # so adding the next step fixes the problem without touching that select.
    page.wait_for_function("() => !!document.getElementById('editor-diagram')?.rfDiagram")
    page.get_by_role("button", name="Add a node under “Is the VDA registered?”").click()
    add_node = page.locator("#node-root .add-node-form")
    expect(add_node.get_by_label("Add")).to_be_focused()
    expect(add_node.get_by_label("Reached by")).to_have_value("0")
    add_node.get_by_label("Add").select_option("solution")
    add_node.get_by_label("Title or question").fill("Re-register the VDA")
    click_and_settle(page, add_node.get_by_role("button", name="Add node"))
    expect(problems).not_to_contain_text("leads nowhere")
    root = Tree.objects.get(name="VDA unregistered").editing_structure
    assert root["options"] == [{"label": "No", "next_node_id": root["children"][0]["id"]}]
    assert root["children"][0]["title"] == "Re-register the VDA"


def test_repair_a_loose_node_and_add_an_intake_question_visually(demo, new_page):
    engineer = User.objects.get(email="engineer@demo.local")
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
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto(f"/flows/{tree.pk}/edit/")
    page.wait_for_load_state()

    repair = page.locator("#editor-repair")
    expect(repair).to_contain_text("1 node not connected")
    assert_accessible(page, "the editor's repair panel")
    attach = repair.get_by_role("form", name="Attach “Escalate”")
    attach.get_by_label("Reached from").select_option(label="Decision: Is the VDA registered?")
    attach.get_by_label("New answer's label").fill("No")
    click_and_settle(page, attach.get_by_role("button", name="Attach “Escalate”"))
    expect(page.locator("#editor-repair")).to_have_count(0)
    expect(page.locator(".toast", has_text="is now reached from")).to_be_visible()

    # The intake form is edited visually in a troubleshooting flow too.
    intake = page.locator("#intake")
    intake.locator("summary", has_text="Add a question").click()
    intake.get_by_label("Question").fill("Which VDA?")
    intake.get_by_label("Variable name").fill("vda")
    assert_accessible(page, "the intake editor")
    click_and_settle(page, intake.get_by_role("button", name="Add question"))
    expect(page.locator("#intake .intake-field")).to_contain_text("[VAR:vda]")
    stored = Tree.objects.get(pk=tree.pk)
    assert stored.editing_intake_form[0]["name"] == "vda"
    assert stored.editing_structure["options"][-1] == {"label": "No", "next_node_id": "s2"}


def options_of(tree: Tree) -> list[str]:
    return [o["label"] for o in Tree.objects.get(pk=tree.pk).editing_structure["options"]]


def test_reorder_a_questions_answers_by_drag_and_by_keyboard(demo, new_page):
    engineer = User.objects.get(email="engineer@demo.local")
    tree = services.tree_create(user=engineer, name="VDA", tree_type=TreeType.TROUBLESHOOTING)
    for label in ("Yes", "No", "Not sure"):
        editor.tree_option_add(tree=tree, user=engineer, revision=None, node_id="root", label=label)
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto(f"/flows/{tree.pk}/edit/?open=root")
    page.wait_for_load_state()
    page.wait_for_function("() => !!document.querySelector('[data-sortable=options]').rfSortable")
    forms = page.locator("#node-root .option-form")
    with htmx_settle(page, forms.nth(2).locator(".drag-handle")):
        drag(page, forms.nth(2).locator(".drag-handle"), forms.nth(0))
    assert options_of(tree) == ["Not sure", "Yes", "No"]
    expect(page.locator("#node-root .option-form").first.get_by_label("Label")).to_have_value(
        "Not sure"
    )

    move_down = page.get_by_role("button", name="Move option Not sure down")
    move_down.focus()
    with htmx_settle(page, move_down):
        page.keyboard.press("Enter")
    assert options_of(tree) == ["Yes", "Not sure", "No"]
