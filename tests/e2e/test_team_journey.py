"""Issue 10's team journey: an owner invites an engineer, the engineer accepts through the link,
logs in and runs a flow, the owner demotes them to viewer; the audit trail records each step."""

from playwright.sync_api import expect

from accounts.models import AuditAction, AuditEvent, Role, User
from flows.models import Tree
from sessions.models import FlowSession
from tests.e2e.conftest import click_and_settle, log_in, path_to_solution, start_session

NEW_EMAIL = "newbie@demo.local"
NEW_PASSWORD = "a-fresh-secret-77"


def test_invite_accept_run_and_demote(demo, new_page):
    owner_page = new_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(owner_page, "owner@demo.local")
    owner_page.get_by_role("link", name="Team", exact=True).click()
    expect(owner_page.get_by_role("heading", name="Members")).to_be_visible()

    panel = owner_page.locator("#invite-panel")
    panel.get_by_label("E-mail").fill(NEW_EMAIL)
    panel.get_by_label("Role").select_option("engineer")
    click_and_settle(owner_page, panel.get_by_role("button", name="Send invitation"))
    link_box = owner_page.locator("#invitation-link")
    link = link_box.input_value()
    assert "/team/invitations/" in link
    owner_page.locator("#invite-panel").get_by_role("button", name="Copy").click()
    expect(owner_page.locator(".toast", has_text="Invitation link copied.")).to_be_visible()
    assert owner_page.evaluate("navigator.clipboard.readText()") == link
    expect(owner_page.locator("#invitations")).to_contain_text(f"{NEW_EMAIL} · Engineer")

    newbie = new_page()
    newbie.goto(link)
    expect(newbie.get_by_role("heading", name="Join Demo MSP")).to_be_visible()
    newbie.get_by_label("Your name").fill("Newbie")
    newbie.locator("#id_password1").fill(NEW_PASSWORD)
    newbie.locator("#id_password2").fill(NEW_PASSWORD)
    newbie.get_by_role("button", name="Join the team").click()
    newbie.wait_for_url("**/flows/")
    expect(newbie.locator(".toast", has_text="Welcome to Demo MSP.")).to_be_attached()

    # Out and in again with the password they chose, then a run to its solution.
    newbie.context.clear_cookies()
    log_in(newbie, NEW_EMAIL, NEW_PASSWORD)
    tree = Tree.objects.get(default_key="windows-update-failing")
    newbie.goto(f"/sessions/new/{tree.pk}/")
    newbie.get_by_label("Ticket number").fill("INC-NEW")
    start_session(newbie)
    for node_id, label in path_to_solution(tree.tree_structure):
        button = newbie.locator(f"#node-{node_id}").get_by_role("button", name=label, exact=True)
        click_and_settle(newbie, button)
    expect(newbie.locator("[data-node-type=solution]")).to_be_visible()
    member = User.objects.get(email=NEW_EMAIL)
    assert FlowSession.objects.filter(user=member, ticket_number="INC-NEW").exists()

    owner_page.goto("/team/")
    row = owner_page.locator(f"tr[data-email='{NEW_EMAIL}']")
    expect(row).to_contain_text("Newbie")
    expect(row.get_by_label(f"Role of {NEW_EMAIL}")).to_have_value("engineer")
    owner_page.evaluate(
        "window.__settled = false; document.addEventListener("
        "'htmx:afterSettle', () => { window.__settled = true }, {once: true})"
    )
    row.get_by_label(f"Role of {NEW_EMAIL}").select_option("viewer")
    owner_page.wait_for_function("() => window.__settled === true")
    expect(
        owner_page.locator(f"tr[data-email='{NEW_EMAIL}']").get_by_label(f"Role of {NEW_EMAIL}")
    ).to_have_value("viewer")
    assert User.objects.get(pk=member.pk).role == Role.VIEWER

    events = list(AuditEvent.objects.filter(account=member.account).order_by("id"))
    steps = [(e.action, e.actor_email) for e in events]
    assert steps == [
        (AuditAction.MEMBER_INVITED, "owner@demo.local"),
        (AuditAction.INVITATION_ACCEPTED, NEW_EMAIL),
        (AuditAction.ROLE_CHANGED, "owner@demo.local"),
    ]
    assert events[0].detail == {"email": NEW_EMAIL, "role": "engineer"}
    assert events[2].target_id == str(member.pk)
    assert events[2].detail == {"from": "engineer", "to": "viewer"}

    # The owner reads the same three steps on the audit trail, newest first, and narrows it.
    owner_page.get_by_role("link", name="Audit trail").click()
    expect(owner_page.get_by_role("heading", level=1)).to_contain_text("Audit trail")
    rows = owner_page.locator("#audit-events tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Role changed")
    expect(rows.nth(0)).to_contain_text("engineer → viewer")
    expect(rows.nth(1)).to_contain_text("Invitation accepted")
    expect(rows.nth(1)).to_contain_text(NEW_EMAIL)
    expect(rows.nth(2)).to_contain_text("Member invited")
    expect(rows.nth(2)).to_contain_text("as engineer")
    owner_page.get_by_label("Action").select_option(label="Role changed")
    expect(rows).to_have_count(1)
    expect(owner_page.locator("#result-count")).to_have_text("1 event")


def test_deactivate_asks_first_then_locks_the_member_out(demo, new_page):
    page = new_page()
    log_in(page, "owner@demo.local")
    page.goto("/team/")
    row = page.locator("tr[data-email='viewer@demo.local']")

    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("Active")
    assert User.objects.get(email="viewer@demo.local").is_active

    page.once("dialog", lambda dialog: dialog.accept())
    click_and_settle(page, row.get_by_role("button", name="Deactivate"))
    row = page.locator("tr[data-email='viewer@demo.local']")
    expect(row).to_contain_text("Deactivated")
    expect(row.get_by_role("button", name="Reactivate")).to_be_visible()
    assert not User.objects.get(email="viewer@demo.local").is_active

    other = new_page()
    other.goto("/accounts/login/")
    other.get_by_label("E-mail").fill("viewer@demo.local")
    other.get_by_label("Password").fill("e2e-demo-pass")
    other.get_by_role("button", name="Log in").click()
    expect(other.locator(".alert-danger")).to_be_visible()
    assert "/accounts/login/" in other.url
