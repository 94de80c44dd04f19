"""Issue 4's journey: launch a batch, work a target in a second browser, watch the first
page update itself, then see the banner and the run history on the flow."""

import re

from playwright.sync_api import Page, expect

from flows.models import Tree
from sessions import tidy
from tests.e2e.conftest import log_in


def fill_intake(page: Page, tree: Tree) -> None:
    ticket = tidy.ticket_field(tree.intake_form)  # asked once, as the ticket number (issue 14)
    for field in tree.intake_form:
        name = "ticket_number" if field["name"] == ticket else f"var_{field['name']}"
        locator = page.locator(f"#id_{name}")
        if field["type"] == "select":
            locator.select_option(field["options"][0])
        elif field.get("required"):
            locator.fill("CHG0042")


def complete_target(page: Page, label: str) -> None:
    card = page.locator(f".target-card[data-target='{label}']")
    card.get_by_role("button", name="Start").click()
    page.wait_for_load_state()
    expect(page.locator("#batch-strip")).to_contain_text(label)
    page.get_by_role("button", name="Complete session").first.click()
    page.locator("#complete-modal").get_by_label("Outcome").select_option("resolved")
    page.locator("#complete-modal").get_by_role("button", name="Complete session").click()
    expect(page).to_have_url(re.compile(r"/batches/"))
    page.wait_for_load_state()


def test_batch_of_three_targets_updates_live(demo, new_page):
    tree = Tree.objects.get(default_key="rds-session-host-monthly-patching")
    lead = new_page()
    log_in(lead, "engineer@demo.local")
    lead.goto(f"/flows/{tree.pk}/")
    lead.get_by_role("link", name="Run on targets").click()
    lead.get_by_role("textbox", name="Targets").fill("RDS-01\nRDS-02\nRDS-03")
    fill_intake(lead, tree)
    lead.get_by_role("button", name="Launch batch").click()
    lead.wait_for_load_state()
    expect(lead.locator(".target-card")).to_have_count(3)
    expect(lead.locator("#batch-count")).to_have_text("0 of 3 complete")
    batch_url = lead.url
    lead.evaluate("window.__noReload = true")

    helper = new_page()
    log_in(helper, "owner@demo.local")
    helper.goto(batch_url)  # goto waits for the load event
    complete_target(helper, "RDS-01")

    # The first page polls every 5 s: the card and the bar change without a reload.
    card = lead.locator(".target-card[data-target='RDS-01']")
    expect(card).to_have_attribute("data-state", "complete", timeout=12_000)
    expect(card).to_contain_text("Resolved")
    expect(lead.locator("#batch-count")).to_have_text("1 of 3 complete")
    expect(lead.locator("#batch-bar")).to_have_attribute("style", re.compile("width: 33%"))
    assert lead.evaluate("window.__noReload") is True

    lead.goto(f"/flows/{tree.pk}/")
    banner = lead.locator(".active-batch-banner")
    expect(banner).to_contain_text("Batch in progress — 1/3 complete")
    banner.click()
    expect(lead).to_have_url(batch_url)

    complete_target(lead, "RDS-02")
    complete_target(lead, "RDS-03")
    expect(lead.locator("#batch-summary")).to_contain_text("3 resolved")
    expect(lead.locator("#batch-cards")).to_have_attribute("data-finished", "true")

    lead.goto(f"/flows/{tree.pk}/")
    expect(lead.locator(".batch-row")).to_have_count(1)
    expect(lead.locator(".active-batch-banner")).to_have_count(0)
    row = lead.locator(".batch-row").first
    expect(row.locator(".dot")).to_have_count(3)
    expect(row.locator(".dot[data-state=complete]")).to_have_count(3)
    expect(row.locator(".batch-summary")).to_have_text("3 resolved")
    row.locator("td").nth(2).click()
    expect(lead).to_have_url(batch_url)
