"""The runs of the session tests: `proc_flow` here asks for an intake form (a required server
name and a choice), so `proc_session` answers it. `ts_flow` and `ts_session` come from
tests/conftest.py."""

import pytest

from sessions import services
from tests.conftest import procedure_flow


@pytest.fixture
def proc_flow(account, owner):
    return procedure_flow(
        account,
        owner,
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
def proc_session(proc_flow, engineer):
    return services.session_start(
        tree=proc_flow, user=engineer, ticket_number="T-2", variables={"server": "RDS-01"}
    )
