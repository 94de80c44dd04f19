"""Issue 13's assignment and report copy in the browser: the launch form assigns targets by hand
from the team's engineers, the launcher re-assigns one with "Assign…" on its card, and Copy for
Ticket of a batch report whose note holds a password previews the finding and copies it redacted."""

import re

from playwright.sync_api import Page, expect

from accounts.models import AuditAction, AuditEvent, User
from flows.models import Tree
from sessions.models import FlowSession
from sessions.services import batches
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import log_in
from tests.e2e.test_batch_journey import fill_intake, live

PASSWORD = "Welcome2024!"


def card(page: Page, label: str):
    return page.locator(f".target-card[data-target='{label}']")


def test_assign_by_hand_at_launch_and_later_from_the_card(demo, new_page):
    tree = Tree.objects.get(default_key="rds-session-host-monthly-patching")
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto(f"/flows/{tree.pk}/")
    page.get_by_role("link", name="Run on targets").click()
    page.get_by_role("textbox", name="Targets").fill("RDS-01\nRDS-02")
    fill_intake(page, tree)
    page.get_by_label("Assign targets").select_option("by_hand")
    # htmx brings one select of the team's engineers per target.
    rows = page.locator("#assign-by-hand select")
    expect(rows).to_have_count(2)
    assert_accessible(page, "the launch form assigning by hand")
    page.get_by_label("RDS-01", exact=True).select_option("owner@demo.local")
    page.get_by_role("button", name="Launch batch").click()
    page.wait_for_url(re.compile(r"/batches/[0-9a-f-]{36}/$"))
    page.wait_for_load_state()
    owner = User.objects.get(email="owner@demo.local")
    expect(card(page, "RDS-01").locator(".target-assignee")).to_have_text(owner.display_name)
    expect(card(page, "RDS-02").locator(".target-assignee")).to_have_count(0)

    # The launcher gives RDS-02 to the owner too, from the card's "Assign…" dialog.
    assign = card(page, "RDS-02").get_by_role("button", name="Assign…")
    live(card(page, "RDS-02").get_by_role("button", name="Assign to me"))
    assign.click()
    dialog = page.locator("#assign-modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#assign-target")).to_have_text("RDS-02")
    expect(dialog.get_by_label("Engineer of your team")).to_be_focused()
    dialog.get_by_label("Engineer of your team").select_option("owner@demo.local")
    dialog.get_by_role("button", name="Assign").click()
    page.wait_for_url(re.compile(r"/batches/[0-9a-f-]{36}/$"))
    page.wait_for_load_state()
    expect(card(page, "RDS-02").locator(".target-assignee")).to_have_text(owner.display_name)
    assert FlowSession.objects.filter(assigned_to=owner, current=True).count() == 2


def test_copy_the_batch_report_redacts_a_password_in_a_note(demo, new_page):
    tree = Tree.objects.get(default_key="rds-session-host-monthly-patching")
    engineer = User.objects.get(email="engineer@demo.local")
    intake = {field["name"]: (field.get("options") or ["CHG0042"])[0] for field in tree.intake_form}
    batch = batches.batch_launch(
        tree=tree, user=engineer, targets=["RDS-01", "RDS-02"], variables=intake
    )
    batches.target_mark(
        session=FlowSession.objects.get(batch=batch, target_label="RDS-01"),
        user=engineer,
        state="blocked",
        note=f"console locked; local admin password is {PASSWORD}",
    )
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(page, "engineer@demo.local")
    page.goto(f"/flows/{tree.pk}/batches/{batch.pk}/")
    page.wait_for_load_state()
    expect(page.locator("#report-findings")).to_contain_text("1 possible secret found")

    page.locator("#copy-batch-report").click()
    modal = page.locator("#redaction-modal")
    expect(modal).to_be_visible()
    expect(modal.locator("#finding-count")).to_have_text("1 finding")
    mark = modal.locator("mark.rf-finding")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(PASSWORD)
    expect(mark).to_have_attribute("data-kind", "password")
    expect(modal.get_by_role("button", name="Copy as is")).to_be_visible()
    with page.expect_response(lambda response: "/copied/" in response.url) as answer:
        modal.get_by_role("button", name="Redact all and copy").click()
    assert answer.value.status == 204
    expect(modal).to_be_hidden()
    expect(page.locator(".toast", has_text="with 1 finding redacted")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert PASSWORD not in copied
    assert "local admin password is [REDACTED:password]" in copied
    assert copied.startswith("ResolutionFlow batch: ") and "RDS-02" in copied
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_UNREDACTED).exists()
