"""Forks: the service, `fork_info`, the API action, the modal and the detail page, the admin."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from flows import editor, services
from flows.models import Tree, TreeStatus
from tests.conftest import api_as
from tests.factories import CategoryFactory, TagFactory, TreeFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def fork_url(tree: Tree) -> str:
    return f"/api/flows/{tree.pk}/fork/"


@pytest.fixture
def official_tree(db):
    """A public default troubleshooting flow, as the service account ships them."""
    return TreeFactory(
        name="SonicWall VPN tunnel down",
        account=None,
        author=None,
        is_public=True,
        is_default=True,
        category=CategoryFactory(name="Networking"),
        tags=[TagFactory(name="vpn"), TagFactory(name="sonicwall")],
        intake_form=[{"name": "site", "label": "Site", "type": "text", "required": True}],
    )


# --- service --------------------------------------------------------------------------------


def test_fork_is_a_draft_copy_in_the_users_account(engineer, official_tree):
    fork = services.tree_fork(
        tree=official_tree, user=engineer, name="  Acme VPN  ", fork_reason="SonicOS 7 only"
    )
    assert fork.pk != official_tree.pk
    assert (fork.name, fork.status, fork.account, fork.author) == (
        "Acme VPN",
        TreeStatus.DRAFT,
        engineer.account,
        engineer,
    )
    assert not fork.is_public and not fork.is_default
    assert fork.tree_structure == official_tree.tree_structure
    assert fork.intake_form == official_tree.intake_form
    assert fork.tree_type == official_tree.tree_type
    assert fork.description == official_tree.description
    assert fork.category == official_tree.category
    assert {t.name for t in fork.tags.all()} == {"vpn", "sonicwall"}
    assert fork.parent_tree == official_tree and fork.root_tree == official_tree
    assert fork.fork_depth == 1 and fork.fork_reason == "SonicOS 7 only"
    assert fork.parent_updated_at == official_tree.updated_at
    # The copy is independent: changing it leaves the original alone.
    fork.tree_structure["question"] = "Changed"
    fork.save()
    official_tree.refresh_from_db()
    assert official_tree.tree_structure["question"] != "Changed"


def test_a_chain_of_forks_counts_depth_and_keeps_the_root(engineer, owner, official_tree):
    first = services.tree_fork(tree=official_tree, user=engineer, name="First")
    second = services.tree_fork(tree=first, user=owner, name="Second")
    third = services.tree_fork(tree=second, user=engineer, name="Third")
    assert [t.fork_depth for t in (first, second, third)] == [1, 2, 3]
    assert {t.root_tree_id for t in (first, second, third)} == {official_tree.pk}
    assert third.parent_tree == second
    assert third.fork_info["parent_tree_name"] == "Second"
    assert third.fork_info["fork_depth"] == 3


def test_fork_copies_the_live_version_not_unpublished_edits(engineer, own_flow):
    editor.tree_node_update(
        tree=own_flow, user=engineer, revision=None, node_id="root", changes={"question": "WIP?"}
    )
    fork = services.tree_fork(tree=own_flow, user=engineer, name="Copy")
    assert fork.tree_structure["question"] == "Does the tunnel show as down on both peers?"
    assert fork.draft_structure is None


@pytest.mark.parametrize(
    "name, reason, field",
    [
        ("", "", "name"),
        ("   ", "", "name"),
        ("x" * 256, "", "name"),
        ("ok", "y" * 256, "fork_reason"),
    ],
)
def test_fork_refuses_bad_names_and_reasons(engineer, official_tree, name, reason, field):
    with pytest.raises(ValidationError) as invalid:
        services.tree_fork(tree=official_tree, user=engineer, name=name, fork_reason=reason)
    assert field in invalid.value.message_dict
    assert not Tree.objects.filter(parent_tree=official_tree).exists()


def test_viewers_cannot_fork_and_nobody_forks_what_they_cannot_see(
    viewer, outsider, official_tree, own_flow
):
    with pytest.raises(PermissionDenied):
        services.tree_fork(tree=official_tree, user=viewer, name="Mine")
    with pytest.raises(PermissionDenied):
        services.tree_fork(tree=own_flow, user=outsider, name="Stolen")
    assert not Tree.objects.filter(fork_depth__gt=0).exists()


def test_has_parent_updates_turns_true_once_the_parent_changes(staff, engineer, official_tree):
    fork = services.tree_fork(tree=official_tree, user=engineer, name="Copy")
    assert fork.fork_info == {
        "parent_tree_id": official_tree.pk,
        "parent_tree_name": official_tree.name,
        "fork_depth": 1,
        "fork_reason": "",
        "has_parent_updates": False,
    }
    services.tree_update(tree=official_tree, user=staff, description="Now with SonicOS 8")
    fork = Tree.objects.with_card_data().get(pk=fork.pk)
    assert fork.fork_info["has_parent_updates"] is True


def test_unpublished_edits_of_the_parent_are_not_parent_updates(staff, engineer, official_tree):
    fork = services.tree_fork(tree=official_tree, user=engineer, name="Copy")
    editor.tree_node_update(
        tree=official_tree, user=staff, revision=None, node_id="fixed", changes={"title": "WIP"}
    )
    assert Tree.objects.get(pk=fork.pk).fork_info["has_parent_updates"] is False
    services.tree_publish(tree=official_tree, user=staff)
    assert Tree.objects.get(pk=fork.pk).fork_info["has_parent_updates"] is True


def test_deleting_the_parent_keeps_the_fork(engineer, official_tree, client):
    fork = services.tree_fork(tree=official_tree, user=engineer, name="Copy", fork_reason="Ours")
    official_tree.delete()
    fork.refresh_from_db()
    assert fork.parent_tree is None and fork.root_tree is None
    assert fork.is_fork and fork.fork_depth == 1
    assert fork.fork_info == {
        "parent_tree_id": None,
        "parent_tree_name": None,
        "fork_depth": 1,
        "fork_reason": "Ours",
        "has_parent_updates": False,
    }
    client.force_login(engineer)
    body = client.get(reverse("flows:detail", args=[fork.pk])).content.decode()
    assert 'id="fork-info"' in body and "parent deleted" in body


def test_originals_have_no_fork_info(own_flow):
    assert own_flow.fork_info is None


# --- API ------------------------------------------------------------------------------------


def test_api_fork_creates_a_draft_and_returns_fork_info(engineer, official_tree):
    response = api_as(engineer).post(
        fork_url(official_tree), {"name": "Acme VPN", "fork_reason": "SonicOS 7"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["name"] == "Acme VPN"
    assert body["fork_info"] == {
        "parent_tree_id": str(official_tree.pk),
        "parent_tree_name": official_tree.name,
        "fork_depth": 1,
        "fork_reason": "SonicOS 7",
        "has_parent_updates": False,
    }
    assert body["tree_structure"] == official_tree.tree_structure
    fork = Tree.objects.get(pk=body["id"])
    assert fork.account == engineer.account and fork.author == engineer


def test_api_fork_permissions(api, viewer, outsider, engineer, own_flow, own_draft):
    assert api.post(fork_url(own_flow), {"name": "x"}, format="json").status_code == 401
    assert (
        api_as(outsider).post(fork_url(own_flow), {"name": "x"}, format="json").status_code == 404
    )
    assert api_as(viewer).post(fork_url(own_flow), {"name": "x"}, format="json").status_code == 403
    assert api_as(viewer).post(fork_url(own_draft), {"name": "x"}, format="json").status_code == 404
    assert not Tree.objects.filter(fork_depth__gt=0).exists()
    response = api_as(engineer).post(fork_url(own_draft), {"name": "x"}, format="json")
    assert response.status_code == 201  # drafts of one's own account can be forked too


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "ok", "fork_reason": "y" * 256}, "fork_reason"),
        ({"name": "   "}, "name"),
    ],
)
def test_api_fork_validation_is_400_with_field_messages(engineer, official_tree, payload, field):
    response = api_as(engineer).post(fork_url(official_tree), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Tree.objects.filter(fork_depth__gt=0).exists()


def test_api_lists_fork_info_with_a_constant_number_of_queries(
    engineer, official_tree, django_assert_max_num_queries
):
    api = api_as(engineer)
    services.tree_fork(tree=official_tree, user=engineer, name="Fork 0")
    with django_assert_max_num_queries(4) as few:
        api.get("/api/flows/")
    for number in range(1, 20):
        services.tree_fork(tree=official_tree, user=engineer, name=f"Fork {number}")
    with django_assert_max_num_queries(4) as many:
        rows = api.get("/api/flows/").json()["results"]
    assert len(few.captured_queries) == len(many.captured_queries)
    forks = [row for row in rows if row["fork_info"]]
    assert len(forks) == 20
    assert all(row["fork_info"]["parent_tree_name"] == official_tree.name for row in forks)


# --- pages ----------------------------------------------------------------------------------


def test_fork_modal_is_an_htmx_fragment_with_a_prefilled_labelled_form(
    client, engineer, official_tree
):
    client.force_login(engineer)
    response = client.get(reverse("flows:fork", args=[official_tree.pk]), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="fork-form"' in body
    assert 'value="Copy of SonicWall VPN tunnel down"' in body
    assert '<label class="form-label" for="id_name">' in body
    assert '<label class="form-label" for="id_fork_reason">' in body
    assert body.count('maxlength="255"') == 2
    assert 'hx-target="#fork-modal-content"' in body


def test_fork_modal_errors_rerender_the_fragment_and_create_nothing(
    client, engineer, official_tree
):
    client.force_login(engineer)
    url = reverse("flows:fork", args=[official_tree.pk])
    response = client.post(url, {"name": "", "fork_reason": "x" * 300}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in body and 'id="fork-form"' in body
    assert "invalid-feedback" in body and "is-invalid" in body
    assert not Tree.objects.filter(fork_depth__gt=0).exists()


def test_fork_modal_success_redirects_to_the_fork_with_a_toast(client, engineer, official_tree):
    client.force_login(engineer)
    url = reverse("flows:fork", args=[official_tree.pk])
    response = client.post(url, {"name": "Acme VPN", "fork_reason": "Ours"}, **HTMX)
    fork = Tree.objects.get(name="Acme VPN")
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("flows:detail", args=[fork.pk])
    page = client.get(response["HX-Redirect"]).content.decode()
    assert "Forked “SonicWall VPN tunnel down”" in page  # the toast
    assert 'id="fork-info"' in page and "Ours" in page
    assert f'href="{reverse("flows:detail", args=[official_tree.pk])}"' in page


def test_fork_without_javascript_is_a_page_that_redirects(client, engineer, official_tree):
    client.force_login(engineer)
    url = reverse("flows:fork", args=[official_tree.pk])
    assert "<html" in client.get(url).content.decode()
    response = client.post(url, {"name": "Plain fork"})
    assert response.status_code == 302
    assert Tree.objects.get(name="Plain fork").parent_tree == official_tree


def test_fork_page_tenancy_and_viewers(client, viewer, outsider, own_flow):
    url = reverse("flows:fork", args=[own_flow.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "x"}).status_code == 404
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x"}).status_code == 403
    assert not Tree.objects.filter(fork_depth__gt=0).exists()


def test_detail_says_when_the_parent_was_updated(client, staff, engineer, official_tree):
    fork = services.tree_fork(tree=official_tree, user=engineer, name="Copy", fork_reason="Why")
    client.force_login(engineer)
    url = reverse("flows:detail", args=[fork.pk])
    body = client.get(url).content.decode()
    assert "Forked from" in body and "— Why" in body and 'id="parent-updated"' not in body
    services.tree_update(tree=official_tree, user=staff, name="SonicWall VPN tunnel down v2")
    body = client.get(url).content.decode()
    assert 'id="parent-updated"' in body and "SonicWall VPN tunnel down v2" in body


def test_cards_show_the_fork_chip_and_the_fork_button(client, engineer, viewer, official_tree):
    fork = services.tree_fork(tree=official_tree, user=engineer, name="Acme VPN")
    client.force_login(engineer)
    mine = client.get(reverse("flows:mine")).content.decode()
    assert 'class="badge badge-fork"' in mine and "Acme VPN" in mine
    assert 'id="fork-modal"' in mine
    library = client.get(reverse("flows:library")).content.decode()
    assert reverse("flows:fork", args=[official_tree.pk]) in library
    assert 'id="fork-modal"' in library
    client.force_login(viewer)
    library = client.get(reverse("flows:library")).content.decode()
    assert reverse("flows:fork", args=[official_tree.pk]) not in library
    assert fork.pk


def test_admin_filters_forks_and_links_the_parent(client, staff, engineer, official_tree):
    fork = services.tree_fork(tree=official_tree, user=engineer, name="Acme VPN")
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    body = client.get("/admin/flows/tree/", {"is_fork": "yes"}).content.decode()
    assert "Acme VPN" in body and ">SonicWall VPN tunnel down</a>" in body
    assert reverse("admin:flows_tree_change", args=[official_tree.pk]) in body
    originals = client.get("/admin/flows/tree/", {"is_fork": "no"}).content.decode()
    assert "Acme VPN" not in originals
    assert client.get(reverse("admin:flows_tree_change", args=[fork.pk])).status_code == 200
