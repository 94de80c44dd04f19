"""Versions: every publish records one, sessions link to it, restore, the migration, the
history page, the publish review, the API and tenancy."""

import importlib
import re

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from flows import services
from flows.models import TreeStatus, TreeType, TreeVersion, VersionImmutable
from sessions import services as session_services
from sessions.models import FlowSession
from tests.conftest import api_as
from tests.factories import TreeFactory


def published(owner, **kwargs):
    tree = TreeFactory(account=owner.account, author=owner, status=TreeStatus.DRAFT, **kwargs)
    return services.tree_publish(tree=tree, user=owner, note="First")


def retitle(tree, user, node_id, title):
    data = tree.editing_structure
    for node in data.get("steps", []) or [data, *data.get("children", [])]:
        if node.get("id") == node_id:
            node["title"] = title
    return services.tree_update(tree=tree, user=user, tree_structure=data)


# --- service --------------------------------------------------------------------------------


def test_each_publish_records_the_next_immutable_version(owner):
    tree = published(owner)
    tree = retitle(tree, owner, "restart", "Restart the IPsec service")
    tree = services.tree_publish(tree=tree, user=owner, note="  Clearer title ")
    versions = list(tree.versions.order_by("number"))
    assert [(v.number, v.note, v.created_by) for v in versions] == [
        (1, "First", owner),
        (2, "Clearer title", owner),
    ]
    assert versions[1].tree_structure["children"][0]["title"] == "Restart the IPsec service"
    assert versions[0].tree_structure["children"][0]["title"] == "Restart the VPN service"
    with pytest.raises(VersionImmutable):
        versions[0].note = "rewritten"
        versions[0].save()
    assert TreeVersion.objects.get(pk=versions[0].pk).note == "First"


def test_a_refused_publish_records_no_version(owner):
    tree = TreeFactory(
        account=owner.account, author=owner, status=TreeStatus.DRAFT, tree_structure={}
    )
    with pytest.raises(services.PublishRefused):
        services.tree_publish(tree=tree, user=owner)
    assert not TreeVersion.objects.exists()


def test_a_too_long_note_is_refused(owner):
    tree = TreeFactory(account=owner.account, author=owner, status=TreeStatus.DRAFT)
    with pytest.raises(ValidationError):
        services.tree_publish(tree=tree, user=owner, note="x" * 501)
    tree.refresh_from_db()
    assert tree.status == TreeStatus.DRAFT and not tree.versions.exists()


def test_a_session_records_the_version_it_ran(owner):
    tree = published(owner)
    first = session_services.session_start(tree=tree, user=owner)
    tree = retitle(tree, owner, "fixed", "Tunnel is up")
    # Unpublished edits do not change what runs.
    assert session_services.session_start(tree=tree, user=owner).version.number == 1
    tree = services.tree_publish(tree=tree, user=owner)
    second = session_services.session_start(tree=tree, user=owner)
    assert (first.version.number, second.version.number) == (1, 2)


def test_restore_puts_an_old_version_into_the_working_copy(owner):
    tree = published(owner)
    tree = retitle(tree, owner, "restart", "Wrong step")
    tree = services.tree_publish(tree=tree, user=owner)
    tree = services.tree_restore(tree=tree, user=owner, number=1)
    assert tree.has_working_copy
    assert tree.tree_structure["children"][0]["title"] == "Wrong step"  # live unchanged
    assert tree.editing_structure["children"][0]["title"] == "Restart the VPN service"
    tree = services.tree_publish(tree=tree, user=owner, note="Rolled back")
    assert tree.versions.count() == 3
    assert tree.tree_structure["children"][0]["title"] == "Restart the VPN service"


def test_restore_refuses_unknown_versions_and_other_people(owner, viewer, outsider):
    tree = published(owner)
    with pytest.raises(ValidationError):
        services.tree_restore(tree=tree, user=owner, number=9)
    for user in (viewer, outsider):
        with pytest.raises(PermissionDenied):
            services.tree_restore(tree=tree, user=user, number=1)


