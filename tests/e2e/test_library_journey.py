"""Issue 2's journey: log in, search the library, watch it narrow in place, open a flow."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import log_in


def test_engineer_searches_the_library_and_opens_a_flow(demo, new_page):
    page = new_page()
    log_in(page, "engineer@demo.local")
    page.goto("/flows/")  # engineers land on their dashboard; the library is one click away
    page.wait_for_load_state()

    cards = page.locator("article.flow-card")
    total = cards.count()
    assert total >= 12
    expect(page.locator("#result-count")).to_contain_text(f"{total} flows")

    # A marker on window survives only if the page is never reloaded.
    page.evaluate("window.__noReload = true")
    page.get_by_label("Search").fill("citrix")
    expect(page).to_have_url(re.compile(r"q=citrix"))
    expect(cards).not_to_have_count(total)
    narrowed = cards.count()
    assert 0 < narrowed < total
    vda = "Citrix VDA not registering with the Delivery Controller"
    expect(page.get_by_role("link", name=vda, exact=True)).to_be_visible()
    expect(cards.filter(has_text="SonicWall")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True

    page.get_by_label("Type").select_option("maintenance")
    expect(page).to_have_url(re.compile(r"tree_type=maintenance"))
    expect(page.locator(".badge-troubleshooting")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True

    first = cards.first.locator(".card-title a")
    name = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    steps = page.locator("li.step-card")
    expect(steps.first).to_be_visible()
    assert steps.count() >= 5
    expect(page.locator("pre.command").first).to_be_visible()
