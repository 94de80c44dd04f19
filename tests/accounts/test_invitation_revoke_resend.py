"""Revoking and resending invitations (audit follow-up to issue 10): one service behind the team
page and the API; a revoked or replaced link is dead, the new one works; audited; tenancy 404."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import services
from accounts.models import AuditAction, AuditEvent, Invitation, Role, User
from tests.conftest import api_as
from tests.factories import UserFactory


def link_for(token: str) -> str:
    return f"http://testserver/team/invitations/{token}/"


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def admin(account):
    return UserFactory(email="dave@acme.test", account=account, role=Role.ADMIN)


@pytest.fixture
def invited(owner):
    """An engineer invitation and the token of its link."""
    invitation, link = services.member_invite(
        actor=owner, email="eve@acme.test", role=Role.ENGINEER, link_for=link_for
    )
    mail.outbox.clear()
    return invitation, token_of(link)


def accept(token: str) -> User:
    return services.invitation_accept(token=token, full_name="Eve", password="a-long-secret-9")


def fresh(invitation: Invitation) -> Invitation:
    return Invitation.objects.get(pk=invitation.pk)


# --- the service ---------------------------------------------------------------------------


def test_revoking_kills_the_link_and_is_audited(owner, invited):
    invitation, token = invited
    services.invitation_revoke(actor=owner, invitation=invitation)
    assert fresh(invitation).revoked_at is not None
    with pytest.raises(services.InvitationInvalid, match="withdrawn"):
        accept(token)
    assert not User.objects.filter(email="eve@acme.test").exists()
    event = AuditEvent.objects.get(action=AuditAction.INVITATION_REVOKED)
    assert (event.actor, event.account) == (owner, owner.account)
    assert event.detail == {"email": "eve@acme.test", "role": "engineer"}
    with pytest.raises(services.InvitationClosed):  # once is enough
        services.invitation_revoke(actor=owner, invitation=invitation)


def test_resending_sends_a_new_link_and_the_old_one_is_dead(owner, invited):
    invitation, old = invited
    Invitation.objects.update(expires_at=timezone.now() - timedelta(days=1))  # expired
    again, link = services.invitation_resend(actor=owner, invitation=invitation, link_for=link_for)
    assert again.pk == invitation.pk
    assert fresh(invitation).expires_at > timezone.now() + timedelta(days=6)
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body
    assert mail.outbox[0].to == ["eve@acme.test"]
    with pytest.raises(services.InvitationInvalid, match="not valid"):
        accept(old)
    user = accept(token_of(link))
    assert (user.account, user.role) == (owner.account, Role.ENGINEER)
    event = AuditEvent.objects.get(action=AuditAction.INVITATION_RESENT)
    assert (event.actor, event.detail["email"]) == (owner, "eve@acme.test")


def test_accepted_or_revoked_invitations_cannot_be_resent(owner, invited):
    invitation, token = invited
    accept(token)
    with pytest.raises(services.InvitationClosed, match="already accepted"):
        services.invitation_resend(actor=owner, invitation=invitation, link_for=link_for)
    with pytest.raises(services.InvitationClosed):
        services.invitation_revoke(actor=owner, invitation=invitation)
    assert mail.outbox == []


def test_admins_handle_engineer_invitations_but_not_admin_ones(owner, admin, invited):
    invitation, _ = invited
    boss, _ = services.member_invite(
        actor=owner, email="zed@acme.test", role=Role.ADMIN, link_for=link_for
    )
    with pytest.raises(services.MemberRefused):
        services.invitation_revoke(actor=admin, invitation=boss)
    with pytest.raises(services.MemberRefused):
        services.invitation_resend(actor=admin, invitation=boss, link_for=link_for)
    assert fresh(boss).revoked_at is None
    services.invitation_revoke(actor=admin, invitation=invitation)
    assert fresh(invitation).revoked_at is not None


def test_engineers_and_outsiders_are_refused(engineer, outsider, invited):
    invitation, _ = invited
    with pytest.raises(services.MemberRefused):
        services.invitation_revoke(actor=engineer, invitation=invitation)
    with pytest.raises(services.InvitationNotFound):
        services.invitation_resend(actor=outsider, invitation=invitation, link_for=link_for)
    assert fresh(invitation).revoked_at is None
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.INVITATION_REVOKED, AuditAction.INVITATION_RESENT]
    ).exists()


# --- the team page --------------------------------------------------------------------------


def test_the_team_page_offers_resend_and_revoke(client, owner, invited):
    invitation, _ = invited
    client.force_login(owner)
    html = client.get("/team/").content.decode()
    assert "eve@acme.test · Engineer" in html
    assert f'action="/team/invitations/{invitation.pk}/resend/"' in html
    assert f'action="/team/invitations/{invitation.pk}/revoke/"' in html


def test_an_expired_invitation_is_listed_as_expired_to_resend(client, owner, invited):
    invitation, _ = invited
    Invitation.objects.update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(owner)
    html = client.get("/team/").content.decode()
    assert "expired" in html
    assert f'action="/team/invitations/{invitation.pk}/resend/"' in html


def test_resend_from_the_page_shows_the_new_link(client, owner, invited):
    invitation, old = invited
    client.force_login(owner)
    html = client.post(
        f"/team/invitations/{invitation.pk}/resend/", HTTP_HX_REQUEST="true"
    ).content.decode()
    link = re.search(r'id="invitation-link" class="[^"]*" value="([^"]+)"', html).group(1)
    assert "the earlier link no longer works" in html
    assert link in mail.outbox[0].body and token_of(link) != old
    assert client.get(f"/team/invitations/{old}/").status_code == 400
    client.logout()
    assert "Choose" in client.get(f"/team/invitations/{token_of(link)}/").content.decode()


def test_revoke_from_the_page_removes_it_and_the_link_dies(client, owner, invited):
    invitation, token = invited
    client.force_login(owner)
    answer = client.post(f"/team/invitations/{invitation.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert "revoked" in answer["HX-Trigger"]
    html = answer.content.decode()
    assert "eve@acme.test" not in html and "No invitations waiting." in html
    client.logout()
    page = client.get(f"/team/invitations/{token}/")
    assert page.status_code == 400 and "withdrawn" in page.content.decode()


def test_revoke_without_htmx_redirects_with_a_message(client, owner, invited):
    invitation, _ = invited
    client.force_login(owner)
    answer = client.post(f"/team/invitations/{invitation.pk}/revoke/", follow=True)
    assert answer.redirect_chain[-1][0] == "/team/"
    assert "Invitation of eve@acme.test revoked" in answer.content.decode()


def test_the_page_refuses_what_the_role_may_not_do(client, owner, admin, engineer, outsider):
    boss, _ = services.member_invite(
        actor=owner, email="zed@acme.test", role=Role.ADMIN, link_for=link_for
    )
    client.force_login(admin)
    assert f"/team/invitations/{boss.pk}/revoke/" not in client.get("/team/").content.decode()
    refused = client.post(f"/team/invitations/{boss.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert "Only owners" in refused["HX-Trigger"]
    client.force_login(engineer)
    assert client.post(f"/team/invitations/{boss.pk}/revoke/").status_code == 403
    client.force_login(outsider)
    outsider.role = Role.OWNER
    outsider.save()
    assert client.post(f"/team/invitations/{boss.pk}/resend/").status_code == 404
    assert fresh(boss).revoked_at is None and mail.outbox[1:] == []


# --- the API --------------------------------------------------------------------------------


def test_api_lists_open_invitations_for_managers_only(owner, engineer, invited):
    invitation, _ = invited
    rows = api_as(owner).get("/api/members/invitations/").json()
    assert [(r["id"], r["email"], r["role"], r["is_expired"]) for r in rows] == [
        (invitation.pk, "eve@acme.test", "engineer", False)
    ]
    assert rows[0]["invited_by"] == owner.email
    assert api_as(engineer).get("/api/members/invitations/").status_code == 403


def test_api_resend_answers_the_new_link(owner, invited):
    invitation, old = invited
    answer = api_as(owner).post(f"/api/members/invitations/{invitation.pk}/resend/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["id"] == invitation.pk and body["link"] in mail.outbox[0].body
    assert token_of(body["link"]) != old
    with pytest.raises(services.InvitationInvalid):
        accept(old)


def test_api_revoke_answers_204_and_then_404(owner, invited):
    invitation, token = invited
    client = api_as(owner)
    assert client.post(f"/api/members/invitations/{invitation.pk}/revoke/").status_code == 204
    assert fresh(invitation).revoked_at is not None
    assert client.post(f"/api/members/invitations/{invitation.pk}/revoke/").status_code == 404
    assert client.get("/api/members/invitations/").json() == []
    with pytest.raises(services.InvitationInvalid):
        accept(token)


def test_api_refusals(owner, admin, outsider, invited):
    invitation, _ = invited
    boss, _ = services.member_invite(
        actor=owner, email="zed@acme.test", role=Role.ADMIN, link_for=link_for
    )
    assert api_as(admin).post(f"/api/members/invitations/{boss.pk}/revoke/").status_code == 403
    outsider.role = Role.OWNER
    outsider.save()
    assert (
        api_as(outsider).post(f"/api/members/invitations/{invitation.pk}/resend/").status_code
        == 404
    )
    assert api_as(owner).post("/api/members/invitations/nope/revoke/").status_code == 404
    assert fresh(boss).revoked_at is None and fresh(invitation).revoked_at is None


def test_api_members_routes_still_answer(owner, engineer):
    """/api/members/invitations/ is registered before /api/members/{id}/."""
    assert api_as(owner).get(f"/api/members/{engineer.pk}/").json()["email"] == engineer.email
