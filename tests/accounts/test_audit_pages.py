"""Issue 10: owners and admins read their account's audit trail on /team/audit/ and
GET /api/audit/; staff read everything in the admin; nobody edits it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditAction, AuditEvent, Role
from tests.conftest import api_as
from tests.factories import UserFactory

PAGE = "/team/audit/"
API = "/api/audit/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def trail(account, other_account, owner, engineer, outsider):
    """Our team's events and one of the rival team's."""
    audit_record(AuditAction.TOKEN_CREATED, actor=engineer, target=engineer)
    audit_record(
        AuditAction.ROLE_CHANGED,
        actor=owner,
        target=engineer,
        detail={"from": "viewer", "to": "engineer"},
    )
    audit_record(AuditAction.FLOW_PUBLISHED, actor=owner, target=account)
    audit_record(AuditAction.FLOW_PUBLISHED, actor=outsider, target=other_account)


def rows(body: str) -> int:
    return body.count("<tr>") - 1  # the header row


def shown(body: str) -> list[str]:
    """The action labels of the listed events (the filter's options name every action)."""
    return re.findall(r'<span class="audit-action">([^<]+)</span>', body)


def test_owners_and_admins_read_their_accounts_trail_with_human_labels(client, owner, trail):
    admin = UserFactory(account=owner.account, role=Role.ADMIN)
    for user in (owner, admin):
        client.force_login(user)
        body = client.get(PAGE).content.decode()
        assert "3 events" in body and rows(body) == 3
        assert shown(body) == ["Flow published", "Role changed", "API token created"]
        assert "viewer → engineer" in body and "mallory@rival.test" not in body
        assert 'href="/team/audit/"' in client.get("/team/").content.decode()


def test_engineers_viewers_and_the_team_less_are_refused(client, engineer, viewer, staff, trail):
    for user in (engineer, viewer, UserFactory(account=None)):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the login page


def test_filters_by_action_actor_and_dates_in_place(client, owner, engineer, trail):
    client.force_login(owner)
    body = client.get(PAGE, {"action": "flow_published"}, **HTMX).content.decode()
    assert "<html" not in body and "1 event" in body and shown(body) == ["Flow published"]
    body = client.get(PAGE, {"actor": engineer.pk}).content.decode()
    assert "1 event" in body and shown(body) == ["API token created"]
    # The actor choices name only people of this trail.
    assert f'value="{engineer.pk}"' in body and "mallory@rival.test" not in body
    old = AuditEvent.objects.create(
        account=owner.account,
        actor=owner,
        actor_email=owner.email,
        action=AuditAction.MEMBER_INVITED,
        created_at=timezone.now() - timedelta(days=10),
    )
    day = (old.created_at).date().isoformat()
    body = client.get(PAGE, {"until": day}).content.decode()
    assert "1 event" in body and shown(body) == ["Member invited"]
    body = client.get(PAGE, {"since": timezone.now().date().isoformat()}).content.decode()
    assert "3 events" in body and "Member invited" not in shown(body)
    body = client.get(PAGE, {"action": "member_deactivated"}).content.decode()
    assert "No event matches these filters." in body and "Clear filters" in body


def test_empty_state_and_pagination(client, owner):
    client.force_login(owner)
    assert "Nothing recorded yet." in client.get(PAGE).content.decode()
    for _ in range(51):
        audit_record(AuditAction.TOKEN_ROTATED, actor=owner, target=owner)
    body = client.get(PAGE, {"action": "token_rotated"}).content.decode()
    assert rows(body) == 50 and "page=2" in body and "action=token_rotated" in body
    body = client.get(PAGE, {"action": "token_rotated", "page": 2}).content.decode()
    assert rows(body) == 1


def test_the_api_lists_only_the_own_account_and_staff_everything(owner, engineer, staff, trail):
    body = api_as(owner).get(API).json()
    assert body["count"] == 3
    first = body["results"][0]
    assert first["action"] == "flow_published" and first["action_label"] == "Flow published"
    assert {r["actor_email"] for r in body["results"]} == {owner.email, engineer.email}
    assert api_as(staff).get(API).json()["count"] == 4
    filtered = api_as(owner).get(API, {"action": "role_changed"}).json()
    assert filtered["count"] == 1 and filtered["results"][0]["detail"]["to"] == "engineer"
    assert api_as(owner).get(API, {"since": "not-a-date"}).status_code == 400


def test_the_api_refuses_others_and_cannot_write(api, owner, engineer, outsider, trail):
    assert api.get(API).status_code == 401
    response = api_as(engineer).get(API)
    assert response.status_code == 403 and "owners and admins" in response.json()["detail"]
    rival = AuditEvent.objects.get(account=outsider.account)
    assert api_as(owner).get(f"{API}{rival.pk}/").status_code == 404
    mine = AuditEvent.objects.filter(account=owner.account).first()
    client = api_as(owner)
    assert client.get(f"{API}{mine.pk}/").status_code == 200
    assert client.post(API, {"action": "login_failed"}, format="json").status_code == 405
    assert client.delete(f"{API}{mine.pk}/").status_code == 405
    assert client.patch(f"{API}{mine.pk}/", {}, format="json").status_code == 405
    assert AuditEvent.objects.count() == 4


def test_the_admin_reads_but_never_edits(client, staff, trail):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    changelist = client.get(reverse("admin:accounts_auditevent_changelist"))
    assert changelist.status_code == 200 and "mallory@rival.test" in changelist.content.decode()
    search = client.get(reverse("admin:accounts_auditevent_changelist"), {"q": "mallory"})
    assert "1 audit event" in search.content.decode()
    event = AuditEvent.objects.first()
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    change = client.get(reverse("admin:accounts_auditevent_change", args=[event.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    delete = client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": 1})
    assert delete.status_code == 403
    assert AuditEvent.objects.count() == 4
