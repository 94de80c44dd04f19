"""Issue 16: the checklist runner's focus mode, driven from the keyboard (j/k, x, n, ?), kept on
resume; ticks show a pending state and roll back with a toast when the server cannot take them."""

import re

from playwright.sync_api import expect

from flows.models import Tree
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import log_in, start_session


def start_onboarding(page) -> None:
    tree = Tree.objects.get(default_key="m365-user-onboarding")
    page.goto(f"/sessions/new/{tree.pk}/")
    for field in tree.intake_form:
        if field["name"] == "ticket":  # asked once, as the session's ticket number
            page.get_by_label("Ticket number").fill("INC-FOCUS")
            continue
        locator = page.locator(f"#id_var_{field['name']}")
        if field["type"] == "select":
            locator.select_option(field["options"][0])
        elif field.get("required"):
            locator.fill("2026-12-01" if "date" in field["name"] else f"test-{field['name']}")
    start_session(page)


def press_and_settle(page, key: str) -> None:
    page.evaluate(
        "window.__settled = false; document.addEventListener("
        "'htmx:afterSettle', () => { window.__settled = true }, {once: true})"
    )
    page.keyboard.press(key)
    page.wait_for_function("() => window.__settled === true")


def test_focus_mode_from_the_keyboard_kept_on_resume(demo, new_page):
    page = new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "engineer@demo.local")
    start_onboarding(page)
    run_url = page.url
    rows = page.locator("li.step-row")
    ids = [rows.nth(i).get_attribute("data-step-id") for i in range(3)]
    total = rows.count()

    page.get_by_role("button", name="Focus mode").click()
    expect(page.locator("#runner")).to_have_class(re.compile("focus-mode"))
    visible = page.locator("li.step-row:visible")
    expect(visible).to_have_count(1)
    expect(visible).to_have_attribute("data-step-id", ids[0])
    expect(page.locator(".focus-rail")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollHeight") < 2000  # not 4,600 px
    assert_accessible(page, "the runner in focus mode")
    # Focus order follows the reading order: the switch, Previous, Next, the help.
    page.get_by_role("button", name="Focus mode").focus()
    order = []
    for _ in range(3):
        page.keyboard.press("Tab")
        order.append(page.evaluate("() => document.activeElement.textContent.trim()"))
    assert [text.split()[0] for text in order] == ["Previous", "Next", "Shortcuts"], order
    page.locator("body").click(position={"x": 5, "y": 300})

    page.locator("body").press("j")
    expect(visible).to_have_attribute("data-step-id", ids[1])
    assert f"step={ids[1]}" in page.url and "view=focus" in page.url
    press_and_settle(page, "x")
    expect(page.locator(f"#tick-{ids[1]}")).to_be_checked()
    expect(page.locator("#progress-count")).to_have_text(f"1 of {total}")
    expect(page.locator(f'.rail-step[data-rail-for="{ids[1]}"]')).to_have_class(
        re.compile("is-done")
    )
    expect(visible).to_have_attribute("data-step-id", ids[1])  # the tick keeps the place

    page.keyboard.press("n")
    note = page.locator(f"#note-{ids[1]}")
    expect(note).to_be_focused()
    page.keyboard.type("Licence via group")
    expect(page.locator(f"#note-status-{ids[1]}")).to_contain_text("Saved")
    page.keyboard.press("Escape")
    page.keyboard.press("k")
    expect(visible).to_have_attribute("data-step-id", ids[0])
    press_and_settle(page, "x")
    expect(page.locator("#progress-count")).to_have_text(f"2 of {total}")

    page.keyboard.press("?")
    expect(page.locator("#shortcuts-modal")).to_be_visible()
    expect(page.locator("#shortcuts-modal")).to_contain_text("Tick (or untick) the current step")
    page.wait_for_function(  # Bootstrap ignores Esc while the modal is still fading in
        "() => { const m = bootstrap.Modal.getInstance(document.getElementById('shortcuts-modal'));"
        " return m && m._isShown && !m._isTransitioning; }"
    )
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-modal")).to_be_hidden()

    # Resume: the runner opens in focus mode on the first step not yet done.
    page.goto(run_url)
    expect(page.locator("#runner")).to_have_class(re.compile("focus-mode"))
    expect(page.locator("li.step-row:visible")).to_have_attribute("data-step-id", ids[2])
    # A reload keeps the exact place from the address.
    page.locator(f'.rail-step[data-rail-for="{ids[0]}"]').click()
    page.reload()
    expect(page.locator("li.step-row:visible")).to_have_attribute("data-step-id", ids[0])

    # Back to the full list.
    page.keyboard.press("f")
    expect(page.locator("#runner")).not_to_have_class(re.compile("focus-mode"))
    expect(page.locator("li.step-row:visible")).to_have_count(total)


def test_a_tick_the_server_never_gets_rolls_back_with_a_toast(demo, new_page):
    page = new_page()
    log_in(page, "engineer@demo.local")
    start_onboarding(page)
    first = page.locator("li.step-row").first
    step_id = first.get_attribute("data-step-id")
    box = page.locator(f"#tick-{step_id}")

    released = []

    def slow_then_fail(route) -> None:
        released.append(route)

    page.route(re.compile(r"/sessions/[0-9a-f-]+/steps/"), slow_then_fail)
    box.click()
    expect(first).to_have_class(re.compile("tick-pending"))
    expect(first).to_have_attribute("aria-busy", "true")
    page.wait_for_function("() => true")
    assert released
    released[0].abort()
    expect(box).not_to_be_checked()
    expect(first).not_to_have_class(re.compile("tick-pending"))
    expect(page.locator(".toast", has_text="could not be reached")).to_be_visible()
    page.unroute(re.compile(r"/sessions/[0-9a-f-]+/steps/"))

    # A refusal the server answers (403 here) rolls back too, with its own words.
    def forbidden(route) -> None:
        route.fulfill(status=403, content_type="text/plain", body="This session is completed.")

    page.route(re.compile(r"/sessions/[0-9a-f-]+/steps/"), forbidden)
    box.click()
    expect(page.locator(".toast", has_text="This session is completed.")).to_be_visible()
    expect(box).not_to_be_checked()


def test_history_filters_fit_and_rows_open_as_a_whole(demo, new_page):
    page = new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "engineer@demo.local")
    start_onboarding(page)
    page.goto("/sessions/")
    for field in ("#id_date_from", "#id_date_to"):
        box = page.locator(field).bounding_box()
        assert box["width"] >= 150, f"{field} is {box['width']} px wide"
    assert_accessible(page, "the run history")

    row = page.locator("tr.clickable-row").first
    row.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f-]{36}/$"))
    page.go_back()
    page.locator("tr.clickable-row td.text-nowrap").first.click()  # a cell, not the link
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f-]{36}/$"))


def test_focus_mode_on_a_phone_folds_the_rail(demo, new_page):
    page = new_page()
    log_in(page, "engineer@demo.local")
    start_onboarding(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Focus mode").click()
    rail = page.locator("#focus-rail-list")
    toggle = page.get_by_role("button", name=re.compile(r"All steps \(0 of \d+ done\)"))
    expect(toggle).to_be_visible()
    expect(rail).to_be_hidden()
    expect(page.locator("li.step-row:visible")).to_have_count(1)
    toggle.click()
    expect(rail).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"
    assert_accessible(page, "focus mode on a phone")
