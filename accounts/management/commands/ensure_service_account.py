from typing import Any

from django.core.management.base import BaseCommand

from accounts.services import service_account_ensure


class Command(BaseCommand):
    help = "Create or repair the service account that owns default content (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        user = service_account_ensure()
        self.stdout.write(self.style.SUCCESS(f"Service account ready: {user.email}"))
