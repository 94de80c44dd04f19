"""Automated accessibility checks in browser journeys with axe-core, vendored (MPL-2.0) under
tests/e2e/vendor/ so it runs offline.

The page's Content-Security-Policy refuses inline scripts, so axe is not added as a <script>
tag: `page.evaluate` runs it through the DevTools protocol, which the policy does not cover
(the page's own scripts are still held to it, and the CSP watch keeps failing on violations).
"""

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-core-4.10.3" / "axe.min.js"
# WCAG 2.1 A and AA: labels, names, focus order, contrast, landmarks.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now (WCAG 2.1 A/AA rules)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(
        # Toasts are left out: they fade in and out on their own clock, and axe measuring one
        # mid-fade reports the fade, not the colours.
        "async (tags) => (await axe.run({exclude: [['#toasts']]},"
        " {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 30).map(n => n.target.join(' '))}))",
        TAGS,
    )


def assert_accessible(page: Page, what: str) -> None:
    """No serious or critical axe-core violation on the page, once its CSS transitions have
    ended (a button still fading between colours would be measured mid-way)."""
    page.evaluate(
        "() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)))"
    )
    found = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert found == [], f"Accessibility problems on {what}: {found}"
