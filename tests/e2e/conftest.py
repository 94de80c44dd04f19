"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live_server."""

import contextlib
import os
import re

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from accounts.demo import demo_seed
from flows.default_content import default_flows_load

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A plain-http "intranet" name for this machine: not a secure context, no Clipboard API.
    "--host-resolver-rules=MAP intranet.test 127.0.0.1",
]
DEMO_PASSWORD = "e2e-demo-pass"
# Every page of every journey reports Content-Security-Policy violations to the test.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__rfCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} ` +
    `at ${e.sourceFile}:${e.lineNumber} on ${document.location.pathname}`);
});
"""
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Browser:
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def demo(transactional_db):
    """Default flows and the demo logins, as `make run` has them."""
    default_flows_load()
    return demo_seed(password=DEMO_PASSWORD)


@pytest.fixture
def csp_violations() -> list[str]:
    """What the browser blocked or complained about under the policy headers, in every page."""
    return []


@pytest.fixture
def new_page(browser, live_server, csp_violations):
    """A page in a fresh context; the test fails if the policies blocked or refused anything.

    Give wait_for_function a function ("() => window.x === true"), never a bare expression:
    Playwright evaluates a string predicate with eval in the page, which the policy refuses.
    """
    contexts = []

    def console(message) -> None:
        if message.type in ("error", "warning") and any(w in message.text for w in POLICY_WORDS):
            csp_violations.append(f"console: {message.text}")

    def make(base_url: str | None = None, **options) -> Page:
        context = browser.new_context(
            base_url=base_url or live_server.url, viewport={"width": 1280, "height": 900}, **options
        )
        context.set_default_timeout(10_000)
        context.expose_function("__rfCspViolation", lambda text: csp_violations.append(text))
        context.add_init_script(CSP_WATCH)
        context.on("console", console)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        for page in context.pages:
            # Let reports still in flight arrive (a page mid-navigation already sent its own).
            with contextlib.suppress(PlaywrightError):
                page.evaluate("0")
        context.close()
    # The policy is enforced during every journey: nothing it blocked may have been needed.
    assert csp_violations == [], "Content-Security-Policy / Permissions-Policy problems"


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # Engineers and above land on their dashboard, viewers on the flow library.
    page.wait_for_url(re.compile(r"/(dashboard|flows)/$"))
    page.wait_for_load_state()


def start_session(page: Page) -> None:
    """Press "Start session" on the start page and wait until the runner has loaded (htmx and
    Bootstrap are live only then; the old page's load state would answer at once)."""
    page.get_by_role("button", name="Start session").click()
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f-]{36}/run/$"))
    page.wait_for_load_state()


# Marks the clicked element's own htmx request, then the settle of that request (matched by its
# XMLHttpRequest): another swap settling meanwhile (a poll, a note's autosave) does not count.
SETTLE_WATCH = """(el) => {
  el.__rfSettled = false;
  const ours = (source) => source === el || source.contains(el) || el.contains(source) ||
    (el.form !== undefined && el.form === source);
  const onRequest = (event) => {
    if (!ours(event.detail.elt)) return;
    document.removeEventListener("htmx:beforeRequest", onRequest, true);
    const xhr = event.detail.xhr;
    const onSettle = (settled) => {
      if (settled.detail.xhr !== xhr) return;
      document.removeEventListener("htmx:afterSettle", onSettle, true);
      el.__rfSettled = true;
    };
    document.addEventListener("htmx:afterSettle", onSettle, true);
  };
  document.addEventListener("htmx:beforeRequest", onRequest, true);
}"""


@contextlib.contextmanager
def htmx_settle(page: Page, locator):
    """Wait, after the body, until the htmx request made by `locator`'s element (or the element
    around it: its form, its sortable item) has settled, whatever else settles meanwhile."""
    handle = locator.element_handle()
    handle.evaluate(SETTLE_WATCH)
    yield
    # The element may itself be swapped out: the handle still points at the detached element.
    page.wait_for_function("(el) => el.__rfSettled === true", arg=handle)


def click_and_settle(page: Page, locator) -> None:
    """Click something that makes htmx swap content, and wait until the swap of the request
    that click made has settled (new elements are only live once htmx has processed them)."""
    with htmx_settle(page, locator):
        locator.click()


def path_to_solution(structure: dict) -> list[tuple[str, str]]:
    """(node id, button label) pairs leading from the root to the nearest solution."""
    index: dict = {}
    stack = [structure]
    while stack:
        node = stack.pop()
        index[node["id"]] = node
        stack.extend(node.get("children", []))
    queue = [(structure["id"], [])]
    seen = {structure["id"]}
    while queue:
        node_id, steps = queue.pop(0)
        node = index[node_id]
        if node["type"] == "solution":
            return steps
        moves = [(o["label"], o["next_node_id"]) for o in node.get("options", [])]
        if node["type"] == "action":
            moves = [("Done — continue", node["next_node_id"])]
        for label, target in moves:
            if target not in seen:
                seen.add(target)
                queue.append((target, [*steps, (node_id, label)]))
    raise AssertionError("no solution reachable")
