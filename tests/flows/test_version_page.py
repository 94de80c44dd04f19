"""The page of one version: facts, runs, read-only structure and intake form, links to
compare and restore, linked from the History tab; tenancy and rights."""

from django.urls import reverse

from flows import services
from flows.models import TreeStatus, TreeType
from sessions import services as session_services
from tests.factories import TreeFactory

FORM = [
    {"name": "server", "label": "Server name", "type": "text", "required": True},
    {"name": "window", "label": "Window", "type": "select", "options": ["Night", "Weekend"]},
]


def two_versions(owner, **kwargs):
    """Version 1 (run twice) with an intake form, then version 2 with a retitled step."""
    tree = TreeFactory(
        account=owner.account, author=owner, status=TreeStatus.DRAFT, intake_form=FORM, **kwargs
    )
    tree = services.tree_publish(tree=tree, user=owner, note="First cut")
    session_services.session_start(tree=tree, user=owner, variables={"server": "web1"})
    session_services.session_start(tree=tree, user=owner, variables={"server": "web2"})
    data = tree.editing_structure
    for node in data.get("steps") or [data, *data.get("children", [])]:
        if node.get("id") in ("patch", "restart"):
            node["title"] = "Renamed in version 2"
    tree = services.tree_update(tree=tree, user=owner, tree_structure=data, intake_form=[])
    return services.tree_publish(tree=tree, user=owner, note="Second")


def page_text(client, tree, number):
    response = client.get(reverse("flows:version", args=[tree.pk, number]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_old_version_shows_its_facts_structure_intake_and_links(
    client, owner, django_assert_max_num_queries
):
    tree = two_versions(owner, tree_type=TreeType.PROCEDURAL)
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        text = page_text(client, tree, 1)
    facts = text.split('id="version-facts"')[1].split("</dl>")[0]
    assert owner.display_name in facts and "First cut" in facts
    assert "2 runs on this version" in facts
    assert "· version 1" in text and ">Live<" not in text.split("</h1>")[0]
    structure = text.split('id="version-structure"')[1]
    assert "Install updates" in structure and "Renamed in version 2" not in structure
    intake = text.split('id="version-intake"')[1].split("</table>")[0]
    assert (
        "Server name" in intake and "[VAR:server]" in intake and "Choice: Night, Weekend" in intake
    )
    actions = text.split('id="version-actions"')[1].split("</header>")[0]
    assert "Compare with previous" not in actions  # version 1 has none
    assert f"{reverse('flows:diff', args=[tree.pk])}?from=1&amp;to=live" in actions
    assert "Restore" in actions and 'name="version" value="1"' in actions


def test_the_live_version_links_to_the_previous_one_and_offers_no_restore(client, owner):
    tree = two_versions(owner)
    client.force_login(owner)
    text = page_text(client, tree, 2)
    assert '<span class="badge text-bg-success">Live</span>' in text
    actions = text.split('id="version-actions"')[1].split("</header>")[0]
    assert f"{reverse('flows:diff', args=[tree.pk])}?from=1&amp;to=2" in actions
    assert "Compare with live" not in actions and "Restore" not in actions
    structure = text.split('id="version-structure"')[1]
    assert "Renamed in version 2" in structure  # a troubleshooting outline
    assert "No questions are asked when a run starts." in text


def test_history_links_each_version_to_its_page(client, owner):
    tree = two_versions(owner)
    client.force_login(owner)
    history = client.get(reverse("flows:history", args=[tree.pk])).content.decode()
    for number in (1, 2):
        link = f'href="{reverse("flows:version", args=[tree.pk, number])}"'
        assert link in history.split(f'id="version-{number}"')[1].split("</tr>")[0]


def test_viewer_sees_a_version_but_cannot_restore_it(client, owner, viewer):
    tree = two_versions(owner)
    client.force_login(viewer)
    text = page_text(client, tree, 1)
    assert "Compare with live" in text and "Restore" not in text


def test_version_page_is_404_for_other_accounts_and_unknown_numbers(client, owner, outsider):
    tree = two_versions(owner)
    client.force_login(owner)
    assert client.get(reverse("flows:version", args=[tree.pk, 3])).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("flows:version", args=[tree.pk, 1])).status_code == 404


def test_compare_with_previous_shows_node_and_intake_changes(client, owner):
    tree = two_versions(owner, tree_type=TreeType.PROCEDURAL)
    client.force_login(owner)
    text = client.get(f"{reverse('flows:diff', args=[tree.pk])}?from=1&to=2").content.decode()
    assert "Version 1 → Version 2" in text
    assert 'data-node="patch" data-change="changed"' in text and "Renamed" in text
    intake = text.split('id="diff-nodes-intake"')[1].split("</ol>")[0]
    assert intake.count('data-change="removed"') == 2 and "Question “Server name”" in intake
