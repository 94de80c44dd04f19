"""Issue 4's journey: launch a batch, work a target in a second browser, watch the first
page update itself, then see the banner and the run history on the flow. Issue 11's: state
chips, the search and the poll of a bigger batch."""

import re

from playwright.sync_api import Page, expect

from accounts.models import User
from flows.models import Tree
from sessions import services, tidy
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import log_in


def live(locator) -> None:
    """Wait until htmx has processed this element (a fresh page or a swap)."""
    expect(locator).to_be_visible()
    locator.page.wait_for_function(
        "el => el['htmx-internal-data'] !== undefined", arg=locator.element_handle()
    )


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
    live(card.get_by_role("button", name="Start"))
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


def intake_answers(tree: Tree) -> dict[str, str]:
    return {
        f["name"]: f["options"][0] if f["type"] == "select" else "CHG0042" for f in tree.intake_form
    }


def test_big_batch_chips_search_and_live_poll(demo, new_page):
    tree = Tree.objects.get(default_key="rds-session-host-monthly-patching")
    owner = User.objects.get(email="owner@demo.local")
    labels = [f"web-{i:02}" for i in range(20)] + [f"db-{i:02}" for i in range(10)]
    batch = services.batch_launch(
        tree=tree, user=owner, targets=labels, variables=intake_answers(tree)
    )
    sessions = {s.target_label: s for s in batch.sessions.all()}
    for label in ("web-00", "web-01", "db-00"):
        started = services.batch_session_start(session=sessions[label], user=owner)
        if label != "db-00":
            services.session_complete(session=started, user=owner, outcome="resolved")

    page = new_page()
    answers: list[int] = []
    page.on(
        "response",
        lambda r: answers.append(r.status) if f"/batches/{batch.pk}/" in r.url else None,
    )
    log_in(page, "engineer@demo.local")
    page.goto(f"/flows/{tree.pk}/batches/{batch.pk}/")
    chips = page.locator("#batch-chips")
    expect(chips.locator("[data-chip=not_started]")).to_contain_text("27")
    expect(chips.locator("[data-chip=in_progress]")).to_contain_text("1")
    expect(chips.locator("[data-chip=resolved]")).to_contain_text("2")
    # Completed targets start collapsed.
    expect(page.locator("#batch-done")).not_to_have_attribute("open", "")
    expect(page.locator(".target-card[data-target='web-00']")).to_be_hidden()
    assert_accessible(page, "batch status page with chips of every kind")

    # A chip shows one state; the URL keeps it.
    live(chips.locator("[data-chip=in_progress]"))
    chips.locator("[data-chip=in_progress]").click()
    expect(page.locator(".target-card")).to_have_count(1)
    expect(page.locator(".target-card")).to_have_attribute("data-target", "db-00")
    expect(page).to_have_url(re.compile(r"state=in_progress"))

    # Back to all, then the search narrows as you type (keyboard: "/" focuses it).
    live(page.locator("#batch-chips [data-chip=all]"))
    page.locator("#batch-chips [data-chip=all]").click()
    expect(page.locator(".target-card:visible")).to_have_count(28)
    page.keyboard.press("/")
    expect(page.locator("#batch-q")).to_be_focused()
    page.keyboard.type("db-0")
    expect(page.locator(".target-card")).to_have_count(10)
    expect(page.locator("#batch-shown")).to_contain_text("10 of 30 targets shown")

    # Another engineer starts db-05: the poll brings it in, within the search.
    services.batch_session_start(session=sessions["db-05"], user=owner)
    card = page.locator(".target-card[data-target='db-05']")
    expect(card).to_have_attribute("data-state", "in_progress", timeout=12_000)
    expect(page.locator("#batch-chips [data-chip=in_progress]")).to_contain_text("2")
    expect(page.locator("#batch-q")).to_have_value("db-0")

    # Nothing changes: the next poll is a 304 and nothing is swapped.
    page.evaluate(
        "window.__swapped = false; "
        "document.addEventListener('htmx:afterSwap', () => { window.__swapped = true })"
    )
    before = answers.count(304)
    for _ in range(60):  # the next poll comes within 5 s, later on a busy machine
        if answers.count(304) > before:
            break
        page.wait_for_timeout(250)
    assert answers.count(304) > before
    assert page.evaluate("window.__swapped") is False

    # The completed section a reader opened stays open when a change is swapped in.
    page.locator("#batch-q").fill("")
    expect(page.locator(".target-card")).to_have_count(30)
    page.locator("#batch-done > summary").click()
    expect(page.locator(".target-card[data-target='web-00']")).to_be_visible()
    services.batch_session_start(session=sessions["web-05"], user=owner)
    card = page.locator(".target-card[data-target='web-05']")
    expect(card).to_have_attribute("data-state", "in_progress", timeout=12_000)
    expect(page.locator(".target-card[data-target='web-00']")).to_be_visible()
