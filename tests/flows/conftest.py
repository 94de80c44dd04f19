import pytest

from flows.models import TreeType
from tests.factories import TreeFactory


@pytest.fixture
def own_flow(account, owner):
    return TreeFactory(name="Acme VPN runbook", account=account, author=owner)


@pytest.fixture
def rival_flow(other_account, outsider):
    return TreeFactory(name="Rival secret runbook", account=other_account, author=outsider)


@pytest.fixture
def public_flow(db):
    return TreeFactory(
        name="Official Citrix checklist",
        account=None,
        author=None,
        is_public=True,
        is_default=True,
        tree_type=TreeType.PROCEDURAL,
    )
