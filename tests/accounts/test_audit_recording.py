"""Issue 10: the services record who published, retired, deleted, imported, forked, launched a
batch and created, rotated or revoked a token — in the right account, and nothing on refusal."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from flows import services as flows
from flows.models import Tree, TreeStatus, TreeType
from sessions import services as sessions
from tests.conftest import api_as
from tests.factories import TreeFactory, procedural_structure


def actions(account=None) -> list[str]:
    """Oldest first, so a test reads in the order things happened."""
    events = AuditEvent.objects.order_by("created_at", "id")
    if account is not None:
        events = events.filter(account=account)
    return list(events.values_list("action", flat=True))


def test_token_create_rotate_revoke_from_the_profile_page(client, engineer, account):
    client.force_login(engineer)
    client.post(reverse("accounts:token-create"))
    client.post(reverse("accounts:token-create"))
    client.post(reverse("accounts:token-revoke"))
    client.post(reverse("accounts:token-revoke"))  # nothing left to revoke: nothing recorded
    assert actions(account) == ["token_created", "token_rotated", "token_revoked"]
    event = AuditEvent.objects.get(action="token_revoked")
    assert (event.actor, event.actor_email, event.ip_address) == (
        engineer,
        engineer.email,
        "127.0.0.1",
    )


def test_publish_unpublish_retire_and_delete_of_a_flow(owner, staff, account):
    flow = TreeFactory(account=account, author=owner, status=TreeStatus.DRAFT)
    flow_id = str(flow.pk)
    flows.tree_publish(tree=flow, user=owner)
    flows.tree_publish(tree=flow, user=owner)  # republishing is publishing too
    flows.tree_unpublish(tree=flow, user=owner)
    flows.tree_unpublish(tree=flow, user=owner)  # already a draft: nothing happened
    flows.tree_set_active(tree=flow, user=owner, active=False)
    flows.tree_set_active(tree=flow, user=owner, active=False)
    flows.tree_delete(tree=flow, user=staff)  # staff, in the flow's account
    assert not Tree.objects.filter(pk=flow_id).exists()
    assert actions(account) == [
        "flow_published",
        "flow_published",
        "flow_unpublished",
        "flow_retired",
        "flow_deleted",
    ]
    first, second = AuditEvent.objects.filter(action="flow_published").order_by("id")
    assert (first.detail, second.detail) == (
        {"republished": False, "version": 1},
        {"republished": True, "version": 2},
    )
    deleted = AuditEvent.objects.get(action="flow_deleted")
    assert deleted.actor == staff and deleted.target_label == flow.name
    assert deleted.target_type == "tree" and deleted.target_id == flow_id


def test_refused_changes_record_nothing(engineer, outsider, account):
    flow = TreeFactory(account=account, author=engineer)
    with pytest.raises(PermissionDenied):
        flows.tree_set_active(tree=flow, user=outsider, active=False)
    with pytest.raises(PermissionDenied):
        flows.tree_delete(tree=flow, user=outsider)
    assert not AuditEvent.objects.exists()


def test_the_admin_delete_goes_through_the_service(client, staff, account, owner):
    flow = TreeFactory(account=account, author=owner)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.post(reverse("admin:flows_tree_delete", args=[flow.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Tree.objects.filter(pk=flow.pk).exists()
    assert actions(account) == ["flow_deleted"]


def test_import_and_fork_are_recorded_in_the_users_account(engineer, account, other_account):
    rival = TreeFactory(account=other_account, is_public=False)
    public = TreeFactory(account=None, author=None, is_public=True, name="Official")
    document = {
        "format": "resolutionflow.flow",
        "version": 1,
        "name": "Imported",
        "tree_type": "procedural",
        "tree_structure": procedural_structure(),
    }
    response = api_as(engineer).post("/api/flows/import/", document, format="json")
    assert response.status_code == 201, response.json()
    fork = flows.tree_fork(tree=public, user=engineer, name="Our copy")
    with pytest.raises(PermissionDenied):
        flows.tree_fork(tree=rival, user=engineer, name="Stolen")
    assert actions(account) == ["flow_imported", "flow_forked"]
    forked = AuditEvent.objects.get(action="flow_forked")
    assert forked.target_id == str(fork.pk)
    assert forked.detail == {"parent": str(public.pk), "parent_name": "Official"}
    assert not AuditEvent.objects.filter(account=other_account).exists()


def test_batch_launch_is_recorded(engineer, account, owner):
    flow = TreeFactory(account=account, author=owner, tree_type=TreeType.MAINTENANCE)
    batch = sessions.batch_launch(tree=flow, user=engineer, targets=["RDS-01", "RDS-02"])
    event = AuditEvent.objects.get()
    assert (event.action, event.account, event.actor) == (
        AuditAction.BATCH_LAUNCHED,
        account,
        engineer,
    )
    assert event.target_id == str(batch.pk)
    assert event.detail == {"flow": flow.name, "targets": 2, "ticket_number": ""}
