"""Issue 6's journeys: fork a default flow from the library with a reason; build a procedural
flow from nothing in the editor, publish it and run it."""

import re

from playwright.sync_api import expect

from accounts.models import User
from flows import services
from flows.models import Tree, TreeStatus
from sessions.models import FlowSession, SessionStatus
from tests.e2e.conftest import click_and_settle, htmx_settle, log_in, start_session


def wait_until_shown(page, modal_id: str) -> None:
    """Bootstrap's fade lasts 300 ms; its focus trap takes focus when it ends."""
    page.wait_for_function(
        "id => { const m = bootstrap.Modal.getInstance(document.getElementById(id));"
        " return m && m._isShown && !m._isTransitioning; }",
        arg=modal_id,
    )


def test_fork_a_default_troubleshooting_flow_from_the_library(demo, new_page):
    parent = Tree.objects.get(default_key="sonicwall-vpn-tunnel-down")
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto("/flows/")  # engineers land on their dashboard; the library is one click away
    page.wait_for_load_state()
    card = page.locator(f'article.flow-card[data-flow-id="{parent.pk}"]')
    modal = page.locator("#fork-modal")
    name = modal.get_by_label("Name of your copy")

    # Esc closes the modal, and so does a click outside it.
    card.get_by_role("link", name=f"Fork {parent.name}").click()
    expect(name).to_be_focused()
    expect(name).to_have_value(f"Copy of {parent.name}")
    expect(name).to_have_attribute("maxlength", "255")
    expect(modal.get_by_label("Why fork it?")).to_have_attribute("maxlength", "255")
    # Bootstrap ignores Esc and backdrop clicks while the modal is still fading in.
    wait_until_shown(page, "fork-modal")
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    card.get_by_role("link", name=f"Fork {parent.name}").click()
    expect(name).to_be_focused()
    wait_until_shown(page, "fork-modal")
    page.mouse.click(5, 450)  # the backdrop, left of the dialog
    expect(modal).to_be_hidden()

    # Errors show in the modal; nothing is created. Type only once the modal has finished
    # opening and the error re-render has settled, as a person would.
    card.get_by_role("link", name=f"Fork {parent.name}").click()
    expect(name).to_be_focused()
    wait_until_shown(page, "fork-modal")
    name.fill("")
    click_and_settle(page, modal.get_by_role("button", name="Fork"))
    expect(modal.locator(".invalid-feedback")).to_contain_text("required")
    assert not Tree.objects.filter(parent_tree=parent).exists()

    name.fill("Acme SonicWall VPN")
    modal.get_by_label("Why fork it?").fill("Our firewalls run SonicOS 7 only")
    modal.get_by_role("button", name="Fork").click()

    page.wait_for_url(re.compile(r"/flows/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme SonicWall VPN")
    expect(page.locator(".toast", has_text="is your draft now")).to_be_visible()
    expect(page.locator("header .badge-fork")).to_have_text("Fork")
    block = page.locator("#fork-info")
    expect(block).to_contain_text(f"Forked from {parent.name}")
    expect(block).to_contain_text("— Our firewalls run SonicOS 7 only")
    expect(block.get_by_role("link", name=parent.name)).to_have_attribute(
        "href", f"/flows/{parent.pk}/"
    )
    expect(page.locator("#parent-updated")).to_have_count(0)

    fork = Tree.objects.get(parent_tree=parent)
    assert fork.fork_depth == 1 and fork.root_tree == parent
    assert fork.status == TreeStatus.DRAFT and fork.author.email == "engineer@demo.local"
    assert fork.tree_structure == parent.tree_structure

    page.get_by_role("link", name="My flows").click()
    mine = page.locator(f'article.flow-card[data-flow-id="{fork.pk}"]')
    expect(mine.locator(".badge-fork")).to_have_text("Fork")

    # Staff improve the original: the fork says so.
    staff = User.objects.create_user("staff@demo.local", is_staff=True)
    services.tree_update(tree=parent, user=staff, description="Covers SonicOS 8 too.")
    page.goto(f"/flows/{fork.pk}/")
    expect(page.locator("#parent-updated")).to_contain_text("updated since you forked")


def add(page, kind: str, title: str) -> None:
    form = page.locator(".step-add-form")
    form.get_by_label("Add").select_option(label=kind)
    form.get_by_label("Title").fill(title)
    click_and_settle(page, form.get_by_role("button", name="Add"))


def test_build_a_procedural_flow_in_the_editor_publish_and_run_it(demo, new_page):
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.get_by_role("link", name="My flows").click()
    page.get_by_role("link", name="New flow").click()
    page.get_by_label("Name").fill("Onboard a contractor")
    page.get_by_label("Type").select_option("procedural")
    page.get_by_role("button", name="Create and open the editor").click()
    page.wait_for_url("**/edit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Onboard a contractor")
    page.evaluate("window.__noReload = true")

    add(page, "Section header", "Accounts")
    add(page, "Step", "Create the AD account")
    # A new step opens for editing: fill in the details and the library visibility.
    step = page.locator("#node-step1")
    step.get_by_label("Description").fill("Create the account in the Contractors OU.")
    step.get_by_label("Command 1 label").fill("Create")
    step.get_by_label("Command 1 language").select_option("powershell")
    step.get_by_label("Command 1 code").fill(
        'New-ADUser -Name "Jane Doe" -Path "OU=Contractors,DC=acme,DC=local"'
    )
    step.locator("summary", has_text="More options").click()
    step.get_by_label("Estimated minutes").fill("5")
    step.get_by_label("Library visibility").select_option(label="Team only")
    click_and_settle(page, step.get_by_role("button", name="Save"))
    step = page.locator("#node-step1")
    expect(step).to_contain_text("1 command")
    expect(step.locator(".library-visibility-badge")).to_have_text(re.compile("Library: Team only"))

    add(page, "Step", "Add to the contractor groups")
    add(page, "Step", "Send the welcome e-mail")
    add(page, "Section header", "Hand-over")
    # The new section landed after the e-mail step: move it up with the keyboard.
    move_up = page.locator("#node-sec2").get_by_role("button", name="Move “Hand-over” up")
    move_up.focus()
    with htmx_settle(page, move_up):
        page.keyboard.press("Enter")

    rows = page.locator("ol.editor-steps > li")
    expect(rows).to_have_count(6)
    order = [rows.nth(i).get_attribute("data-node-id") for i in range(6)]
    assert order == [
        "sec1",
        "step1",
        "step2",
        "sec2",
        "step3",
        "end",
    ]
    # Nothing is flagged before the author asks to publish.
    expect(page.locator("#editor-problems")).to_contain_text("Publishing checks")
    assert page.evaluate("window.__noReload") is True  # every change was an htmx swap

    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r"/flows/[0-9a-f-]{36}/$"))
    expect(page.locator(".toast", has_text="is published")).to_be_visible()
    tree = Tree.objects.get(name="Onboard a contractor")
    assert tree.status == TreeStatus.PUBLISHED and tree.account.name == "Demo MSP"
    created = next(s for s in tree.tree_structure["steps"] if s["id"] == "step1")
    assert created["library_visibility"] == "team" and created["estimated_minutes"] == 5
    assert created["commands"][0]["language"] == "powershell"

    # Run it.
    page.locator("#run-button").click()
    page.get_by_label("Ticket number").fill("INC-9001")
    start_session(page)
    expect(page.locator("#checklist")).to_be_visible()
    expect(page.locator("pre.command")).to_contain_text("New-ADUser")
    for step_id in ("step1", "step2", "step3"):
        click_and_settle(page, page.locator(f"#tick-{step_id}"))
    expect(page.locator("#progress-count")).to_have_text("3 of 3")
    page.get_by_role("button", name="Complete session").first.click()
    page.locator("#complete-modal").get_by_label("Outcome").select_option("resolved")
    page.locator("#complete-modal").get_by_role("button", name="Complete session").click()
    expect(page.locator("#outcome-card")).to_contain_text("Resolved")
    session = FlowSession.objects.get(ticket_number="INC-9001")
    assert session.tree == tree and session.status == SessionStatus.COMPLETED
