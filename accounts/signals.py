from typing import Any


def ensure_service_account_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    from accounts.services import service_account_ensure

    service_account_ensure(using=using)
