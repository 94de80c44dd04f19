from typing import Any

from django.core.management.base import BaseCommand, CommandError

from steplibrary.sync import steps_sync_all


class Command(BaseCommand):
    help = (
        "Re-sync the step library from every flow: published, active flows upsert their steps, "
        "the others' synced entries are deactivated. Idempotent; run after upgrades."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = steps_sync_all()
        for failure in report.failures:
            self.stderr.write(f"  {failure}")
        if report.failures:
            raise CommandError(f"Step library: {report}.")
        self.stdout.write(self.style.SUCCESS(f"Step library: {report}."))
