from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import accounts.api.schema  # noqa: F401  (registers the OpenAPI auth schemes)
        from accounts.signals import ensure_service_account_after_migrate

        # After every migrate, so a fresh database always has the owner of the defaults.
        post_migrate.connect(ensure_service_account_after_migrate, sender=self)
