"""Issue 9: htmx requests that fail show a toast with the server's words; no error page is
swapped into the page, and nothing is saved."""

from playwright.sync_api import expect

from accounts.models import User
from flows.models import Tree
from sessions import services
from sessions.models import FlowSession
from tests.e2e.conftest import log_in


def start_onboarding(engineer: User) -> FlowSession:
    tree = Tree.objects.get(default_key="m365-user-onboarding")
    answers = {
        field["name"]: field["options"][0] if field["type"] == "select" else "2026-12-01"
        for field in tree.intake_form
    }
    return services.session_start(
        tree=tree, user=engineer, ticket_number="INC-1", variables=answers
    )


def test_failed_htmx_requests_show_a_toast_not_an_error_page(demo, new_page):
    session = start_onboarding(User.objects.get(email="engineer@demo.local"))
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto(f"/sessions/{session.pk}/run/")
    first = page.locator("li.step-row").first.get_attribute("data-step-id")

    # A note carrying NUL (pasted from some other program) is refused with a toast.
    page.locator(f"#note-{first}").evaluate(
        "(box) => { box.value = 'Licence\\u0000assigned'; box.dispatchEvent(new Event('input')) }"
    )
    refused = page.locator(".toast", has_text="NUL character")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("Nothing was saved")
    assert FlowSession.objects.get(pk=session.pk).step_state.get(first, {}).get("note", "") == ""

    # The session is deleted elsewhere; ticking a step answers 404: a toast, the page stays.
    FlowSession.objects.filter(pk=session.pk).delete()
    page.locator(f"#tick-{first}").click()
    expect(page.locator(".toast", has_text="There is nothing at this address")).to_be_visible()
    expect(page.locator("#checklist")).to_be_visible()
    expect(page.locator("text=Page not found")).to_have_count(0)
    expect(page.locator("nav[aria-label='Main navigation']")).to_have_count(1)
