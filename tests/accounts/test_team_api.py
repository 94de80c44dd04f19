"""/api/members/: the team-management rules through the API, tenancy answering 404."""

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token

from accounts.models import AuditAction, AuditEvent, Invitation, Role, User
from tests.conftest import api_as
from tests.factories import UserFactory


@pytest.fixture
def admin(account):
    return UserFactory(email="dave@acme.test", account=account, role=Role.ADMIN)


def test_list_shows_the_team_with_role_and_last_login(owner, engineer, outsider):
    answer = api_as(engineer).get("/api/members/")
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert [row["email"] for row in rows] == ["alice@acme.test", "bob@acme.test"]
    assert set(rows[0]) == {"id", "email", "name", "role", "is_active", "last_login"}
    assert rows[0]["role"] == "owner"
    assert rows[0]["is_active"] is True


def test_outsiders_get_404_and_nothing_changes(outsider, engineer):
    client = api_as(outsider)
    assert client.get(f"/api/members/{engineer.pk}/").status_code == 404
    assert (
        client.patch(f"/api/members/{engineer.pk}/", {"role": "viewer"}, format="json").status_code
        == 404
    )
    assert client.post(f"/api/members/{engineer.pk}/deactivate/").status_code == 404
    fresh = User.objects.get(pk=engineer.pk)
    assert (fresh.role, fresh.is_active) == (Role.ENGINEER, True)


def test_owner_changes_a_role(owner, engineer):
    answer = api_as(owner).patch(f"/api/members/{engineer.pk}/", {"role": "viewer"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["role"] == "viewer"
    assert User.objects.get(pk=engineer.pk).role == Role.VIEWER
    assert AuditEvent.objects.get().detail == {"from": "engineer", "to": "viewer"}


def test_a_bad_role_is_a_field_error(owner, engineer):
    answer = api_as(owner).patch(f"/api/members/{engineer.pk}/", {"role": "king"}, format="json")
    assert answer.status_code == 400
    assert "role" in answer.json()


def test_own_role_is_refused_with_403(owner):
    answer = api_as(owner).patch(f"/api/members/{owner.pk}/", {"role": "viewer"}, format="json")
    assert answer.status_code == 403
    assert answer.json()["code"] == "not_allowed"
    assert User.objects.get(pk=owner.pk).role == Role.OWNER


def test_admin_cannot_make_an_admin(admin, engineer):
    answer = api_as(admin).patch(f"/api/members/{engineer.pk}/", {"role": "admin"}, format="json")
    assert answer.status_code == 403
    assert User.objects.get(pk=engineer.pk).role == Role.ENGINEER


def test_engineer_cannot_change_anyone(engineer, viewer):
    answer = api_as(engineer).patch(
        f"/api/members/{viewer.pk}/", {"role": "engineer"}, format="json"
    )
    assert answer.status_code == 403
    assert User.objects.get(pk=viewer.pk).role == Role.VIEWER


def test_last_owner_is_409(staff, owner):
    staff.account = owner.account
    staff.role = Role.ADMIN
    staff.save()
    answer = api_as(staff).patch(f"/api/members/{owner.pk}/", {"role": "admin"}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "last_owner"
    answer = api_as(staff).post(f"/api/members/{owner.pk}/deactivate/")
    assert answer.status_code == 409
    assert User.objects.get(pk=owner.pk).is_active


def test_deactivate_revokes_the_token_and_reactivate_restores(owner, engineer):
    token = Token.objects.create(user=engineer)
    answer = api_as(owner).post(f"/api/members/{engineer.pk}/deactivate/")
    assert answer.status_code == 200
    assert answer.json()["is_active"] is False
    assert not Token.objects.filter(pk=token.pk).exists()
    assert APIClientWithToken(token.key).get("/api/members/").status_code == 401
    answer = api_as(owner).post(f"/api/members/{engineer.pk}/reactivate/")
    assert answer.json()["is_active"] is True
    assert User.objects.get(pk=engineer.pk).is_active


def APIClientWithToken(key):  # noqa: N802
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_nobody_deactivates_themselves(owner):
    assert api_as(owner).post(f"/api/members/{owner.pk}/deactivate/").status_code == 403
    assert User.objects.get(pk=owner.pk).is_active


def test_invite_answers_201_with_the_link_and_sends_it(owner):
    answer = api_as(owner).post(
        "/api/members/invite/", {"email": "eve@acme.test", "role": "engineer"}, format="json"
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["link"].startswith("http://testserver/team/invitations/")
    assert body["email"] == "eve@acme.test"
    assert body["link"] in mail.outbox[0].body
    invitation = Invitation.objects.get()
    assert (invitation.account, invitation.role) == (owner.account, Role.ENGINEER)
    assert AuditEvent.objects.get().action == AuditAction.MEMBER_INVITED


def test_invite_refusals(owner, engineer, viewer):
    client = api_as(owner)
    answer = client.post(
        "/api/members/invite/", {"email": engineer.email, "role": "viewer"}, format="json"
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "already_registered"
    answer = client.post(
        "/api/members/invite/", {"email": "not-an-email", "role": "viewer"}, format="json"
    )
    assert answer.status_code == 400
    answer = api_as(viewer).post(
        "/api/members/invite/", {"email": "x@acme.test", "role": "viewer"}, format="json"
    )
    assert answer.status_code == 403
    assert not Invitation.objects.exists()


def test_put_is_not_offered(owner, engineer):
    answer = api_as(owner).put(f"/api/members/{engineer.pk}/", {"role": "viewer"}, format="json")
    assert answer.status_code == 405
