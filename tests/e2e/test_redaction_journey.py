"""Issue 14's journey: Copy for Ticket on a session whose notes hold secrets. The preview shows
each finding and its kind; redact all, review one by one and copy as is each put the text the
engineer chose on the clipboard; the owner's "always redact" then takes copy as is away."""

from playwright.sync_api import Page, expect

from accounts.models import AuditAction, AuditEvent, User
from flows.models import Tree
from sessions import services
from tests.e2e.conftest import log_in

PASSWORD = "Welcome2024!"
TOKEN = "ghp_gNSWPH8prVqsUeQCtDR3zzX6hqo35uwZqxZO"


def leaky_session(engineer: User):
    """A completed troubleshooting run with a password in a note and a token in the notes."""
    tree = Tree.objects.get(default_key="account-locked-out-password-reset")
    session = services.session_start(tree=tree, user=engineer, ticket_number="INC-1414")
    root = tree.tree_structure
    session = services.session_answer(
        session=session,
        user=engineer,
        node_id=root["id"],
        choice=root["options"][0]["label"],
        note=f"Reset the password; temp password is {PASSWORD} (phoned to the user)",
    )
    return services.session_complete(
        session=session,
        user=engineer,
        outcome="resolved",
        outcome_notes=f"Sync script now uses token {TOKEN}",
    )


def clipboard(page: Page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def copy(page: Page, button: str) -> str:
    """Open Copy for Ticket, press one of the preview's buttons, read the clipboard back."""
    page.get_by_role("button", name="Copy for Ticket").click()
    modal = page.locator("#redaction-modal")
    expect(modal).to_be_visible()
    with page.expect_response(lambda response: "/exported/" in response.url):
        modal.get_by_role("button", name=button).click()
    expect(modal).to_be_hidden()
    return clipboard(page)


def test_copy_for_ticket_previews_findings_and_copies_the_chosen_text(demo, new_page):
    engineer = User.objects.get(email="engineer@demo.local")
    session = leaky_session(engineer)
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(page, "engineer@demo.local")
    page.goto(f"/sessions/{session.pk}/")
    page.wait_for_load_state()
    expect(page.locator("#findings-badge")).to_have_text("2 possible secrets found")

    # The preview: both findings highlighted with their kind, the three choices.
    page.get_by_role("button", name="Copy for Ticket").click()
    modal = page.locator("#redaction-modal")
    expect(modal.locator("#finding-count")).to_have_text("2 findings")
    marks = modal.locator("mark.rf-finding")
    expect(marks).to_have_count(2)
    expect(marks.nth(0)).to_have_text(PASSWORD)
    expect(marks.nth(0)).to_have_attribute("data-kind", "password")
    expect(marks.nth(1)).to_have_attribute("data-kind", "github-token")
    expect(modal.locator("#finding-kinds")).to_contain_text("1 × GitHub token")
    for name in ["Redact all and copy", "Review one by one", "Copy as is"]:
        expect(modal.get_by_role("button", name=name)).to_be_visible()
    modal.get_by_role("button", name="Close").click()
    expect(modal).to_be_hidden()

    # Redact all (the default).
    copied = copy(page, "Redact all and copy")
    expect(page.locator(".toast", has_text="with 2 findings redacted")).to_be_visible()
    assert PASSWORD not in copied and TOKEN not in copied
    assert "temp password is [REDACTED:password]" in copied
    assert "[REDACTED:github-token]" in copied and "Ticket: INC-1414" in copied
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_UNREDACTED).exists()

    # Review one by one: keep the password (say it is a known test account), redact the token.
    page.get_by_role("button", name="Copy for Ticket").click()
    modal.get_by_role("button", name="Review one by one").click()
    review = modal.locator("#redaction-review")
    expect(review).to_be_visible()
    review.get_by_role("checkbox").first.uncheck()
    expect(marks.nth(0)).to_have_class("rf-finding rf-kept")
    with page.expect_response(lambda response: "/exported/" in response.url):
        modal.get_by_role("button", name="Copy with my choices").click()
    copied = clipboard(page)
    assert PASSWORD in copied and TOKEN not in copied
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_UNREDACTED)
    assert event.detail == {"choice": "review", "found": 2, "kept": 1, "kinds": ["password"]}

    # Copy as is: everything, recorded.
    page.reload()
    page.wait_for_load_state()
    copied = copy(page, "Copy as is")
    assert PASSWORD in copied and TOKEN in copied
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_UNREDACTED).count() == 2


def test_always_redact_takes_copy_as_is_away(demo, new_page):
    engineer = User.objects.get(email="engineer@demo.local")
    session = leaky_session(engineer)
    owner_page = new_page()
    log_in(owner_page, "owner@demo.local")
    owner_page.goto("/team/")
    owner_page.wait_for_load_state()
    panel = owner_page.locator("#redaction-panel")
    panel.get_by_label("Always redact").check()
    panel.get_by_role("button", name="Save redaction options").click()
    expect(owner_page.locator(".toast", has_text="Redaction options saved.")).to_be_visible()
    expect(owner_page.locator("#redaction-panel").get_by_label("Always redact")).to_be_checked()

    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(page, "engineer@demo.local")
    page.goto(f"/sessions/{session.pk}/")
    page.wait_for_load_state()
    page.get_by_role("button", name="Copy for Ticket").click()
    modal = page.locator("#redaction-modal")
    expect(modal).to_contain_text("Your team always redacts.")
    expect(modal.get_by_role("button", name="Copy as is")).to_have_count(0)
    modal.get_by_role("button", name="Close").click()
    expect(modal).to_be_hidden()
    copied = copy(page, "Redact all and copy")
    assert PASSWORD not in copied and TOKEN not in copied


def test_redacted_copy_works_on_a_plain_http_intranet_host(demo, new_page, live_server, settings):
    """No Clipboard API there: the fallback copies from inside the open preview."""
    settings.ALLOWED_HOSTS = ["*"]
    engineer = User.objects.get(email="engineer@demo.local")
    session = leaky_session(engineer)
    port = live_server.url.rsplit(":", 1)[1]
    page = new_page(base_url=f"http://intranet.test:{port}", permissions=["clipboard-write"])
    log_in(page, "engineer@demo.local")
    assert page.evaluate("window.isSecureContext") is False
    page.goto(f"/sessions/{session.pk}/")
    page.wait_for_load_state()
    page.get_by_role("button", name="Copy for Ticket").click()
    modal = page.locator("#redaction-modal")
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="Redact all and copy").click()
    expect(page.locator(".toast", has_text="with 2 findings redacted")).to_be_visible()

    # Read the system clipboard back from a secure origin in the same browser context.
    reader = page.context.new_page()
    page.context.grant_permissions(["clipboard-read"], origin=live_server.url)
    reader.goto(live_server.url + "/accounts/login/")
    copied = reader.evaluate("navigator.clipboard.readText()")
    assert "[REDACTED:password]" in copied and PASSWORD not in copied and TOKEN not in copied
