"""/team/ and the invitation page: what a person sees and what each button changes."""

import re

import pytest
from django.core import mail

from accounts.models import AuditAction, AuditEvent, Invitation, Role, User
from tests.factories import UserFactory


@pytest.fixture
def admin(account):
    return UserFactory(email="dave@acme.test", account=account, role=Role.ADMIN)


def row_html(html: str, email: str) -> str:
    match = re.search(rf'<tr id="member-\d+" data-email="{re.escape(email)}">.*?</tr>', html, re.S)
    assert match, email
    return match.group(0)


def options(row: str) -> list[str]:
    return re.findall(r'<option value="(\w+)"', row)


def test_owner_sees_every_member_with_the_roles_they_may_give(client, owner, engineer, viewer):
    client.force_login(owner)
    html = client.get("/team/").content.decode()
    assert options(row_html(html, engineer.email)) == ["owner", "admin", "engineer", "viewer"]
    own = row_html(html, owner.email)
    assert options(own) == []  # nobody changes their own role
    assert "Deactivate" not in own
    assert "Never" in row_html(html, viewer.email)
    assert 'href="/team/"' in html  # the navbar link


def test_admin_is_offered_engineer_and_viewer_and_cannot_touch_owners(
    client, admin, owner, engineer
):
    client.force_login(admin)
    html = client.get("/team/").content.decode()
    assert options(row_html(html, engineer.email)) == ["engineer", "viewer"]
    owner_row = row_html(html, owner.email)
    assert options(owner_row) == []
    assert "Deactivate" not in owner_row
    assert re.findall(r'<option value="(\w+)"', html.split('id="invite-panel"')[1]) == [
        "engineer",
        "viewer",
    ]


@pytest.mark.parametrize("who", ["engineer", "viewer"])
def test_engineers_and_viewers_get_403_and_no_navbar_link(client, who, request):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get("/team/").status_code == 403
    assert 'href="/team/"' not in client.get("/flows/").content.decode()
    assert (
        client.post("/team/invite/", {"email": "x@acme.test", "role": "viewer"}).status_code == 403
    )
    assert not Invitation.objects.exists()


def test_outsider_gets_404_on_another_teams_member(client, outsider, engineer):
    client.force_login(outsider)
    answer = client.post(f"/team/members/{engineer.pk}/role/", {"role": "viewer"})
    assert answer.status_code == 404
    assert client.post(f"/team/members/{engineer.pk}/deactivate/").status_code == 404
    fresh = User.objects.get(pk=engineer.pk)
    assert (fresh.role, fresh.is_active) == (Role.ENGINEER, True)


def test_role_change_by_htmx_swaps_the_row(client, owner, engineer):
    client.force_login(owner)
    answer = client.post(
        f"/team/members/{engineer.pk}/role/", {"role": "viewer"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert html.strip().startswith(f'<tr id="member-{engineer.pk}"')
    assert '<option value="viewer" selected>' in html
    assert User.objects.get(pk=engineer.pk).role == Role.VIEWER


def test_refused_role_change_keeps_the_row_and_says_why(client, admin, engineer):
    client.force_login(admin)
    answer = client.post(
        f"/team/members/{engineer.pk}/role/", {"role": "owner"}, HTTP_HX_REQUEST="true"
    )
    assert "Only owners" in answer.headers["HX-Trigger"]
    assert '<option value="engineer" selected>' in answer.content.decode()
    assert User.objects.get(pk=engineer.pk).role == Role.ENGINEER


def test_deactivate_and_reactivate_from_the_page(client, owner, engineer):
    client.force_login(owner)
    html = client.post(
        f"/team/members/{engineer.pk}/deactivate/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Deactivated" in html and "Reactivate" in html
    assert not User.objects.get(pk=engineer.pk).is_active
    answer = client.post(f"/team/members/{engineer.pk}/reactivate/")
    assert answer.status_code == 302
    assert User.objects.get(pk=engineer.pk).is_active


def test_invite_shows_the_link_and_lists_the_pending_invitation(client, owner):
    client.force_login(owner)
    html = client.post(
        "/team/invite/", {"email": "eve@acme.test", "role": "engineer"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    link = re.search(r'id="invitation-link" class="[^"]*" value="([^"]+)"', html).group(1)
    assert link.startswith("http://testserver/team/invitations/")
    assert 'data-copy-target="#invitation-link"' in html
    assert "eve@acme.test · Engineer" in html
    assert link in mail.outbox[0].body


def test_invite_errors_are_shown_in_the_form(client, owner, engineer):
    client.force_login(owner)
    html = client.post(
        "/team/invite/", {"email": engineer.email, "role": "viewer"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "already has a ResolutionFlow login" in html
    assert not Invitation.objects.exists()


def test_accepting_sets_the_password_and_lands_in_the_account(client, owner):
    client.force_login(owner)
    html = client.post(
        "/team/invite/", {"email": "eve@acme.test", "role": "viewer"}
    ).content.decode()
    path = re.search(r'value="http://testserver(/team/invitations/[^"]+)"', html).group(1)
    client.logout()

    page = client.get(path).content.decode()
    assert "Join Acme MSP" in page and "viewer" in page
    answer = client.post(path, {"full_name": "Eve", "password1": "short", "password2": "short"})
    assert answer.status_code == 200
    assert "too short" in answer.content.decode()
    answer = client.post(
        path, {"full_name": "Eve", "password1": "a-long-secret-9", "password2": "a-long-secret-9"}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/flows/"
    eve = User.objects.get(email="eve@acme.test")
    assert (eve.account, eve.role) == (owner.account, Role.VIEWER)
    assert client.get("/flows/").context["user"] == eve
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_ACCEPTED, actor=eve).exists()

    client.logout()
    again = client.get(path)
    assert again.status_code == 400
    assert "already been accepted" in again.content.decode()


def test_unknown_invitation_link(client, db):
    answer = client.get("/team/invitations/nothing-here/")
    assert answer.status_code == 400
    assert "not valid" in answer.content.decode()
