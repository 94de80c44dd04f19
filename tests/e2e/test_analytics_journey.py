"""Issue 12's journey: run a troubleshooting flow twice down different branches, open its
analytics and see both paths counted on the drop-off diagram."""

import re

from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.conftest import click_and_settle, log_in, start_session
from tests.factories import TreeFactory

STRUCTURE = {
    "id": "power",
    "type": "decision",
    "question": "Does the printer power on?",
    "options": [
        {"label": "Yes", "next_node_id": "queue"},
        {"label": "No", "next_node_id": "psu"},
    ],
    "children": [
        {"id": "queue", "type": "solution", "title": "Clear the print queue"},
        {"id": "psu", "type": "solution", "title": "Replace the power supply"},
    ],
}


def run_once(page, tree, answer: str) -> None:
    page.goto(f"/sessions/new/{tree.pk}/")
    start_session(page)
    click_and_settle(
        page, page.locator("#node-power").get_by_role("button", name=answer, exact=True)
    )
    expect(page.locator("[data-node-type=solution]")).to_be_visible()
    page.locator("#runner").get_by_role("button", name="Complete session").click()
    modal = page.locator("#complete-modal")
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="Complete session").click()
    expect(page.locator("#outcome-card")).to_contain_text("Resolved")


def test_two_runs_down_different_branches_show_on_the_diagram(demo, new_page):
    engineer = User.objects.get(email="engineer@demo.local")
    tree = TreeFactory(
        name="Printer offline", account=engineer.account, author=engineer, tree_structure=STRUCTURE
    )
    page = new_page()
    log_in(page, engineer.email)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    run_once(page, tree, "Yes")
    run_once(page, tree, "No")

    page.goto(f"/flows/{tree.pk}/")
    page.get_by_role("link", name="Analytics").click()
    page.wait_for_url(f"**/flows/{tree.pk}/analytics/")
    expect(page.locator("#runs-count")).to_have_text("2")
    diagram = page.locator("#drop-off")
    expect(diagram.locator('[data-node="power"]')).to_have_attribute("data-reached", "2")
    expect(diagram.locator('[data-node="queue"]')).to_have_attribute("data-reached", "1")
    expect(diagram.locator('[data-node="psu"]')).to_have_attribute("data-reached", "1")
    expect(diagram.locator('[data-node="queue"]')).to_contain_text("reached 1")
    expect(diagram.locator('[data-node="psu"]')).to_contain_text("ended 1")
    # Numbers on focus: each node is focusable and says its figures.
    diagram.locator('[data-node="psu"]').focus()
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused == "Replace the power supply: reached by 1, 1 ended here"
    table = page.locator("#nodes-table")
    expect(table.locator('tr[data-node="queue"] td').first).to_have_text("1")
    expect(table.locator('tr[data-node="power"] td').first).to_have_text("2")
