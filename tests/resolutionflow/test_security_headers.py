"""Every response carries the Content-Security-Policy and the Permissions-Policy: pages, htmx
fragments, the API, Swagger UI and the error pages. The templates hold nothing the policy blocks."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from resolutionflow.middleware import permissions_policy_header
from tests.factories import TreeFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def features(response) -> dict[str, str]:
    header = response.headers["Permissions-Policy"]
    return dict(item.strip().split("=", 1) for item in header.split(","))


def assert_policies(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no nonce
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    # No third-party origin anywhere: only keywords and data: images.
    sources = {source for values in policy.values() for source in values}
    assert sources <= {"'self'", "'none'", "data:"}
    allowed = features(response)
    assert all(allowed[feature] == "()" for feature in DENIED_FEATURES)
    assert allowed["clipboard-write"] == "(self)"  # the copy buttons


def test_login_page_and_a_signed_in_page(client, engineer):
    assert_policies(client.get(reverse("accounts:login")))
    client.force_login(engineer)
    response = client.get(reverse("flows:library"))
    assert response.status_code == 200
    assert_policies(response)


def test_htmx_fragment_and_api(client, engineer, account, owner):
    TreeFactory(name="VPN tunnel down", account=account, author=owner)
    client.force_login(engineer)
    fragment = client.get(reverse("flows:library"), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert_policies(fragment)
    api = client.get("/api/flows/")
    assert api.status_code == 200 and api["Content-Type"].startswith("application/json")
    assert_policies(api)
    assert_policies(client.get("/api/", HTTP_ACCEPT="application/json"))


def test_swagger_ui_needs_no_inline_script_or_style(client, engineer):
    client.force_login(engineer)
    page = client.get("/api/docs/")
    body = page.content.decode()
    assert page.status_code == 200
    assert_policies(page)
    assert "<style" not in body and "style=" not in body
    inline = [tag for tag in re.findall(r"<script[^>]*>", body) if "src=" not in tag]
    assert inline == []
    # The init script comes from the same view, as JavaScript.
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', body).group(1)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


@pytest.mark.urls("tests.resolutionflow.urls")
def test_error_pages(client, engineer, settings):
    settings.DEBUG = False
    client.force_login(engineer)
    missing = client.get("/flows/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404
    assert_policies(missing)
    client.raise_request_exception = False
    broken = client.get("/boom/")
    assert broken.status_code == 500
    assert_policies(broken)
    api_broken = client.get("/api/boom/")
    assert api_broken.status_code == 500
    assert_policies(api_broken)


def test_a_redirect_carries_the_headers_too(client):
    response = client.get("/")
    assert response.status_code == 302
    assert_policies(response)


def test_permissions_policy_header_format():
    header = permissions_policy_header(
        {"camera": [], "clipboard-write": ["self"], "fullscreen": ["self", "https://x.test"]}
    )
    assert header == 'camera=(), clipboard-write=(self), fullscreen=(self "https://x.test")'


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"), "inline <script>"),
    (re.compile(r"<style\b"), "<style> element"),
    (re.compile(r"\sstyle=\""), "style attribute"),
    (re.compile(r"\son[a-z]+=\""), "inline event handler"),
    (re.compile(r"\shx-on[:-]"), "hx-on (needs eval)"),
    (re.compile(r"javascript:"), "javascript: URL"),
    (re.compile(r"\bjs:"), "hx-vals js: (needs eval)"),
]


def test_templates_hold_nothing_the_policy_blocks():
    """The browser journeys prove the pages they visit; this catches the pages they do not."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}: {what}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for pattern, what in INLINE
        if pattern.search(line)
    ]
    assert offenders == []
