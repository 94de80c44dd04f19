"""Writes on accounts and users."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.audit import audit_record
from accounts.models import ROLE_RANK, Account, AuditAction, Invitation, Role, User
from resolutionflow.errors import Conflict, ServiceError


def service_account_ensure(*, using: str = "default") -> User:
    """Create (or repair) the service account that owns default content. Idempotent."""
    user, _ = User.objects.db_manager(using).get_or_create(
        email=settings.SERVICE_ACCOUNT_EMAIL,
        defaults={"full_name": "ResolutionFlow", "is_service_account": True},
    )
    changed = not user.is_service_account or user.has_usable_password() or user.is_staff
    if changed:
        user.is_service_account = True
        user.is_staff = False
        user.is_superuser = False
        user.set_unusable_password()
        user.save(using=using)
    Token.objects.using(using).filter(user=user).delete()
    return user


@transaction.atomic
def member_upsert(
    *, account: Account, email: str, role: Role, password: str, full_name: str = ""
) -> User:
    """Create or update a member with this role and password (used by the demo seeder)."""
    user = User.objects.filter(email__iexact=email).first() or User(email=email.lower())
    user.account = account
    user.role = role
    user.full_name = full_name or user.full_name
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def api_token_create(*, user: User, request: HttpRequest | None = None) -> Token:
    """Replace the user's API token with a fresh one (only one key per user): a rotation
    when they had one."""
    if user.is_service_account:
        raise PermissionError("Service accounts cannot have API tokens.")
    replaced, _ = Token.objects.filter(user=user).delete()
    action = AuditAction.TOKEN_ROTATED if replaced else AuditAction.TOKEN_CREATED
    audit_record(action, actor=user, target=user, request=request)
    return Token.objects.create(user=user)


@transaction.atomic
def api_token_revoke(
    *,
    user: User,
    request: HttpRequest | None = None,
    actor: User | None = None,
    reason: str = "",
) -> bool:
    """Delete the user's token; ``actor`` is who did it when not the user (deactivation)."""
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        audit_record(
            AuditAction.TOKEN_REVOKED,
            actor=actor or user,
            account=user.account,
            target=user,
            detail={"reason": reason} if reason else None,
            request=request,
        )
    return bool(deleted)


