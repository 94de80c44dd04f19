"""The audit trail's record: written by audit_record, never changed or removed."""

import pytest

from accounts.audit import audit_record
from accounts.models import AuditAction, AuditEvent
from tests.factories import TreeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_audit_record_keeps_who_what_and_on_what(rf):
    actor = UserFactory()
    tree = TreeFactory(account=actor.account, name="VPN down")
    request = rf.post("/", REMOTE_ADDR="203.0.113.9")
    event = audit_record(
        AuditAction.FLOW_PUBLISHED, actor=actor, target=tree, detail={"v": 2}, request=request
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.account == actor.account
    assert stored.actor_email == actor.email
    assert (stored.target_type, stored.target_id) == ("tree", str(tree.pk))
    assert stored.target_label == "VPN down"
    assert stored.detail == {"v": 2}
    assert stored.ip_address == "203.0.113.9"


def test_the_trail_is_append_only():
    event = audit_record(AuditAction.LOGIN_FAILED, actor_email="who@example.com")
    event.detail = {"changed": True}
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).detail == {}
