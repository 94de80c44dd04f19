from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts import services
from accounts.models import Account, AuditEvent, Invitation, User


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("is_service_account") and cleaned.get("usable_password") == "true":
            raise forms.ValidationError("A service account cannot have a usable password.")
        return cleaned


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "member_count",
        "always_redact",
        "redact_internal",
        "created_at",
    ]
    list_filter = ["always_redact", "redact_internal"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "created_at", "redact_internal", "always_redact"]

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        """The redaction options go through the service (audited); the rest saves as usual."""
        options = {"redact_internal": obj.redact_internal, "always_redact": obj.always_redact}
        if change:
            stored = Account.objects.get(pk=obj.pk)
            obj.redact_internal, obj.always_redact = stored.redact_internal, stored.always_redact
        super().save_model(request, obj, form, change)
        services.account_set_redaction(actor=request.user, account=obj, request=request, **options)

    @admin.display(description="Members")
    def member_count(self, obj: Account) -> int:
        return obj.members.count()


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    ordering = ["email"]
    list_display = ["email", "full_name", "account", "role", "is_staff", "is_service_account"]
    list_filter = ["is_service_account", "is_staff", "is_active", "role", "account"]
    list_select_related = ["account"]
    search_fields = ["email", "full_name", "account__name"]
    autocomplete_fields = ["account"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "account", "role")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "is_service_account",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_service_account:
            # The flag is what keeps the account from logging in: it stays on.
            fields.append("is_service_account")
        return fields

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        user = self.get_object(request, id)
        if user is not None and user.is_service_account:
            messages.error(request, "A service account cannot be given a usable password.")
            return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        response = super().user_change_password(request, id, form_url)
        if user is not None and request.method == "POST" and response.status_code == 302:
            # Saved (a refused form answers 200): audited, and a lockout of this login ends.
            services.password_changed(user=user, actor=request.user, request=request)
        return response


# Lockouts (django-axes): axes registers its own admin; ours adds the unlock.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    actions = ["unlock", *AccessAttemptAdmin.actions]

    @admin.action(description="Unlock: forget the failures of these logins and addresses")
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        removed = sum(
            axes_reset(ip=attempt.ip_address, username=attempt.username, ip_or_username=True)
            for attempt in queryset
        )
        self.message_user(request, f"Unlocked; {removed} failure record(s) removed.")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Staff read every account's trail here; nobody adds, changes or deletes an entry."""

    list_display = ["created_at", "account", "actor_email", "action", "target_label", "ip_address"]
    list_filter = ["action", "account", "created_at"]
    list_select_related = ["account"]
    search_fields = ["actor_email", "target_label", "target_id", "ip_address", "account__name"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Staff see who was invited where; invitations are made on /team/ (the team services),
    so the admin only reads them (the token itself is never stored)."""

    list_display = ["email", "account", "role", "invited_by", "created_at", "expires_at", "state"]
    list_filter = ["role", "account"]
    list_select_related = ["account", "invited_by"]
    search_fields = ["email", "account__name"]
    readonly_fields = [f.name for f in Invitation._meta.fields if f.name != "token_hash"]
    exclude = ["token_hash"]

    @admin.display(description="State")
    def state(self, obj: Invitation) -> str:
        if obj.accepted_at:
            return "Accepted"
        if obj.revoked_at:
            return "Revoked"
        return "Pending" if obj.is_pending else "Expired"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False
