"""Issue 13's journey: launch 4 targets with canary 1, see three wait, complete the canary,
start the rest, mark one unreachable, retry it, hand one over to a second engineer who
finishes it in another browser, and copy the batch report."""

import re

from playwright.sync_api import Page, expect

from flows.models import Tree
from sessions.models import FlowSession
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import log_in
from tests.e2e.test_batch_journey import complete_target, fill_intake, live


def card(page: Page, label: str):
    return page.locator(f".target-card[data-target='{label}']")


def complete_here(page: Page) -> None:
    page.get_by_role("button", name="Complete session").first.click()
    page.locator("#complete-modal").get_by_label("Outcome").select_option("resolved")
    page.locator("#complete-modal").get_by_role("button", name="Complete session").click()
    # A batch target goes back to its batch once the completion is stored.
    page.wait_for_url(re.compile(r"/batches/[0-9a-f-]{36}/$"))
    page.wait_for_load_state()


def test_canary_mark_retry_handover_and_report(demo, new_page):
    tree = Tree.objects.get(default_key="rds-session-host-monthly-patching")
    lead = new_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(lead, "engineer@demo.local")
    lead.goto(f"/flows/{tree.pk}/")
    lead.get_by_role("link", name="Run on targets").click()
    lead.get_by_role("textbox", name="Targets").fill("RDS-01\nRDS-02\nRDS-03\nRDS-04")
    fill_intake(lead, tree)
    lead.get_by_label("Canary targets").fill("1")
    lead.get_by_role("button", name="Launch batch").click()
    lead.wait_for_url(re.compile(r"/batches/[0-9a-f-]{36}/$"))
    lead.wait_for_load_state()
    batch_url = lead.url

    # Only the canary can start; the other three wait for it.
    expect(lead.locator(".target-card")).to_have_count(4)
    expect(lead.locator(".target-card[data-waiting='true']")).to_have_count(3)
    expect(card(lead, "RDS-02")).to_contain_text("Waiting for canary")
    expect(card(lead, "RDS-02").get_by_role("button", name="Start")).to_have_count(0)
    assert_accessible(lead, "batch status page with a canary (pause, cancel, chips)")

    complete_target(lead, "RDS-01")
    lead.goto(batch_url)
    expect(lead.locator(".target-card[data-waiting='true']")).to_have_count(0)

    # Start the rest: RDS-02 is done, RDS-03 turns out unreachable, RDS-04 changes hands.
    complete_target(lead, "RDS-02")
    lead.goto(batch_url)
    unreachable = card(lead, "RDS-03")
    unreachable.locator("summary", has_text="Mark").click()
    unreachable.get_by_label("State").select_option("unreachable")
    unreachable.get_by_label("Reason or note").fill("no ping from the jump host")
    live(unreachable.get_by_role("button", name="Mark"))
    unreachable.get_by_role("button", name="Mark").click()
    expect(card(lead, "RDS-03")).to_have_attribute("data-state", "unreachable")
    expect(card(lead, "RDS-03")).to_contain_text("no ping from the jump host")
    assert_accessible(lead, "batch status page with an unreachable target")

    live(card(lead, "RDS-03").get_by_role("button", name="Retry"))
    card(lead, "RDS-03").get_by_role("button", name="Retry").click()
    expect(card(lead, "RDS-03")).to_have_attribute("data-state", "not_started")
    expect(card(lead, "RDS-03")).to_contain_text("#2")
    complete_target(lead, "RDS-03")
    lead.goto(batch_url)

    start = card(lead, "RDS-04").get_by_role("button", name="Start")
    live(start)
    start.click()
    lead.wait_for_url(re.compile(r"/run/$"))
    session = FlowSession.objects.get(target_label="RDS-04", current=True)
    lead.goto(f"/sessions/{session.pk}/")
    lead.get_by_label("Hand over to").select_option("owner@demo.local")
    lead.locator("#handover-note").fill("patched, reboot pending")
    lead.get_by_role("button", name="Hand over").click()
    lead.wait_for_load_state()
    expect(lead.locator("#timeline")).to_contain_text("patched, reboot pending")

    second = new_page()
    log_in(second, "owner@demo.local")
    second.goto("/dashboard/")
    expect(second.locator("#notifications-badge")).to_contain_text("1")
    second.locator("#notifications-link").click()
    second.get_by_role("link", name=re.compile("handed RDS-04 over to you")).click()
    second.get_by_role("link", name="Resume").click()
    second.wait_for_url(re.compile(r"/run/$"))
    complete_here(second)

    lead.goto(batch_url)
    expect(lead.locator("#batch-count")).to_have_text("4 of 4 complete")
    lead.locator("#copy-batch-report").click()
    expect(lead.locator(".toast", has_text="Batch report copied")).to_be_visible()
    copied = lead.evaluate("navigator.clipboard.readText()")
    assert "RDS-04 | Resolved" in copied and "4 resolved" in copied
