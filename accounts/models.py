"""Tenants (accounts, "teams" in the UI) and the users who belong to them."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.querysets import NO_ROWS, AccountScopedQuerySet


class Account(models.Model):
    """An MSP: the tenant every piece of content belongs to."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Copy for Ticket and the exports (issue 14): secrets are always findings; these two widen
    # what counts and remove the "copy as is" choice. Changed through accounts.services.
    redact_internal = models.BooleanField(
        "Redact internal addresses, MAC and e-mail addresses",
        default=False,
        help_text="Private IPv4/IPv6 addresses, MAC addresses and e-mail addresses count as "
        "findings in exports, besides passwords, keys and tokens.",
    )
    always_redact = models.BooleanField(
        "Always redact",
        default=False,
        help_text="Copy for Ticket and downloads never offer to copy findings as they are.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    ENGINEER = "engineer", "Engineer"
    VIEWER = "viewer", "Viewer"


# Higher rank, more rights: owner > admin > engineer > viewer.
ROLE_RANK = {Role.VIEWER: 0, Role.ENGINEER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractBaseUser, PermissionsMixin):
    """A person (or the service account) who logs in by e-mail."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ENGINEER)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_service_account = models.BooleanField(
        default=False, help_text="Owns default content; can never log in."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["account", "role"])]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    def has_role(self, role: Role | str) -> bool:
        """True when the user's account role is `role` or higher (staff always)."""
        if self.is_staff:
            return True
        if self.account_id is None:
            return False
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    @property
    def can_edit_content(self) -> bool:
        return self.has_role(Role.ENGINEER)

    @property
    def can_manage_account(self) -> bool:
        return self.has_role(Role.ADMIN)


class AuditAction(models.TextChoices):
    """What the audit trail records (issue 10): security events and changes to who may do what."""

    LOGIN_FAILED = "login_failed", "Login failed"
    LOCKED_OUT = "locked_out", "Locked out"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET = "password_reset", "Password reset"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_ROTATED = "token_rotated", "API token rotated"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    MEMBER_INVITED = "member_invited", "Member invited"
    INVITATION_RESENT = "invitation_resent", "Invitation resent"
    INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
    INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
    ROLE_CHANGED = "role_changed", "Role changed"
    MEMBER_DEACTIVATED = "member_deactivated", "Member deactivated"
    MEMBER_REACTIVATED = "member_reactivated", "Member reactivated"
    FLOW_PUBLISHED = "flow_published", "Flow published"
    FLOW_UNPUBLISHED = "flow_unpublished", "Flow unpublished"
    FLOW_RETIRED = "flow_retired", "Flow retired"
    FLOW_DELETED = "flow_deleted", "Flow deleted"
    FLOW_IMPORTED = "flow_imported", "Flow imported"
    FLOW_FORKED = "flow_forked", "Flow forked"
    FLOW_VERIFIED = "flow_verified", "Flow marked verified"
    FLOW_RESTORED = "flow_restored", "Flow version restored"
    FLOW_MERGED = "flow_merged", "Parent changes pulled into a fork"
    BATCH_LAUNCHED = "batch_launched", "Batch launched"
    REDACTION_CHANGED = "redaction_changed", "Redaction options changed"
    EXPORT_UNREDACTED = "export_unredacted", "Copied for a ticket without redaction"


class AuditEventQuerySet(AccountScopedQuerySet["AuditEvent"]):
    def visible_q(self, user: User) -> Q:
        """Owners and admins read their account's trail; nobody else reads any."""
        if user.account_id is None or not user.can_manage_account:
            return NO_ROWS
        return Q(account_id=user.account_id)

    def update(self, **kwargs):  # type: ignore[override]
        raise PermissionError("The audit trail is append-only.")

    def delete(self):  # type: ignore[override]
        raise PermissionError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """One entry of the append-only audit trail; written only by ``accounts.audit.audit_record``.

    The actor's e-mail and the target's label are copied so the entry still reads the same
    after the user or the object is gone."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    target_type = models.CharField(max_length=50, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["account", "action", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email or 'system'} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise PermissionError("The audit trail is append-only.")


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def open(self) -> InvitationQuerySet:
        """Neither accepted nor revoked: the team page lists these, expired ones to resend."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def pending(self) -> InvitationQuerySet:
        return self.open().filter(expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An offer to join an account with a role, accepted once through a link before it expires.

    Only the SHA-256 of the link's token is stored: a database dump cannot be turned into links."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
