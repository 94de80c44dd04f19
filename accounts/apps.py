from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        import accounts.api.schema  # noqa: F401  (registers the OpenAPI auth schemes)
        from accounts.lockout import on_locked_out, on_login_failed
        from accounts.signals import ensure_service_account_after_migrate

        # After every migrate, so a fresh database always has the owner of the defaults.
        post_migrate.connect(ensure_service_account_after_migrate, sender=self)
        # The audit trail of brute force: each failed login, and each lockout axes decides.
        user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
        user_locked_out.connect(on_locked_out, dispatch_uid="audit_locked_out")
