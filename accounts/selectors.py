"""Reads on accounts shared by the team page and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Invitation, User


def team_members(*, user: User) -> QuerySet[User]:
    """The people of the caller's account (never the service account); nobody else's."""
    if not user.is_authenticated or user.account_id is None:
        return User.objects.none()
    return User.objects.filter(account_id=user.account_id, is_service_account=False).order_by(
        "email"
    )


def open_invitations(*, user: User) -> QuerySet[Invitation]:
    """The team's invitations not yet accepted or revoked, expired ones included (to resend)."""
    if not user.is_authenticated or user.account_id is None or not user.can_manage_account:
        return Invitation.objects.none()
    return Invitation.objects.open().filter(account_id=user.account_id)
