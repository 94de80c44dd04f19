"""Issue 9: one _step_body.html for a step on the flow's page, in the preview and in the runner;
a link from user content (a step's reference_url) is rendered as a link only when it
is http(s). Rows stored before validation existed (saved here with queryset.update, which skips
it) show the text, never an href a click would run."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from flows.models import Tree, TreeType
from sessions import services
from sessions.models import FlowSession
from tests.factories import TreeFactory, procedural_structure

EVIL = "javascript:alert(document.cookie)"


def with_reference(url: str) -> dict:
    structure = procedural_structure()
    structure["steps"][1]["reference_url"] = url
    return structure


@pytest.fixture
def checklist(account, owner):
    return TreeFactory(account=account, author=owner, tree_type=TreeType.PROCEDURAL)


def store_raw(tree: Tree, url: str) -> None:
    Tree.objects.filter(pk=tree.pk).update(tree_structure=with_reference(url))


@pytest.mark.parametrize(
    "value, shown",
    [
        ("https://learn.microsoft.com/", "https://learn.microsoft.com/"),
        ("HTTP://intranet.test/kb", "HTTP://intranet.test/kb"),
        (EVIL, ""),
        (" javascript:alert(1)", ""),
        ("data:text/html,<b>x</b>", ""),
        ("//evil.test/", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_safe_url_keeps_only_http_links(value, shown):
    rendered = Template("{% load flow_format %}{{ url|safe_url }}").render(Context({"url": value}))
    assert rendered == Template("{{ shown }}").render(Context({"shown": shown}))


def test_the_flow_page_shows_a_javascript_reference_as_text(client, engineer, checklist):
    store_raw(checklist, EVIL)
    client.force_login(engineer)
    body = client.get(reverse("flows:detail", args=[checklist.pk])).content.decode()
    assert 'href="javascript:' not in body.lower()
    assert "Reference (not a web link): <span" in body and EVIL in body


def test_the_flow_page_links_an_https_reference(client, engineer, checklist):
    store_raw(checklist, "https://learn.microsoft.com/")
    client.force_login(engineer)
    body = client.get(reverse("flows:detail", args=[checklist.pk])).content.decode()
    assert 'href="https://learn.microsoft.com/"' in body


def test_the_runner_never_links_a_javascript_reference(client, engineer, checklist):
    session = services.session_start(tree=checklist, user=engineer)
    FlowSession.objects.filter(pk=session.pk).update(structure_snapshot=with_reference(EVIL))
    client.force_login(engineer)
    body = client.get(reverse("sessions:run", args=[session.pk])).content.decode()
    assert "javascript:" not in body.lower()
    FlowSession.objects.filter(pk=session.pk).update(
        structure_snapshot=with_reference("https://kb.test/patch")
    )
    body = client.get(reverse("sessions:run", args=[session.pk])).content.decode()
    assert 'href="https://kb.test/patch"' in body


def step_body_of(body: str) -> str:
    """The text of the shared step body's reference line."""
    start = body.index('class="small mt-1 step-reference"')
    return body[start : body.index("</div>", start)]


def test_the_preview_shows_the_reference_like_the_flow_page(client, owner, checklist):
    store_raw(checklist, "https://kb.test/patch")
    client.force_login(owner)
    preview = client.get(reverse("flows:editor_preview", args=[checklist.pk])).content.decode()
    detail = client.get(reverse("flows:detail", args=[checklist.pk])).content.decode()
    assert 'href="https://kb.test/patch"' in step_body_of(preview)
    assert step_body_of(preview) == step_body_of(detail)
    store_raw(checklist, EVIL)
    preview = client.get(reverse("flows:editor_preview", args=[checklist.pk])).content.decode()
    assert 'href="javascript:' not in preview.lower()
    assert "Reference (not a web link)" in step_body_of(preview)


def test_the_runner_uses_the_same_step_body(client, engineer, checklist):
    store_raw(checklist, "https://kb.test/patch")
    session = services.session_start(tree=Tree.objects.get(pk=checklist.pk), user=engineer)
    client.force_login(engineer)
    run = client.get(reverse("sessions:run", args=[session.pk])).content.decode()
    detail = client.get(reverse("flows:detail", args=[checklist.pk])).content.decode()
    assert step_body_of(run) == step_body_of(detail)
