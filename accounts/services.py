"""Writes on accounts and users."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from accounts.audit import audit_record
from accounts.models import Account, AuditAction, Role, User


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
def api_token_revoke(*, user: User, request: HttpRequest | None = None) -> bool:
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        audit_record(AuditAction.TOKEN_REVOKED, actor=user, target=user, request=request)
    return bool(deleted)