def test_a_fork_records_the_parent_version(owner, engineer):
    parent = published(owner)
    fork = services.tree_fork(tree=parent, user=engineer, name="Mine")
    assert fork.parent_version.number == 1


# --- the migration --------------------------------------------------------------------------


def test_migration_gives_published_flows_version_1_and_links_matching_sessions(owner):
    flows_migration = importlib.import_module("flows.migrations.0006_tree_versions")
    sessions_migration = importlib.import_module("sessions.migrations.0006_session_version")
    live = TreeFactory(account=owner.account, author=owner)
    draft = TreeFactory(account=owner.account, author=owner, status=TreeStatus.DRAFT)
    matching = session_services.session_start(tree=live, user=owner)
    stale = session_services.session_start(tree=live, user=owner)
    FlowSession.objects.filter(pk=stale.pk).update(structure_snapshot={"id": "old"})
    flows_migration.versions_for_published(apps, None)
    sessions_migration.link_sessions(apps, None)
    assert list(live.versions.values_list("number", flat=True)) == [1]
    assert not draft.versions.exists()
    matching.refresh_from_db()
    stale.refresh_from_db()
    assert matching.version.number == 1 and stale.version is None


# --- pages ----------------------------------------------------------------------------------


def test_history_lists_versions_with_runs(client, owner, django_assert_max_num_queries):
    tree = published(owner)
    session_services.session_start(tree=tree, user=owner)
    session_services.session_start(tree=tree, user=owner)
    tree = retitle(tree, owner, "fixed", "Tunnel is up")
    services.tree_publish(tree=tree, user=owner, note="Say it plainly")
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("flows:history", args=[tree.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Say it plainly" in text and "First" in text
    assert 'id="version-1"' in text and 'id="version-2"' in text
    row = text.split('id="version-1"')[1].split("</tr>")[0]
    assert '<td class="text-end">2</td>' in row
    assert "Restore" in row


def test_restore_page_and_diff_of_the_working_copy(client, owner):
    tree = published(owner)
    tree = retitle(tree, owner, "restart", "Wrong step")
    services.tree_publish(tree=tree, user=owner)
    client.force_login(owner)
    answer = client.post(reverse("flows:restore", args=[tree.pk]), {"version": "1"})
    assert answer.status_code == 302 and "from=2&to=draft" in answer.url
    page = client.get(answer.url)
    text = page.content.decode()
    assert "Version 2 → Working copy" in text
    assert '<del class="diff-del">Wrong</del>' in text
    # Drawn on the flow diagram with a sign and a word, not colour alone.
    assert re.search(r'class="fd-node fd-action is-changed" data-node="restart"', text)
    assert "✎ Changed" in text


def test_publish_review_shows_what_goes_live_and_takes_a_note(client, owner):
    tree = published(owner)
    retitle(tree, owner, "restart", "Restart the IPsec service")
    client.force_login(owner)
    page = client.get(reverse("flows:publish_review", args=[tree.pk]))
    text = page.content.decode()
    assert "What goes live" in text and '<ins class="diff-ins">IPsec</ins>' in text
    client.post(reverse("flows:publish", args=[tree.pk]), {"note": "IPsec wording"})
    assert tree.versions.order_by("-number").first().note == "IPsec wording"


def test_version_pages_are_404_for_other_accounts(client, owner, outsider):
    tree = published(owner)
    client.force_login(outsider)
    for name in ("flows:history", "flows:diff", "flows:publish_review", "flows:compare"):
        assert client.get(reverse(name, args=[tree.pk])).status_code == 404, name
    for name in ("flows:restore", "flows:pull_parent"):
        assert client.post(reverse(name, args=[tree.pk]), {"version": 1}).status_code == 404
    assert tree.versions.count() == 1


def test_viewer_cannot_restore(client, owner, viewer):
    tree = published(owner)
    client.force_login(viewer)
    assert client.get(reverse("flows:history", args=[tree.pk])).status_code == 200
    answer = client.post(reverse("flows:restore", args=[tree.pk]), {"version": 1})
    assert answer.status_code == 403


# --- API ------------------------------------------------------------------------------------


def test_api_versions_list_detail_diff_and_restore(owner, django_assert_max_num_queries):
    tree = published(owner, tree_type=TreeType.PROCEDURAL)
    data = tree.editing_structure
    data["steps"][2]["title"] = "Install all updates"
    tree = services.tree_update(tree=tree, user=owner, tree_structure=data)
    tree = services.tree_publish(tree=tree, user=owner, note="All of them")
    session_services.session_start(tree=tree, user=owner)
    api = api_as(owner)
    with django_assert_max_num_queries(8):
        listed = api.get(f"/api/flows/{tree.pk}/versions/").json()
    assert [(v["number"], v["note"], v["runs"]) for v in listed] == [
        (2, "All of them", 1),
        (1, "First", 0),
    ]
    assert listed[0]["created_by"] == owner.display_name and listed[0]["created_at"]
    one = api.get(f"/api/flows/{tree.pk}/versions/1/").json()
    assert one["tree_structure"]["steps"][2]["title"] == "Install updates"
    assert api.get(f"/api/flows/{tree.pk}/versions/7/").status_code == 404
    diff = api.get(f"/api/flows/{tree.pk}/diff/?from=1&to=2").json()
    assert diff["nodes"] == [
        {
            "id": "patch",
            "change": "changed",
            "heading": "Install all updates",
            "moved": False,
            "fields": {
                "title": {
                    "before": "Install updates",
                    "after": "Install all updates",
                    "words": [
                        {"op": "equal", "text": "Install "},
                        {"op": "insert", "text": "all "},
                        {"op": "equal", "text": "updates"},
                    ],
                }
            },
        }
    ]
    assert api.get(f"/api/flows/{tree.pk}/diff/?from=1&to=draft").json()["nodes"][0]["id"] == (
        "patch"
    )
    assert api.get(f"/api/flows/{tree.pk}/diff/?from=x").status_code == 400
    restored = api.post(f"/api/flows/{tree.pk}/restore/", {"version": 1}, format="json")
    assert restored.status_code == 200
    assert restored.json()["has_unpublished_changes"] is True
    assert (
        api.post(f"/api/flows/{tree.pk}/restore/", {"version": 0}, format="json").status_code == 400
    )
    assert (
        api.post(f"/api/flows/{tree.pk}/restore/", {"version": 5}, format="json").status_code == 400
    )
    stale = api.post(f"/api/flows/{tree.pk}/restore/", {"version": 1, "revision": 0}, format="json")
    assert stale.status_code == 409


def test_api_publish_takes_a_note(owner):
    tree = TreeFactory(account=owner.account, author=owner, status=TreeStatus.DRAFT)
    answer = api_as(owner).post(f"/api/flows/{tree.pk}/publish/", {"note": "v1"}, format="json")
    assert answer.status_code == 200
    assert tree.versions.get().note == "v1"


def test_api_version_endpoints_are_404_for_other_accounts(owner, outsider):
    tree = published(owner)
    api = api_as(outsider)
    for path in ("versions/", "versions/1/", "diff/", "compare/"):
        assert api.get(f"/api/flows/{tree.pk}/{path}").status_code == 404, path
    for path in ("restore/", "pull-parent/"):
        answer = api.post(f"/api/flows/{tree.pk}/{path}", {"version": 1}, format="json")
        assert answer.status_code == 404, path


def test_readers_never_see_unpublished_changes(client, owner, viewer):
    tree = published(owner)
    retitle(tree, owner, "restart", "Secret new wording")
    client.force_login(viewer)
    page = client.get(reverse("flows:diff", args=[tree.pk]))
    assert page.status_code == 200 and "Secret" not in page.content.decode()
    assert client.get(reverse("flows:diff", args=[tree.pk]) + "?to=draft").status_code == 403
    api = api_as(viewer)
    assert api.get(f"/api/flows/{tree.pk}/diff/").json()["nodes"] == []
    assert api.get(f"/api/flows/{tree.pk}/diff/?from=draft").status_code == 403
