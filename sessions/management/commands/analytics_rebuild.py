"""Recount the analytics rollup (FlowCount) from sessions and their event log."""

from django.core.management.base import BaseCommand
from django.db import transaction

from sessions.rollup import rollup_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the analytics counters from sessions and events (all flows, or --flow ID). "
        "The services keep them current; run this after editing sessions by hand."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--flow", action="append", help="A flow id (repeatable).")

    def handle(self, *args, flow=None, **options) -> None:
        with transaction.atomic():
            read = rollup_rebuild(flow)
        self.stdout.write(f"Recounted {read:,} runs.")
