"""A bounded schemathesis run against the live schema: every operation, as an engineer of an
account with flows, sessions, a batch, a target list and library entries.

Each operation is one test with its own data (rolled back after it). Requests go through
Django's WSGI application in this process, so they see the test's data. Generated ids would
never name a real object, so most cases get a real one instead (one in eight keeps the random id,
for the 404s). Checks: no 5xx, and every status code, content type and body as documented.

Run with `make schemathesis` (CI runs it on PostgreSQL); `make test` leaves it out.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import AuditEvent, Role
from accounts.services import api_token_create
from flows.models import TreeStatus, TreeType
from flows.selectors import tree_export
from sessions import services
from sessions.models import TargetList
from tests.factories import (
    AccountFactory,
    LibraryStepFactory,
    TreeFactory,
    UserFactory,
    procedural_structure,
)

pytestmark = pytest.mark.schemathesis

# Cases per operation in the fuzzing phase (the examples and coverage phases add their own).
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


# Cases sent and the statuses they got, per operation: printed at the end of the run.
TALLY: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_tally(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    if not TALLY or reporter is None:
        return
    with plugins.get_plugin("capturemanager").global_and_fixture_disabled():
        write_tally(reporter)


def write_tally(reporter: Any) -> None:
    labels = {label for label, _ in TALLY}
    statuses: Counter[int] = Counter()
    for (_, status), count in TALLY.items():
        statuses[status] += count
    reporter.write_line(
        f"schemathesis: {sum(TALLY.values())} cases over {len(labels - {'other methods'})} "
        f"operations; statuses {dict(sorted(statuses.items()))}"
    )
    for label in sorted(labels):
        row = {status: n for (name, status), n in sorted(TALLY.items()) if name == label}
        reporter.write_line(f"  {label}: {row}")


@dataclass
class World:
    """Real objects for the generated requests to name, and the engineer's token."""

    token: str
    ids: dict[str, list[str]] = field(default_factory=dict)
    node_ids: list[str] = field(default_factory=list)
    custom_ids: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    export: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def keep_connection() -> Iterator[None]:
    """Django closes the database connection at the end of each request; the test's transaction
    must outlive the requests (Django's own test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, keep_connection) -> World:
    account = AccountFactory(name="Acme MSP")
    owner = UserFactory(account=account, role=Role.OWNER)
    engineer = UserFactory(account=account, role=Role.ENGINEER)
    rival = UserFactory(account=AccountFactory(name="Rival MSP"), role=Role.OWNER)

    ts_flow = TreeFactory(name="VPN tunnel down", account=account, author=owner)
    proc_flow = TreeFactory(
        name="Patch a server",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=procedural_structure(),
    )
    mnt_flow = TreeFactory(
        name="Patch RDS hosts",
        account=account,
        author=owner,
        tree_type=TreeType.MAINTENANCE,
        tree_structure=procedural_structure(),
    )
    draft = TreeFactory(name="Half made", account=account, author=engineer, status=TreeStatus.DRAFT)
    shipped = TreeFactory(name="Printer offline", account=None, author=None, is_public=True)

    ts_session = services.session_start(tree=ts_flow, user=engineer, ticket_number="T-1")
    proc_session = services.session_start(tree=proc_flow, user=engineer, ticket_number="T-2")
    _, custom = services.session_custom_step_add(
        session=proc_session, user=engineer, inserted_after="snapshot", title="Reboot"
    )
    done = services.session_start(tree=ts_flow, user=engineer)
    services.session_complete(session=done, user=engineer, outcome="resolved")
    batch = services.batch_launch(tree=mnt_flow, user=engineer, targets=["RDS-01", "RDS-02"])
    target_list = TargetList.objects.create(
        account=account, created_by=engineer, name="RDS hosts", targets=[{"label": "RDS-01"}]
    )
    own_step = LibraryStepFactory(created_by=engineer)
    public_step = LibraryStepFactory(created_by=rival, visibility="public")

    published = [ts_flow, proc_flow, mnt_flow, shipped]
    return World(
        token=api_token_create(user=engineer).key,
        ids={
            "flows": [str(t.pk) for t in [*published, draft]],
            "published": [str(t.pk) for t in published],
            "sessions": [
                str(s.pk) for s in [ts_session, proc_session, done, *batch.sessions.all()]
            ],
            "batches": [str(batch.pk)],
            "steps": [str(own_step.pk), str(public_step.pk)],
            "target-lists": [str(target_list.pk)],
            "members": [str(owner.pk), str(engineer.pk)],
            "audit": [str(pk) for pk in AuditEvent.objects.values_list("pk", flat=True)],
        },
        node_ids=["root", "restart", "fixed", "prep", "snapshot", "patch", "end"],
        custom_ids=[custom["id"]],
        labels=["Yes", "No", "done"],
        export=tree_export(proc_flow),
    )


@dataclass
class Picker:
    """Mostly one of the real options, else the generated value (one in eight). The choice
    follows from everything generated for the case, so a failing case replays the same."""

    salt: str

    def __call__(self, key: str, value: Any, options: Sequence[Any]) -> Any:
        digest = zlib.crc32(f"{self.salt}|{key}".encode())
        return value if digest % 8 == 0 else options[(digest >> 3) % len(options)]


def name_real_objects(case: schemathesis.Case, world: World) -> None:
    real = Picker(repr((case.path_parameters, case.query, case.body, case.media_type)))
    resource = case.path.split("/")[2]
    parameters = case.path_parameters or {}
    if "id" in parameters:
        parameters["id"] = real("id", parameters["id"], world.ids[resource])
    for key in ("step_id", "node_id"):
        if key in parameters:
            parameters[key] = real(key, parameters[key], world.node_ids)
    if "custom_id" in parameters:
        parameters["custom_id"] = real("custom_id", parameters["custom_id"], world.custom_ids)
    if case.path == "/api/flows/import/":
        import_real_document(case, world, real)
    elif isinstance(case.body, dict):
        name_real_objects_in_body(case.body, world, real)


def name_real_objects_in_body(body: dict[str, Any], world: World, real: Picker) -> None:
    if "tree" in body:
        body["tree"] = real("tree", body["tree"], world.ids["published"])
    if "target_list" in body:
        lists = [int(pk) for pk in world.ids["target-lists"]]
        body["target_list"] = real("target_list", body["target_list"], lists)
    for key in ("node_id", "inserted_after"):
        if key in body:
            body[key] = real(key, body[key], world.node_ids)
    if "choice" in body:
        body["choice"] = real("choice", body["choice"], world.labels)


def import_real_document(case: schemathesis.Case, world: World, real: Picker) -> None:
    """An import of a real export document (as JSON, or as the multipart `file`), mostly."""
    if not real("import", False, [True, True, False]):
        return
    if case.media_type == "multipart/form-data":
        case.body = {"file": json.dumps(world.export).encode()}
    elif case.media_type == "application/json":
        case.body = dict(world.export)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # CI replays the same cases each run (a red build names a bug, not a lucky seed);
    # SCHEMATHESIS_EXPLORE=1 draws new ones.
    derandomize=not os.environ.get("SCHEMATHESIS_EXPLORE"),
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case: schemathesis.Case, world: World) -> None:
    name_real_objects(case, world)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {world.token}"}, checks=CHECKS
    )
    # The coverage phase also sends methods an operation does not have (405, or 200 to OPTIONS).
    label = case.operation.label
    if case.method.upper() != case.operation.method.upper():
        label = "other methods"
    TALLY[(label, response.status_code)] += 1