def password_changed(
    *,
    user: User,
    action: AuditAction = AuditAction.PASSWORD_CHANGED,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> None:
    """After a new password is saved (profile page, reset link, the admin): record it and
    forget the failed logins counted against this e-mail, so a locked-out person who has just
    proved they own the login can log in at once. ``actor`` is who set it when not the user."""
    audit_record(
        action,
        actor=actor or user,
        account=user.account,
        target=user if actor is not None else None,
        request=request,
    )
    axes_reset(username=user.email.lower())


# --- Team management (issue 10): the one write path for members and invitations. ---


class MemberRefused(ServiceError):
    """The caller's role does not allow this change to this member."""

    status_code = 403
    code = "not_allowed"


class MemberNotFound(ServiceError):
    """The member is not in the caller's account (the API and pages answer 404 before this)."""

    status_code = 404
    code = "not_found"


class LastOwner(Conflict):
    code = "last_owner"


class AlreadyRegistered(Conflict):
    code = "already_registered"


class InvitationInvalid(ServiceError):
    status_code = 400
    code = "invitation_invalid"


def roles_assignable(*, actor: User) -> list[Role]:
    """The roles `actor` may give: owners any, admins engineer and viewer, others none."""
    if actor.account_id is None or not actor.has_role(Role.ADMIN):
        return []
    if actor.has_role(Role.OWNER):
        return list(Role)
    return [Role.ENGINEER, Role.VIEWER]


def member_manage_refusal(*, actor: User, member: User) -> str | None:
    """Why `actor` may not change `member` at all (role or active state), or None if they may."""
    if actor.account_id is None or actor.account_id != member.account_id:
        return "This person is not a member of your team."
    if actor.pk == member.pk:
        return "You cannot change your own role or deactivate yourself."
    if Role(member.role) not in roles_assignable(actor=actor):
        if actor.has_role(Role.ADMIN):
            return f"Only owners manage {member.get_role_display().lower()}s."
        return "Only owners and admins manage the team."
    return None


def _ensure_can_manage(*, actor: User, member: User) -> None:
    reason = member_manage_refusal(actor=actor, member=member)
    if reason is None:
        return
    if actor.account_id is None or actor.account_id != member.account_id:
        raise MemberNotFound(reason)
    raise MemberRefused(reason)


def _ensure_another_owner(*, member: User) -> None:
    """Refuse when `member` is the account's only active owner."""
    if member.role != Role.OWNER or not member.is_active:
        return
    others = User.objects.filter(account_id=member.account_id, role=Role.OWNER, is_active=True)
    if not others.exclude(pk=member.pk).exists():
        raise LastOwner("A team always keeps at least one active owner.")


def _locked(member: User) -> User:
    """Lock the account's active owners, then the member, always in that order: two owners
    demoting each other at once queue up (the second then sees one owner left) instead of both
    passing the last-owner check, and cannot deadlock."""
    list(
        User.objects.select_for_update()
        .filter(account_id=member.account_id, role=Role.OWNER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return User.objects.select_for_update().get(pk=member.pk)


@transaction.atomic
def member_set_role(
    *, actor: User, member: User, role: Role | str, request: HttpRequest | None = None
) -> User:
    """Give `member` another role, by the rules of SPEC §2 and issue 10."""
    member = _locked(member)
    role = Role(role)
    _ensure_can_manage(actor=actor, member=member)
    if role not in roles_assignable(actor=actor):
        raise MemberRefused("Only owners make owners or admins.")
    if role == member.role:
        return member
    if ROLE_RANK[role] < ROLE_RANK[Role.OWNER]:
        _ensure_another_owner(member=member)
    before = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit_record(
        AuditAction.ROLE_CHANGED,
        actor=actor,
        account=member.account,
        target=member,
        detail={"from": before, "to": role.value},
        request=request,
    )
    return member


@transaction.atomic
def member_deactivate(*, actor: User, member: User, request: HttpRequest | None = None) -> User:
    """Stop `member` logging in; their runs and content stay, their API token is revoked."""
    return _member_set_active(actor=actor, member=member, active=False, request=request)


@transaction.atomic
def member_reactivate(*, actor: User, member: User, request: HttpRequest | None = None) -> User:
    return _member_set_active(actor=actor, member=member, active=True, request=request)


def _member_set_active(
    *, actor: User, member: User, active: bool, request: HttpRequest | None
) -> User:
    member = _locked(member)
    _ensure_can_manage(actor=actor, member=member)
    if member.is_active == active:
        return member
    if not active:
        _ensure_another_owner(member=member)
    member.is_active = active
    member.save(update_fields=["is_active"])
    action = AuditAction.MEMBER_REACTIVATED if active else AuditAction.MEMBER_DEACTIVATED
    audit_record(action, actor=actor, account=member.account, target=member, request=request)
    if not active:
        api_token_revoke(user=member, actor=actor, reason="deactivated", request=request)
    return member


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def member_invite(
    *,
    actor: User,
    email: str,
    role: Role | str,
    link_for: Callable[[str], str],
    request: HttpRequest | None = None,
) -> tuple[Invitation, str]:
    """Invite `email` to the actor's account; e-mail the link and return it (shown once).

    `link_for(token)` builds the absolute link (the caller knows the host)."""
    role = Role(role)
    if role not in roles_assignable(actor=actor):
        if not roles_assignable(actor=actor):
            raise MemberRefused("Only owners and admins invite people.")
        raise MemberRefused("Only owners invite owners and admins.")
    email = User.objects.normalize_email(email).strip().lower()
    _ensure_not_registered(email)
    invitation = Invitation(account=actor.account, email=email, role=role, invited_by=actor)
    link = _invitation_send(invitation, actor=actor, link_for=link_for)
    audit_record(
        AuditAction.MEMBER_INVITED,
        actor=actor,
        account=actor.account,
        target=invitation,
        detail={"email": email, "role": role.value},
        request=request,
    )
    return invitation, link


def _ensure_not_registered(email: str) -> None:
    if User.objects.filter(email__iexact=email).exists():
        raise AlreadyRegistered(f"{email} already has a ResolutionFlow login.")


def _invitation_send(invitation: Invitation, *, actor: User, link_for: Callable[[str], str]) -> str:
    """Give the invitation a fresh token and expiry, save it and e-mail the link: a link sent
    before stops working, since only the new token's hash is kept."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = invitation_token_hash(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_DAYS)
    invitation.save()
    link = link_for(token)
    account = invitation.account
    send_mail(
        subject=f"You are invited to {account.name} on ResolutionFlow",
        message=(
            f"{actor.display_name} invited you to join {account.name} as "
            f"{Role(invitation.role).label.lower()}.\n\nChoose your password here (the link "
            f"expires on {invitation.expires_at:%d %B %Y}):\n{link}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return link


class InvitationNotFound(ServiceError):
    status_code = 404
    code = "not_found"


class InvitationClosed(Conflict):
    """Accepted or revoked: there is nothing left to resend or revoke."""

    code = "invitation_closed"


def _open_invitation_locked(*, actor: User, invitation: Invitation) -> Invitation:
    """The invitation, locked, if `actor` may manage it: their account's, for a role they may
    give (admins handle engineer and viewer invitations, as they invite only those)."""
    if actor.account_id is None or invitation.account_id != actor.account_id:
        raise InvitationNotFound("This invitation is not one of your team's.")
    if Role(invitation.role) not in roles_assignable(actor=actor):
        raise MemberRefused("Only owners manage invitations of owners and admins.")
    invitation = (
        Invitation.objects.select_for_update().select_related("account").get(pk=invitation.pk)
    )
    if invitation.accepted_at is not None:
        raise InvitationClosed(f"{invitation.email} has already accepted this invitation.")
    if invitation.revoked_at is not None:
        raise InvitationClosed("This invitation was revoked; invite them again instead.")
    return invitation


@transaction.atomic
def invitation_revoke(
    *, actor: User, invitation: Invitation, request: HttpRequest | None = None
) -> Invitation:
    """Withdraw an open invitation: its link stops working at once."""
    invitation = _open_invitation_locked(actor=actor, invitation=invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        AuditAction.INVITATION_REVOKED,
        actor=actor,
        account=invitation.account,
        target=invitation,
        detail={"email": invitation.email, "role": invitation.role},
        request=request,
    )
    return invitation


@transaction.atomic
def invitation_resend(
    *,
    actor: User,
    invitation: Invitation,
    link_for: Callable[[str], str],
    request: HttpRequest | None = None,
) -> tuple[Invitation, str]:
    """E-mail a new link (with a new expiry) for an open invitation, expired or not; the link
    sent before stops working."""
    invitation = _open_invitation_locked(actor=actor, invitation=invitation)
    _ensure_not_registered(invitation.email)
    link = _invitation_send(invitation, actor=actor, link_for=link_for)
    audit_record(
        AuditAction.INVITATION_RESENT,
        actor=actor,
        account=invitation.account,
        target=invitation,
        detail={"email": invitation.email, "role": invitation.role},
        request=request,
    )
    return invitation, link


def invitation_for_token(token: str) -> Invitation:
    """The pending invitation this link names; expired, used or unknown links are refused."""
    invitation = (
        Invitation.objects.select_related("account")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been accepted. Log in instead.")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation was withdrawn. Ask for a new one.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("This invitation has expired. Ask for a new one.")
    return invitation


@transaction.atomic
def invitation_accept(
    *, token: str, full_name: str, password: str, request: HttpRequest | None = None
) -> User:
    """Create the invited member with their password; the invitation cannot be used again."""
    invitation = invitation_for_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been accepted. Log in instead.")
    if invitation.revoked_at is not None or invitation.token_hash != invitation_token_hash(token):
        # Revoked or resent while this form was open.
        raise InvitationInvalid("This invitation link is not valid any more. Ask for a new one.")
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise AlreadyRegistered(f"{invitation.email} already has a ResolutionFlow login.")
    user = User(
        email=invitation.email,
        full_name=full_name.strip(),
        account=invitation.account,
        role=invitation.role,
    )
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save()
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        AuditAction.INVITATION_ACCEPTED,
        actor=user,
        account=invitation.account,
        target=user,
        detail={"role": invitation.role, "invited_by": getattr(invitation.invited_by, "email", "")},
        request=request,
    )
    return user


# --- Redaction options (issue 14) ---


@transaction.atomic
def account_set_redaction(
    *,
    actor: User,
    account: Account,
    redact_internal: bool,
    always_redact: bool,
    request: HttpRequest | None = None,
) -> Account:
    """Owners and admins choose what the exports redact; the change is on the audit trail."""
    if not actor.is_staff and (actor.account_id != account.pk or not actor.can_manage_account):
        raise MemberRefused("Only owners and admins change the team's redaction options.")
    account = Account.objects.select_for_update().get(pk=account.pk)
    before = {"redact_internal": account.redact_internal, "always_redact": account.always_redact}
    after = {"redact_internal": bool(redact_internal), "always_redact": bool(always_redact)}
    if before == after:
        return account
    account.redact_internal = after["redact_internal"]
    account.always_redact = after["always_redact"]
    account.save(update_fields=["redact_internal", "always_redact"])
    audit_record(
        AuditAction.REDACTION_CHANGED,
        actor=actor,
        account=account,
        target=account,
        detail={"from": before, "to": after},
        request=request,
    )
    return account
