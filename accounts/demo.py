"""Demo tenants and logins for local use and the browser tests. Never used by production."""

from django.db import transaction

from accounts.models import Account, Role
from accounts.services import member_upsert

DEMO_ACCOUNT = "Demo MSP"
OTHER_ACCOUNT = "Other MSP"
DEMO_PEOPLE = [
    ("owner@demo.local", Role.OWNER, DEMO_ACCOUNT),
    ("engineer@demo.local", Role.ENGINEER, DEMO_ACCOUNT),
    ("viewer@demo.local", Role.VIEWER, DEMO_ACCOUNT),
    ("outsider@other.local", Role.ENGINEER, OTHER_ACCOUNT),
]


@transaction.atomic
def demo_seed(*, password: str) -> dict[str, Account]:
    accounts = {}
    for name, slug in ((DEMO_ACCOUNT, "demo-msp"), (OTHER_ACCOUNT, "other-msp")):
        accounts[name], _ = Account.objects.get_or_create(slug=slug, defaults={"name": name})
    for email, role, account_name in DEMO_PEOPLE:
        full_name = email.split("@")[0].capitalize()
        member_upsert(
            account=accounts[account_name],
            email=email,
            role=role,
            password=password,
            full_name=full_name,
        )
    return accounts
