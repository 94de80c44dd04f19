"""Every model in the admin: its list (with search and a filter), add and change pages open."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.services import member_invite
from flows.default_content import default_flows_load
from sessions import services
from tests.factories import TreeFactory


@pytest.fixture
def populated(engineer, owner, account):
    default_flows_load()
    flow = TreeFactory(account=account, author=engineer, tree_type="maintenance")
    batch = services.batch_launch(tree=flow, user=engineer, targets=["A"])
    session = services.batch_session_start(session=batch.sessions.get(), user=engineer)
    services.session_feedback_set(session=session, user=engineer, node_id="patch", helpful=True)
    services.target_list_save(user=engineer, name="RDS", targets=[{"label": "A"}])
    member_invite(actor=owner, email="new@example.com", role="engineer", link_for=str)


def test_every_admin_page_opens(client, staff, populated):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.get(changelist)
        assert response.status_code == 200, changelist
        if model_admin.search_fields:
            assert client.get(changelist, {"q": "a"}).status_code == 200, changelist
        add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
        # Records kept by the login guard (axes) are never added by hand.
        can_add = model_admin.has_add_permission(response.wsgi_request)
        assert client.get(add).status_code == (200 if can_add else 403), add
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change


def test_admin_flow_list_filters_forks_and_defaults(client, staff, populated):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    url = reverse("admin:flows_tree_changelist")
    for params in (
        {"is_fork": "yes"},
        {"is_default__exact": "1"},
        {"tree_type__exact": "maintenance"},
    ):
        assert client.get(url, params).status_code == 200


def test_admin_publish_action_refuses_an_invalid_flow(client, staff, account, engineer):
    staff.is_superuser = True
    staff.save()
    tree = TreeFactory(account=account, author=engineer, status="draft", tree_structure={"id": "x"})
    client.force_login(staff)
    url = reverse("admin:flows_tree_changelist")
    body = {"action": "publish", "_selected_action": [str(tree.pk)]}
    response = client.post(url, body, follow=True)
    assert "problem(s) must be fixed before publishing" in response.content.decode()
    tree.refresh_from_db()
    assert tree.status == "draft"


def test_admin_change_form_cannot_write_content_or_status(client, staff, account, engineer):
    """Content changes go through the editor (revision check, working copy); the change form
    shows it read-only with a link and saves only the fields it changed."""
    staff.is_superuser = True
    staff.save()
    tree = TreeFactory(account=account, author=engineer, status="draft")
    structure = tree.tree_structure
    client.force_login(staff)
    url = reverse("admin:flows_tree_change", args=[tree.pk])
    page = client.get(url).content.decode()
    assert reverse("flows:edit", args=[tree.pk]) in page
    data = {
        "name": "Renamed by staff",
        "status": "published",
        "tree_structure": '{"id": "x"}',
        "intake_form": "[]",
        "account": account.pk,
        "author": engineer.pk,
        "is_active": "on",
        "fork_depth": 0,
        "created_at_0": "2026-01-01",
        "created_at_1": "00:00:00",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    tree.refresh_from_db()
    assert tree.name == "Renamed by staff"
    assert tree.status == "draft" and tree.tree_structure == structure


def test_staff_read_invitations_without_their_token(client, staff, owner):
    member_invite(actor=owner, email="new@example.com", role="engineer", link_for=str)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    page = client.get(reverse("admin:accounts_invitation_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "new@example.com" in text and "Pending" in text
    invitation = page.context["cl"].result_list[0]
    change = client.get(reverse("admin:accounts_invitation_change", args=[invitation.pk]))
    assert invitation.token_hash not in change.content.decode()
    assert not admin.site._registry[type(invitation)].has_add_permission(change.wsgi_request)
