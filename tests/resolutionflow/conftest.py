import pytest

from flows.models import TreeStatus, TreeType
from sessions import services
from tests.factories import TreeFactory, procedural_structure


@pytest.fixture
def own_draft(account, owner):
    return TreeFactory(
        name="Acme half-written draft", account=account, author=owner, status=TreeStatus.DRAFT
    )


@pytest.fixture
def ts_session(account, owner, engineer):
    tree = TreeFactory(name="VPN tunnel down", account=account, author=owner)
    return services.session_start(tree=tree, user=engineer, ticket_number="T-1")


@pytest.fixture
def proc_session(account, owner, engineer):
    tree = TreeFactory(
        name="Patch a server",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=procedural_structure(),
    )
    return services.session_start(tree=tree, user=engineer, ticket_number="T-2")
