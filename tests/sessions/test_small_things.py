"""Issue 16's small things: [VAR:x] shown as chips in library cards and previews, the fork's
"parent updated" notice links to the parent, run-history rows open as a whole."""

import html

from django.template import Context, Template
from django.urls import reverse

from flows import services
from tests.factories import LibraryStepFactory, TreeFactory


def render(text: str) -> str:
    return Template("{% load flow_format %}{{ text|var_chips }}").render(Context({"text": text}))


def test_var_chips_show_the_name_and_escape_everything_else():
    out = render("Assign the [VAR:license] licence <b>now</b>")
    assert "[VAR:" not in out
    assert (
        '<span class="var-chip" title="Filled in when the session starts">'
        '<span class="visually-hidden">placeholder </span>license</span>'
    ) in out
    assert "&lt;b&gt;now&lt;/b&gt;" in out
    assert render(None) == "" and render("[VAR:bad name]") == "[VAR:bad name]"


def test_library_cards_show_placeholders_as_chips(client, owner):
    LibraryStepFactory(
        created_by=owner,
        title="Assign the [VAR:license] licence",
        content={"instructions": "Give [VAR:upn] a [VAR:license].", "commands": []},
    )
    client.force_login(owner)
    body = client.get(reverse("steplibrary:index")).content.decode()
    card = body.split('class="card h-100 library-card"')[1].split("</article>")[0]
    assert "[VAR:" not in card
    assert card.count('class="var-chip"') == 3


def test_checklist_preview_shows_placeholders_as_chips(client, owner, account):
    tree = TreeFactory(
        account=account,
        author=owner,
        tree_type="procedural",
        tree_structure={
            "steps": [
                {"id": "a", "type": "procedure_step", "title": "Mail [VAR:upn]"},
                {"id": "end", "type": "procedure_end"},
            ]
        },
    )
    client.force_login(owner)
    body = client.get(reverse("flows:detail", args=[tree.pk])).content.decode()
    assert 'Mail <span class="var-chip"' in body and "[VAR:upn]</h3>" not in body


def test_parent_updated_notice_links_to_the_compare_view(client, staff, engineer):
    parent = TreeFactory(name="SonicWall VPN", account=None, author=None, is_public=True)
    fork = services.tree_fork(tree=parent, user=engineer, name="Copy")
    services.tree_update(tree=parent, user=staff, description="Now with SonicOS 8")
    client.force_login(engineer)
    body = html.unescape(client.get(reverse("flows:detail", args=[fork.pk])).content.decode())
    notice = body.split('id="parent-updated"')[1].split("</div>")[0]
    link = reverse("flows:compare", args=[fork.pk])
    assert f'<a class="alert-link" href="{link}">Compare it with your copy</a>' in notice
    assert client.get(link).status_code == 200


def test_history_rows_open_as_a_whole(client, engineer, proc_session):
    client.force_login(engineer)
    body = client.get(reverse("sessions:index")).content.decode()
    detail = reverse("sessions:detail", args=[proc_session.pk])
    assert f'<tr class="clickable-row" data-href="{detail}" tabindex="0">' in body
    assert 'class="form-control date-filter"' in body
