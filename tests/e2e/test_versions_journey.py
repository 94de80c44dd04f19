"""Issue 15's journey: fork a default flow, change it, the parent changes and is published,
open the fork, see the parent's change in the diff, pull it, resolve one conflict by writing
the merged step inline, publish, and open the new version's page from the history."""

import re

from playwright.sync_api import expect

from accounts.models import User
from flows import services
from flows.models import Tree
from tests.e2e.conftest import click_and_settle, log_in

PARENT = "Citrix VDA server patching"


def retitle(tree: Tree, user: User, node_id: str, title: str) -> Tree:
    data = tree.editing_structure
    next(s for s in data["steps"] if s["id"] == node_id)["title"] = title
    return services.tree_update(tree=tree, user=user, tree_structure=data)


def test_fork_pull_parent_changes_resolve_a_conflict_and_publish(demo, new_page):
    parent = Tree.objects.get(name=PARENT)
    engineer = User.objects.get(email="engineer@demo.local")
    page = new_page()
    log_in(page, "engineer@demo.local")

    # Fork the default flow from its page.
    page.goto(f"/flows/{parent.pk}/")
    modal = page.locator("#fork-modal")
    name = modal.get_by_label("Name of your copy")
    page.get_by_role("link", name=f"Fork {PARENT}").click()
    expect(name).to_be_focused()
    page.wait_for_function("() => document.getElementById('fork-modal').classList.contains('show')")
    name.fill("Acme VDA patching")
    modal.get_by_role("button", name="Fork").click()
    page.wait_for_url(re.compile(r"/flows/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme VDA patching")
    fork = Tree.objects.get(name="Acme VDA patching")
    assert fork.parent_version.number == 1

    # Change the fork in the editor: add a step.
    page.goto(f"/flows/{fork.pk}/edit/")
    form = page.locator(".step-add-form")
    form.get_by_label("Add").select_option(label="Step")
    form.get_by_label("Title").fill("Tell the service desk")
    click_and_settle(page, form.get_by_role("button", name="Add"))
    # New steps get short ids the editor hides; find the row by what it says.
    expect(page.locator("[id^='node-']").filter(has_text="Tell the service desk")).to_be_visible()
    # An earlier edit of the snapshot step, the node the parent will change too.
    retitle(Tree.objects.get(pk=fork.pk), engineer, "snapshot", "Take a Nutanix snapshot")

    # Staff change the parent and publish it.
    staff = User.objects.create_user("staff@demo.local", is_staff=True)
    parent = retitle(parent, staff, "precheck", "Pre-check the server and its disks")
    parent = retitle(parent, staff, "snapshot", "Take a hypervisor snapshot and name it")
    services.tree_publish(tree=parent, user=staff, note="Disk check; snapshot names")

    # The fork says so; Compare shows the parent's changes beside the fork's own.
    page.goto(f"/flows/{fork.pk}/")
    expect(page.locator("#parent-updated")).to_contain_text("updated since you forked")
    page.locator("#parent-updated").get_by_role("link", name="Compare it with your copy").click()
    page.wait_for_url(f"**/flows/{fork.pk}/compare/")
    parent_side = page.locator("#parent-changes")
    precheck = parent_side.locator('[data-node="precheck"]')
    expect(precheck).to_contain_text("Changed")
    expect(precheck.locator("ins.diff-ins")).to_contain_text("and its disks")
    expect(page.locator("#fork-changes")).to_contain_text("Tell the service desk")
    expect(page.locator("#fork-outcomes")).to_contain_text("This fork")

    # Pull: one conflict (the snapshot step); write the merged step inline.
    conflict = page.locator('#conflicts .conflict[data-node="snapshot"]')
    expect(conflict).to_contain_text("Changed in the parent and in this fork")
    title = conflict.get_by_label("Title")
    expect(title).to_be_hidden()  # the edit form shows only once "Edit" is chosen
    conflict.get_by_label("Edit: write the merged version").check()
    expect(title).to_be_visible()
    expect(title).to_have_value("Take a Nutanix snapshot")  # starts from the fork's
    title.fill("")
    page.get_by_role("button", name="Pull parent changes").click()
    page.wait_for_url(f"**/flows/{fork.pk}/pull-parent/")
    conflict = page.locator('#conflicts .conflict[data-node="snapshot"]')
    expect(conflict.locator(".invalid-feedback")).to_contain_text("This field is required.")
    assert Tree.objects.get(pk=fork.pk).parent_version.number == 1  # nothing pulled yet
    conflict.get_by_label("Title").fill("Take a Nutanix snapshot and name it")
    page.get_by_role("button", name="Pull parent changes").click()
    page.wait_for_url(f"**/flows/{fork.pk}/edit/")
    expect(page.locator(".toast").last).to_contain_text("Pulled the parent's changes")

    # Publish the fork from the editor with a note; the history shows version 1.
    page.get_by_label("Change note").fill("Took the parent's disk check")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(f"**/flows/{fork.pk}/")
    expect(page.locator(".toast")).to_contain_text("is published")
    page.get_by_role("link", name="History").click()
    page.wait_for_url(f"**/flows/{fork.pk}/history/")
    expect(page.locator("#version-1")).to_contain_text("Took the parent's disk check")

    # The version's own page: its note, its steps, and a way to compare.
    page.get_by_role("link", name="Version 1", exact=True).click()
    page.wait_for_url(f"**/flows/{fork.pk}/versions/1/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
    expect(page.locator("#version-facts")).to_contain_text("Took the parent's disk check")
    expect(page.locator("#version-structure")).to_contain_text(
        "Take a Nutanix snapshot and name it"
    )
    expect(page.get_by_role("link", name="Compare with previous")).to_have_count(0)

    fork.refresh_from_db()
    titles = {s["title"]: s["id"] for s in fork.tree_structure["steps"]}
    assert titles["Pre-check the server and its disks"] == "precheck"
    assert titles["Take a Nutanix snapshot and name it"] == "snapshot"
    assert "Tell the service desk" in titles
    assert fork.parent_version.number == 2
