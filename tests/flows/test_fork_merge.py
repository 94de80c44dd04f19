"""Forks against their parent: compare (three-way and two-way), pull with conflicts, the
outcome comparison, the API and tenancy."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from flows import services
from flows.models import Tree, TreeStatus, TreeType
from sessions import services as session_services
from tests.conftest import api_as
from tests.factories import TreeFactory


@pytest.fixture
def parent(db, staff):
    """A public default checklist, published through the one publish path (version 1)."""
    tree = TreeFactory(
        name="Patch a server",
        account=None,
        author=staff,
        is_public=True,
        is_default=True,
        tree_type=TreeType.PROCEDURAL,
        status=TreeStatus.DRAFT,
    )
    return services.tree_publish(tree=tree, user=staff)


def set_title(tree, user, node_id, title):
    data = tree.editing_structure
    next(s for s in data["steps"] if s["id"] == node_id)["title"] = title
    return services.tree_update(tree=tree, user=user, tree_structure=data)


@pytest.fixture
def fork(parent, engineer):
    return services.tree_fork(tree=parent, user=engineer, name="Acme patching")


def parent_publishes(parent, staff, node_id="patch", title="Install updates and reboot"):
    parent = set_title(Tree.objects.get(pk=parent.pk), staff, node_id, title)
    return services.tree_publish(tree=parent, user=staff, note="Reboot too")


def test_pull_merges_one_sided_changes_and_moves_the_base(parent, fork, staff, engineer):
    fork = set_title(fork, engineer, "snapshot", "Take a Hyper-V checkpoint")
    parent_publishes(parent, staff)
    result = services.tree_pull_parent(tree=fork, user=engineer)
    assert result.conflicts == [] and result.applied == ["patch"]
    fork.refresh_from_db()
    titles = {s["id"]: s["title"] for s in fork.editing_structure["steps"]}
    assert titles["patch"] == "Install updates and reboot"
    assert titles["snapshot"] == "Take a Hyper-V checkpoint"
    assert fork.parent_version.number == 2
    assert fork.status == TreeStatus.DRAFT  # nothing published
    assert services.tree_pull_parent(tree=fork, user=engineer).applied == []


def test_pull_with_a_conflict_writes_nothing_until_resolved(parent, fork, staff, engineer):
    fork = set_title(fork, engineer, "patch", "Install only security updates")
    parent_publishes(parent, staff)
    revision = Tree.objects.get(pk=fork.pk).revision
    result = services.tree_pull_parent(tree=fork, user=engineer)
    assert [(c.id, c.kind) for c in result.unresolved] == [("patch", "both_changed")]
    fork.refresh_from_db()
    assert fork.revision == revision and fork.parent_version.number == 1
    with pytest.raises(ValidationError):
        services.tree_pull_parent(tree=fork, user=engineer, resolutions={"patch": "both"})
    services.tree_pull_parent(tree=fork, user=engineer, resolutions={"patch": "theirs"})
    fork.refresh_from_db()
    assert fork.editing_structure["steps"][2]["title"] == "Install updates and reboot"


def test_compare_page_shows_parent_and_fork_changes(client, parent, fork, staff, engineer):
    set_title(fork, engineer, "snapshot", "Take a Hyper-V checkpoint")
    parent_publishes(parent, staff)
    client.force_login(engineer)
    detail = client.get(reverse("flows:detail", args=[fork.pk])).content.decode()
    assert "The parent was updated since you forked." in detail
    assert reverse("flows:compare", args=[fork.pk]) in detail
    page = client.get(reverse("flows:compare", args=[fork.pk]))
    text = page.content.decode()
    parent_side = text.split('id="parent-changes"')[1].split("</ol>")[0]
    fork_side = text.split('id="fork-changes"')[1].split("</ol>")[0]
    assert '<ins class="diff-ins"> and reboot</ins>' in parent_side
    assert "Hyper-V" in fork_side and "reboot" not in fork_side
    assert "No conflicts: 1 node will be updated from the parent." in text


def test_conflicts_are_resolved_on_the_page(client, parent, fork, staff, engineer):
    set_title(fork, engineer, "patch", "Install only security updates")
    parent_publishes(parent, staff)
    client.force_login(engineer)
    text = client.get(reverse("flows:compare", args=[fork.pk])).content.decode()
    assert 'name="resolve-patch"' in text and "Changed in the parent and in this fork" in text
    url = reverse("flows:pull_parent", args=[fork.pk])
    refused = client.post(url, follow=True)
    assert "Nothing pulled yet" in refused.content.decode()
    client.post(url, {"resolve-patch": "mine"})
    fork.refresh_from_db()
    assert fork.tree_structure["steps"][2]["title"] == "Install only security updates"
    assert fork.parent_version.number == 2


def test_a_fork_from_before_versions_gets_a_two_way_compare(client, engineer, staff):
    old_parent = TreeFactory(account=None, is_public=True, tree_type=TreeType.PROCEDURAL)
    old_fork = services.tree_fork(tree=old_parent, user=engineer, name="Old fork")
    assert old_fork.parent_version is None
    client.force_login(engineer)
    text = client.get(reverse("flows:compare", args=[old_fork.pk])).content.decode()
    assert "two-way compare" in text
    body = api_as(engineer).get(f"/api/flows/{old_fork.pk}/compare/").json()
    assert body["three_way"] is False and body["parent"] is None


def test_api_compare_and_pull_parent(parent, fork, staff, engineer):
    set_title(fork, engineer, "patch", "Install only security updates")
    set_title(Tree.objects.get(pk=fork.pk), engineer, "snapshot", "Checkpoint")
    parent_publishes(parent, staff)
    api = api_as(engineer)
    compared = api.get(f"/api/flows/{fork.pk}/compare/").json()
    assert compared["three_way"] is True and compared["base_version"] == 1
    assert [n["id"] for n in compared["parent"]["nodes"]] == ["patch"]
    assert {n["id"] for n in compared["fork"]["nodes"]} == {"patch", "snapshot"}
    url = f"/api/flows/{fork.pk}/pull-parent/"
    first = api.post(url, {}, format="json").json()
    assert first["written"] is False
    assert [(c["id"], c["kind"]) for c in first["conflicts"]] == [("patch", "both_changed")]
    bad = api.post(url, {"resolutions": {"patch": "both"}}, format="json")
    assert bad.status_code == 400
    done = api.post(url, {"resolutions": {"patch": "theirs"}}, format="json").json()
    assert done["written"] is True
    assert done["tree_structure"]["steps"][1]["title"] == "Checkpoint"
    assert done["tree_structure"]["steps"][2]["title"] == "Install updates and reboot"


def test_a_parent_the_user_can_no_longer_see_cannot_be_pulled(client, parent, fork, engineer):
    Tree.objects.filter(pk=parent.pk).update(is_public=False)
    with pytest.raises(ValidationError):
        services.tree_pull_parent(tree=fork, user=engineer)
    assert api_as(engineer).get(f"/api/flows/{fork.pk}/compare/").status_code == 400
    client.force_login(engineer)
    assert client.get(reverse("flows:compare", args=[fork.pk])).status_code == 302


def test_fork_outcomes_sit_beside_the_parent(
    client, parent, fork, engineer, outsider, django_assert_max_num_queries
):
    fork = services.tree_publish(tree=fork, user=engineer)
    for tree, outcome in ((parent, "resolved"), (parent, "escalated"), (fork, "resolved")):
        run = session_services.session_start(tree=tree, user=engineer)
        session_services.session_complete(session=run, user=engineer, outcome=outcome)
    # Another team's runs of the shared parent are not this team's figures.
    other = session_services.session_start(tree=parent, user=outsider)
    session_services.session_complete(session=other, user=outsider, outcome="resolved")
    client.force_login(engineer)
    detail = client.get(reverse("flows:detail", args=[fork.pk])).content.decode()
    assert reverse("analytics:fork-outcomes", args=[fork.pk]) in detail
    with django_assert_max_num_queries(10):
        page = client.get(reverse("analytics:fork-outcomes", args=[fork.pk]))
    text = page.content.decode()
    fork_row = text.split('class="fork-side"')[1].split("</tr>")[0]
    parent_row = text.split('class="parent-side"')[1].split("</tr>")[0]
    assert "This fork: Acme patching" in fork_row and "100.0%" in fork_row
    assert "Parent: Patch a server" in parent_row and "(your team's runs)" in parent_row
    assert '<td class="text-end">2</td>' in parent_row and "50.0%" in parent_row
    client.force_login(outsider)
    assert client.get(reverse("analytics:fork-outcomes", args=[fork.pk])).status_code == 404


def test_fork_pages_are_404_for_other_accounts(client, fork, outsider):
    client.force_login(outsider)
    assert client.get(reverse("flows:compare", args=[fork.pk])).status_code == 404
    assert client.post(reverse("flows:pull_parent", args=[fork.pk])).status_code == 404
    api = api_as(outsider)
    assert api.get(f"/api/flows/{fork.pk}/compare/").status_code == 404
    assert api.post(f"/api/flows/{fork.pk}/pull-parent/", {}, format="json").status_code == 404
