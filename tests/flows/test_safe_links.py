"""Issue 9: a link from user content (a step's reference_url) is rendered as a link only when it
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
    body = client.get(reverse("flowsessions:run", args=[session.pk])).content.decode()
    assert "javascript:" not in body.lower()
    FlowSession.objects.filter(pk=session.pk).update(
        structure_snapshot=with_reference("https://kb.test/patch")
    )
    body = client.get(reverse("flowsessions:run", args=[session.pk])).content.decode()
    assert 'href="https://kb.test/patch"' in body
