"""The library's cards are rendered once per version of what they show (library_card) and
linked without resolving URL patterns per card (pk_url). A remembered card must never show
stale counts, another viewer's buttons or a renamed tag."""

from __future__ import annotations

import pytest
from django.test.signals import template_rendered
from django.urls import NoReverseMatch, reverse

from accounts.templatetags.ui import named_url, pk_url
from steplibrary import services
from tests.factories import TagFactory

LIBRARY = reverse("steplibrary:index")


@pytest.fixture
def card_renders():
    names: list[str] = []

    def record(sender, template, context, **kwargs):
        if template.name == "steplibrary/_step_card.html":
            names.append(template.name)

    template_rendered.connect(record)
    yield names
    template_rendered.disconnect(record)


def card_of(html: str, step) -> str:
    start = html.index(f'id="step-{step.pk}"')
    return html[start : html.index("</article>", start)]


def test_a_card_seen_once_is_not_rendered_again(client, engineer, team_step, card_renders):
    client.force_login(engineer)
    first = client.get(LIBRARY).content.decode()
    assert card_renders  # the first view renders it
    card_renders.clear()
    again = client.get(LIBRARY).content.decode()
    assert card_renders == []
    assert card_of(again, team_step) == card_of(first, team_step)


def test_the_card_follows_edits_counts_and_tags(client, engineer, team_step):
    client.force_login(engineer)
    assert "used 0×" in card_of(client.get(LIBRARY).content.decode(), team_step)
    services.library_step_record_use(step=team_step)
    assert "used 1×" in card_of(client.get(LIBRARY).content.decode(), team_step)
    services.library_step_update(step=team_step, user=engineer, title="Flush DNS now")
    assert "Flush DNS now" in card_of(client.get(LIBRARY).content.decode(), team_step)
    tag = TagFactory(name="dns")
    team_step.tags.set([tag])
    assert "#dns" in card_of(client.get(LIBRARY).content.decode(), team_step)
    tag.name = "resolver"
    tag.save()
    card = card_of(client.get(LIBRARY).content.decode(), team_step)
    assert "#resolver" in card and "#dns" not in card


def test_a_viewer_never_gets_the_buttons_an_editor_warmed(client, engineer, viewer, team_step):
    edit = reverse("steplibrary:edit", args=[team_step.pk])
    client.force_login(engineer)
    assert f'href="{edit}"' in card_of(client.get(LIBRARY).content.decode(), team_step)
    client.force_login(viewer)
    card = card_of(client.get(LIBRARY).content.decode(), team_step)
    assert edit not in card and "Save a copy" not in card
    assert reverse("steplibrary:detail", args=[team_step.pk]) in card


def test_pk_url_is_reverse(team_step):
    for name in ("steplibrary:detail", "steplibrary:edit", "flows:detail"):
        assert pk_url(team_step.pk, name) == reverse(name, args=[team_step.pk])
        assert pk_url(str(team_step.pk), name) == reverse(name, args=[team_step.pk])
    assert named_url("steplibrary:create") == reverse("steplibrary:create")
    with pytest.raises(NoReverseMatch):
        pk_url(None, "flows:detail")
    with pytest.raises(NoReverseMatch):
        pk_url(team_step.pk, "steplibrary:create")  # takes no argument
