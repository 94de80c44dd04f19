"""Issue 10: wrong passwords lock the login; the person sees why and for how long, in the site's
layout, and the right password waits too until an admin unlocks it."""

from axes.utils import reset
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, log_in


def try_password(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_wrong_passwords_lock_the_login_until_an_admin_unlocks_it(demo, new_page):
    page = new_page()
    for _ in range(4):
        try_password(page, "engineer@demo.local", "not-my-password")
        expect(page.get_by_role("alert")).to_contain_text("Please enter a correct")
    try_password(page, "engineer@demo.local", "not-my-password")
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed attempts; try again in 15 minutes."
    )
    expect(page).to_have_title("Too many failed attempts · ResolutionFlow")

    try_password(page, "engineer@demo.local", DEMO_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")

    reset(username="engineer@demo.local", ip_or_username=True, ip="127.0.0.1")
    log_in(page, "engineer@demo.local")
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
