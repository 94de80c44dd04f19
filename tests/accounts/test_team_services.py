"""The team-management rules of issue 10, on the services every page and API call goes through."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.models import AuditAction, AuditEvent, Invitation, Role, User
from tests.conftest import password_login
from tests.factories import UserFactory


def link_for(token: str) -> str:
    return f"http://testserver/team/invitations/{token}/"


@pytest.fixture
def admin(account):
    return UserFactory(email="dave@acme.test", account=account, role=Role.ADMIN)


def role_of(user: User) -> str:
    return User.objects.get(pk=user.pk).role


def test_owner_changes_a_role_and_the_audit_trail_says_from_and_to(owner, engineer):
    services.member_set_role(actor=owner, member=engineer, role=Role.VIEWER)
    assert role_of(engineer) == Role.VIEWER
    event = AuditEvent.objects.get(action=AuditAction.ROLE_CHANGED)
    assert event.actor == owner
    assert event.target_id == str(engineer.pk)
    assert event.detail == {"from": "engineer", "to": "viewer"}
    assert event.account == owner.account


def test_nobody_changes_their_own_role(owner):
    with pytest.raises(services.MemberRefused, match="your own role"):
        services.member_set_role(actor=owner, member=owner, role=Role.ADMIN)
    assert role_of(owner) == Role.OWNER


def test_nobody_deactivates_themselves(owner):
    with pytest.raises(services.MemberRefused):
        services.member_deactivate(actor=owner, member=owner)
    assert User.objects.get(pk=owner.pk).is_active


@pytest.mark.parametrize("target_role", [Role.ENGINEER, Role.VIEWER])
@pytest.mark.parametrize("new_role", [Role.ENGINEER, Role.VIEWER])
def test_admins_manage_engineers_and_viewers(admin, account, target_role, new_role):
    member = UserFactory(account=account, role=target_role)
    services.member_set_role(actor=admin, member=member, role=new_role)
    assert role_of(member) == new_role


@pytest.mark.parametrize("new_role", [Role.ADMIN, Role.OWNER])
def test_admins_cannot_promote_to_admin_or_owner(admin, engineer, new_role):
    with pytest.raises(services.MemberRefused) as refused:
        services.member_set_role(actor=admin, member=engineer, role=new_role)
    assert refused.value.status_code == 403
    assert role_of(engineer) == Role.ENGINEER


@pytest.mark.parametrize("target_role", [Role.ADMIN, Role.OWNER])
def test_admins_cannot_touch_admins_or_owners(admin, account, target_role):
    member = UserFactory(account=account, role=target_role)
    with pytest.raises(services.MemberRefused):
        services.member_set_role(actor=admin, member=member, role=Role.VIEWER)
    with pytest.raises(services.MemberRefused):
        services.member_deactivate(actor=admin, member=member)
    fresh = User.objects.get(pk=member.pk)
    assert (fresh.role, fresh.is_active) == (target_role, True)


def test_only_owners_make_and_remove_owners(owner, account, engineer):
    services.member_set_role(actor=owner, member=engineer, role=Role.OWNER)
    assert role_of(engineer) == Role.OWNER
    engineer.refresh_from_db()
    services.member_set_role(actor=engineer, member=owner, role=Role.ADMIN)
    assert role_of(owner) == Role.ADMIN


@pytest.mark.parametrize("actor_role", [Role.ENGINEER, Role.VIEWER])
def test_engineers_and_viewers_manage_nobody(account, viewer, actor_role):
    actor = UserFactory(account=account, role=actor_role)
    with pytest.raises(services.MemberRefused):
        services.member_set_role(actor=actor, member=viewer, role=Role.ENGINEER)
    with pytest.raises(services.MemberRefused):
        services.member_invite(
            actor=actor, email="x@acme.test", role=Role.VIEWER, link_for=link_for
        )
    assert role_of(viewer) == Role.VIEWER
    assert not Invitation.objects.exists()


def test_outsiders_get_not_found(outsider, engineer):
    with pytest.raises(services.MemberNotFound) as refused:
        services.member_set_role(actor=outsider, member=engineer, role=Role.VIEWER)
    assert refused.value.status_code == 404
    assert role_of(engineer) == Role.ENGINEER


def test_the_last_owner_cannot_be_demoted_or_deactivated(staff, owner):
    # Nobody acts on themselves, so only staff (or two owners demoting each other at once)
    # can reach the last owner.
    staff.account = owner.account
    staff.role = Role.ADMIN
    staff.save()
    with pytest.raises(services.LastOwner) as refused:
        services.member_set_role(actor=staff, member=owner, role=Role.ADMIN)
    assert refused.value.status_code == 409
    with pytest.raises(services.LastOwner):
        services.member_deactivate(actor=staff, member=owner)
    fresh = User.objects.get(pk=owner.pk)
    assert (fresh.role, fresh.is_active) == (Role.OWNER, True)


def test_a_second_owner_can_be_demoted_while_one_stays(owner, account):
    second = UserFactory(account=account, role=Role.OWNER)
    services.member_set_role(actor=owner, member=second, role=Role.ENGINEER)
    assert role_of(second) == Role.ENGINEER


def test_an_inactive_owner_does_not_count_as_the_one_that_stays(owner, account, staff):
    second = UserFactory(account=account, role=Role.OWNER)
    services.member_deactivate(actor=owner, member=second)
    staff.account = account
    staff.role = Role.ADMIN
    staff.save()
    with pytest.raises(services.LastOwner):
        services.member_set_role(actor=staff, member=owner, role=Role.ENGINEER)


def test_deactivation_revokes_the_token_and_reactivation_restores_login(owner, engineer, client):
    Token.objects.create(user=engineer)
    services.member_deactivate(actor=owner, member=engineer)
    assert not User.objects.get(pk=engineer.pk).is_active
    assert not Token.objects.filter(user=engineer).exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [AuditAction.MEMBER_DEACTIVATED, AuditAction.TOKEN_REVOKED]
    assert not password_login(client, engineer.email, "correct-horse-battery")

    services.member_reactivate(actor=owner, member=engineer)
    assert User.objects.get(pk=engineer.pk).is_active
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_REACTIVATED).count() == 1
    assert password_login(client, engineer.email, "correct-horse-battery")


def test_invite_sends_the_link_and_accepting_creates_the_member(owner):
    invitation, link = services.member_invite(
        actor=owner, email="Eve@Acme.test", role=Role.ENGINEER, link_for=link_for
    )
    assert invitation.email == "eve@acme.test"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eve@acme.test"]
    assert link in mail.outbox[0].body
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in Invitation.objects.get().token_hash  # only the hash is stored

    user = services.invitation_accept(token=token, full_name="Eve", password="a-long-secret-9")
    fresh = User.objects.get(email="eve@acme.test")
    assert (fresh.account, fresh.role, fresh.full_name) == (owner.account, Role.ENGINEER, "Eve")
    assert fresh.check_password("a-long-secret-9")
    assert user.pk == fresh.pk
    assert Invitation.objects.get().accepted_at is not None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert actions == {AuditAction.MEMBER_INVITED, AuditAction.INVITATION_ACCEPTED}

    with pytest.raises(services.InvitationInvalid, match="already been accepted"):
        services.invitation_accept(token=token, full_name="Eve", password="a-long-secret-9")


def test_an_expired_or_unknown_invitation_is_refused(owner):
    _, link = services.member_invite(
        actor=owner, email="eve@acme.test", role=Role.VIEWER, link_for=link_for
    )
    token = link.rstrip("/").rsplit("/", 1)[1]
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.InvitationInvalid, match="expired"):
        services.invitation_accept(token=token, full_name="", password="a-long-secret-9")
    with pytest.raises(services.InvitationInvalid, match="not valid"):
        services.invitation_accept(token="nope", full_name="", password="a-long-secret-9")
    assert not User.objects.filter(email="eve@acme.test").exists()


def test_accepting_checks_the_password_rules(owner):
    _, link = services.member_invite(
        actor=owner, email="eve@acme.test", role=Role.VIEWER, link_for=link_for
    )
    token = link.rstrip("/").rsplit("/", 1)[1]
    with pytest.raises(ValidationError):
        services.invitation_accept(token=token, full_name="", password="123")
    assert not User.objects.filter(email="eve@acme.test").exists()
    assert Invitation.objects.get().accepted_at is None


def test_inviting_an_existing_login_is_a_conflict(owner, engineer):
    with pytest.raises(services.AlreadyRegistered) as refused:
        services.member_invite(
            actor=owner, email=engineer.email, role=Role.VIEWER, link_for=link_for
        )
    assert refused.value.status_code == 409
    assert not Invitation.objects.exists()


def test_admins_invite_engineers_and_viewers_only(admin):
    services.member_invite(actor=admin, email="e@acme.test", role=Role.ENGINEER, link_for=link_for)
    with pytest.raises(services.MemberRefused):
        services.member_invite(actor=admin, email="a@acme.test", role=Role.ADMIN, link_for=link_for)
    assert list(Invitation.objects.values_list("email", flat=True)) == ["e@acme.test"]


def test_a_deactivated_member_is_logged_out_of_open_sessions(client, owner, engineer):
    client.force_login(engineer)
    assert client.get("/flows/").status_code == 200
    services.member_deactivate(actor=owner, member=engineer)
    answer = client.get("/flows/")
    assert answer.status_code == 302 and "/accounts/login/" in answer.headers["Location"]
