"""Issue 5's journey: publish a procedure, find its step in the library (From Flow, locked),
save a copy, edit the copy, insert the copy into a running session."""

import re

from playwright.sync_api import expect

from accounts.models import User
from flows import services as flow_services
from steplibrary.models import LibraryStep
from tests.e2e.conftest import click_and_settle, log_in, start_session


def live(locator) -> None:
    """Wait until htmx has processed this element (it does so when a swap settles); before
    that, clicking or typing into it would not make a request."""
    expect(locator).to_be_visible()
    locator.page.wait_for_function(
        "el => el['htmx-internal-data'] !== undefined", arg=locator.element_handle()
    )


def draft_procedure(engineer: User):
    return flow_services.tree_create(
        user=engineer,
        name="Rebuild a Windows print server",
        tree_type="procedural",
        tree_structure={
            "steps": [
                {"id": "prep", "type": "section_header", "title": "Preparation"},
                {
                    "id": "export",
                    "type": "procedure_step",
                    "title": "Export the printer queues",
                    "description": "Export every queue and driver to a file on [VAR:share].",
                    "commands": [
                        {
                            "language": "cmd",
                            "label": "Back up",
                            "code": "printbrm -b -s \\\\PRINT01 -f C:\\print.printerExport",
                        }
                    ],
                },
                {"id": "end", "type": "procedure_end", "title": "Done"},
            ]
        },
    )


def test_engineer_publishes_finds_copies_and_edits_a_library_step(demo, new_page):
    engineer = User.objects.get(email="engineer@demo.local")
    tree = draft_procedure(engineer)
    page = new_page()
    log_in(page, "engineer@demo.local")

    # Publish the procedure from its page.
    page.goto(f"/flows/{tree.pk}/")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    expect(page.locator(".toast")).to_contain_text("is published")

    # Its step is in the library: From Flow, locked, sourced from the flow.
    page.get_by_role("link", name="Library", exact=True).click()
    page.wait_for_url("**/library/")
    page.wait_for_load_state()
    page.evaluate("window.__noReload = true")
    page.get_by_label("Search").fill("printbrm")
    expect(page).to_have_url(re.compile(r"q=printbrm"))
    card = page.locator("article.library-card").filter(has_text="Export the printer queues")
    expect(card).to_have_count(1)
    expect(page.locator("article.library-card")).to_have_count(1)
    expect(card.locator(".badge-from-flow")).to_have_text("From Flow")
    expect(card).to_contain_text("Managed by source flow — fork to customize")
    expect(card.locator(".bi-lock-fill")).to_be_visible()
    expect(card.get_by_role("link", name="Edit")).to_have_count(0)
    expect(card.get_by_role("link", name=tree.name)).to_be_visible()
    assert page.evaluate("window.__noReload") is True

    # Save a copy: the modal opens prefilled and private.
    modal = page.locator("#library-modal")
    click_and_settle(page, card.get_by_role("link", name="Save a copy"))
    expect(modal.get_by_label("Title")).to_have_value("Export the printer queues")
    expect(modal.get_by_label("Visibility")).to_have_value("private")
    expect(modal.locator("textarea[name=command_text]").first).to_have_value(
        re.compile(r"^printbrm -b")
    )
    modal.get_by_label("Title").fill("Export queues (our way)")
    modal.get_by_role("button", name="Save").click()
    expect(modal).to_be_hidden()
    expect(page.locator(".toast").last).to_contain_text("saved to your library")

    # The list refreshed in place: the copy is there, hand-made, with Edit.
    copy_card = page.locator("article.library-card").filter(has_text="Export queues (our way)")
    expect(copy_card).to_have_count(1)
    expect(copy_card.locator(".badge-from-flow")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True

    # Edit the copy: a field error first, then add a command and save.
    click_and_settle(page, copy_card.get_by_role("link", name="Edit"))
    expect(modal.get_by_label("Title")).to_have_value("Export queues (our way)")
    modal.get_by_label("Instructions").fill("")
    click_and_settle(page, modal.get_by_role("button", name="Save"))
    expect(modal.locator("#id_instructions-errors")).to_contain_text("required")
    modal.get_by_label("Instructions").fill("Export queues and drivers before the rebuild.")
    modal.get_by_role("button", name="Add command").click()
    modal.locator("input[name=command_label]").last.fill("Check the file")
    modal.locator("textarea[name=command_text]").last.fill("dir C:\\print.printerExport")
    modal.get_by_role("button", name="Save").click()
    expect(modal).to_be_hidden()
    expect(copy_card).to_contain_text("Export queues and drivers before the rebuild.")
    expect(copy_card).to_contain_text("2 commands")

    copy = LibraryStep.objects.get(title="Export queues (our way)")
    assert copy.created_by == engineer and not copy.is_flow_synced
    assert copy.visibility == "private" and copy.source_tree is None
    assert [c["label"] for c in copy.commands] == ["Back up", "Check the file"]
    original = LibraryStep.objects.get(source_tree=tree, source_node_id="export")
    assert original.title == "Export the printer queues"  # the synced entry is untouched

    # Run the flow; after its first step, insert the copy from the library.
    page.goto(f"/sessions/new/{tree.pk}/")
    start_session(page)
    expect(page.locator("#checklist")).to_be_visible()
    page.locator("#step-export").get_by_role("button", name="Add step here").click()
    # Bootstrap adds "show" when the collapse has finished opening; a click mid-animation can
    # land before the link is where it will be.
    expect(page.locator("#add-after-export")).to_have_class(re.compile(r"\bshow\b"))
    from_library = page.locator("#add-after-export").get_by_role("link", name="From library")
    live(from_library)
    from_library.click()
    browser = modal.locator("#session-library")
    live(browser.locator("form"))
    browser.get_by_label("Search the step library").fill("queues (our way)")
    choice = browser.locator(".library-choice")
    expect(choice).to_have_count(1)
    expect(choice).to_contain_text("Export queues (our way)")
    insert = choice.get_by_role("button", name=re.compile("^Insert"))
    live(insert)
    insert.click()
    expect(modal).to_be_hidden()
    expect(page.locator(".toast").last).to_contain_text("Inserted “Export queues (our way)”")

    custom = page.locator("li.step-row", has_text="Export queues (our way)")
    expect(custom.locator(".badge", has_text="Custom")).to_be_visible()
    expect(custom).to_contain_text("from library")
    expect(custom.locator(".feedback")).to_have_count(0)  # custom steps get no feedback
    order = page.locator("li.step-row").evaluate_all("rows => rows.map(r => r.dataset.stepId)")
    assert order[0] == "export" and order[1].startswith("custom-")
    copy.refresh_from_db()
    assert copy.usage_count == 1

    # It survives a reload, like every custom step.
    page.reload()
    expect(page.locator("li.step-row", has_text="Export queues (our way)")).to_be_visible()
