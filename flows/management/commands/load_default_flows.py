from typing import Any

from django.core.management.base import BaseCommand

from flows.default_content import default_flows_load


class Command(BaseCommand):
    help = "Load or update the default flows (idempotent; matched on each flow's stable key)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = default_flows_load()
        self.stdout.write(self.style.SUCCESS(f"Default flows: {report}."))
