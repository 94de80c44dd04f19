"""Issue 16's diagram journeys: the flow page's Diagram view (fit, zoom, pan, keyboard), the
editor's diagram (a click opens the node's form, + adds a child) and the runner's map (the
path taken so far highlighted); every page passes the axe-core accessibility check."""

import re

from playwright.sync_api import expect

from accounts.models import User
from flows.models import Tree, TreeStatus
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import click_and_settle, log_in, start_session
from tests.factories import TreeFactory, big_troubleshooting_structure, troubleshooting_structure


def view_box(page, diagram: str) -> list[float]:
    value = page.locator(f"{diagram} svg").get_attribute("viewBox")
    return [float(part) for part in value.split()]


def focused_node(page) -> str:
    return page.evaluate("() => document.activeElement.dataset.node || ''")


def own_flow(**fields) -> Tree:
    engineer = User.objects.get(email="engineer@demo.local")
    return TreeFactory(account=engineer.account, author=engineer, **fields)


def test_flow_page_diagram_fits_zooms_pans_and_is_keyboard_navigable(demo, new_page):
    structure = big_troubleshooting_structure(100)
    flow = own_flow(name="Printer triage", tree_structure=structure)
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto(f"/flows/{flow.pk}/")
    page.wait_for_load_state()
    expect(page.locator('[data-view="outline"]')).to_be_visible()

    page.get_by_role("button", name="Diagram").click()
    diagram = page.locator("#flow-diagram")
    expect(diagram.locator(".fd-node")).to_have_count(100)
    page.wait_for_function("() => !!document.getElementById('flow-diagram')?.rfDiagram")
    expect(page.locator('[data-view="outline"]')).to_be_hidden()
    assert_accessible(page, "the flow page's diagram")

    # Fitted: the whole drawing is inside the view.
    svg = diagram.locator("svg")
    width = float(svg.get_attribute("data-width"))
    fitted = view_box(page, "#flow-diagram")
    assert fitted[2] >= width

    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    zoomed = view_box(page, "#flow-diagram")
    assert zoomed[2] < fitted[2] * 0.7

    # Drag the background to the left: the view moves right.
    viewport = diagram.locator(".flow-diagram-viewport")
    viewport.scroll_into_view_if_needed()
    box = viewport.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    assert view_box(page, "#flow-diagram")[0] < zoomed[0] - 50

    page.get_by_role("button", name="Fit").click()
    assert view_box(page, "#flow-diagram") == fitted

    # Keyboard: Tab reaches the first node, arrows move through the tree, Enter shows the node
    # in the outline.
    page.get_by_role("button", name="Fit").focus()
    page.keyboard.press("Tab")
    assert focused_node(page) == "q0"
    first, second = (child["id"] for child in structure["children"][:2])
    page.keyboard.press("ArrowDown")
    assert focused_node(page) == first
    page.keyboard.press("ArrowRight")
    assert focused_node(page) == second
    page.keyboard.press("ArrowUp")
    assert focused_node(page) == "q0"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator('[data-view="outline"]')).to_be_visible()
    expect(page.locator(f"#node-{second}")).to_be_focused()


def test_editor_diagram_opens_a_nodes_form_and_adds_a_child(demo, new_page):
    flow = own_flow(
        name="VPN down", status=TreeStatus.DRAFT, tree_structure=troubleshooting_structure()
    )
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto(f"/flows/{flow.pk}/edit/")
    page.wait_for_load_state()
    page.wait_for_function("() => !!document.getElementById('editor-diagram')?.rfDiagram")
    assert_accessible(page, "the editor with its diagram")

    # A click on the action opens its form in the outline, as its Edit button does.
    page.locator('#editor-diagram [data-node="restart"]').click()
    form = page.locator("#node-restart form.node-form")
    expect(form).to_be_visible()
    expect(form.get_by_label("Title")).to_be_focused()

    # + on the question: its "Add a node" form, ready to type.
    page.get_by_role(
        "button", name="Add a node under “Does the tunnel show as down on both peers?”"
    ).click()
    add = page.locator("#node-root .add-node-form")
    expect(add).to_be_visible()
    expect(add.get_by_label("Add")).to_be_focused()
    add.get_by_label("Add").select_option("solution")
    add.get_by_label("Title or question").fill("Escalate to networks")
    # "Reached by" is left at its default ("nothing yet": every answer leads somewhere); the
    # typed label is what says where the node hangs, so it is not lost.
    expect(add.get_by_label("Reached by")).to_have_value("")
    add.get_by_label("New option's label").fill("Unsure")
    click_and_settle(page, add.get_by_role("button", name="Add node"))
    expect(
        page.locator("#editor-diagram .fd-node", has_text="Escalate to networks")
    ).to_be_visible()
    expect(page.locator("#editor-diagram .fd-edge-label", has_text="Unsure")).to_have_count(1)
    root = Tree.objects.get(pk=flow.pk).editing_structure
    assert root["options"][-1] == {"label": "Unsure", "next_node_id": root["children"][-1]["id"]}
    assert_accessible(page, "the editor after adding from the diagram")

    # The keyboard way: a node in the diagram, `a` opens its "Add" form; Enter its edit form.
    page.locator('#editor-diagram [data-node="restart"]').focus()
    page.keyboard.press("a")
    expect(page.locator("#node-restart .add-node-form").get_by_label("Add")).to_be_focused()
    page.locator('#editor-diagram [data-node="fixed"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#node-fixed form.node-form").get_by_label("Title")).to_be_focused()


def test_runner_map_highlights_the_path_after_two_answers(demo, new_page):
    structure = big_troubleshooting_structure(20)
    flow = own_flow(name="Printer triage", tree_structure=structure)
    # Two answers: into the root's first sub-question, then that question's first option.
    first = next(
        o
        for o, c in zip(structure["options"], structure["children"], strict=True)
        if c["type"] == "decision"
    )
    question = next(c for c in structure["children"] if c["id"] == first["next_node_id"])
    second = question["options"][0]
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto(f"/sessions/new/{flow.pk}/")
    start_session(page)
    click_and_settle(page, page.get_by_role("button", name=first["label"], exact=True))
    click_and_settle(page, page.get_by_role("button", name=second["label"], exact=True))

    diagram = page.locator("#run-diagram")
    expect(diagram.locator(".fd-edge.is-on-path")).to_have_count(2)
    expect(diagram.locator(".fd-node.is-visited")).to_have_count(2)
    current = diagram.locator(".fd-node.is-current")
    expect(current).to_have_attribute("data-node", second["next_node_id"])
    expect(current).to_contain_text("You are here")
    expect(current).to_have_attribute("aria-label", re.compile(r"You are here\."))
    assert_accessible(page, "the runner with its map")
