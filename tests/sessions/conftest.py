import pytest

from flows.models import TreeType
from sessions import services
from tests.factories import TreeFactory, procedural_structure


@pytest.fixture
def ts_flow(account, owner):
    return TreeFactory(name="VPN tunnel down", account=account, author=owner)


@pytest.fixture
def proc_flow(account, owner):
    return TreeFactory(
        name="Patch a server",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=procedural_structure(),
        intake_form=[
            {"name": "server", "label": "Server", "type": "text", "required": True},
            {
                "name": "window",
                "label": "Window",
                "type": "select",
                "options": ["Tonight", "Sunday"],
            },
        ],
    )


@pytest.fixture
def ts_session(ts_flow, engineer):
    return services.session_start(tree=ts_flow, user=engineer, ticket_number="T-1")


@pytest.fixture
def proc_session(proc_flow, engineer):
    return services.session_start(
        tree=proc_flow, user=engineer, ticket_number="T-2", variables={"server": "RDS-01"}
    )
