import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.demo import DEMO_PEOPLE, demo_seed


class Command(BaseCommand):
    help = "Create the demo accounts and logins (idempotent). Refused when DEBUG is off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", help="Password for every demo login (random if omitted).")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never in production)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or options["force"]):
            raise CommandError("seed_demo creates known logins; it only runs with DEBUG=1.")
        password = options["password"] or secrets.token_urlsafe(12)
        demo_seed(password=password)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {password})"))
        for email, role, account in DEMO_PEOPLE:
            self.stdout.write(f"  {email:<24} {role:<9} {account}")
        self.stdout.write(
            "Team and passwords: log in as owner@demo.local and open Team (/team/) to invite "
            "someone; try /accounts/password/reset/. E-mails (invitation and reset links) are "
            "printed in this terminal unless EMAIL_HOST is set."
        )
