"""Two tabs (here: threads with their own database connections) ticking different steps of one
session at the same moment must both be kept."""

import threading

import pytest
from django.db import close_old_connections, connection

from sessions import services
from sessions.models import FlowSession
from tests.factories import TreeFactory


def many_steps(n: int) -> dict:
    steps = [{"id": f"s{i}", "type": "procedure_step", "title": f"Step {i}"} for i in range(n)]
    return {"steps": [*steps, {"id": "end", "type": "procedure_end", "title": "Done"}]}


@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_on_one_session_lose_nothing(account, engineer):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pass  # in-memory SQLite is shared-cache: still one writer at a time, which is the point
    tree = TreeFactory(
        account=account, author=engineer, tree_type="procedural", tree_structure=many_steps(12)
    )
    session = services.session_start(tree=tree, user=engineer)
    barrier = threading.Barrier(12)
    errors: list[BaseException] = []

    def tick(step_id: str) -> None:
        try:
            barrier.wait(timeout=10)
            services.session_step_update(session=session, user=engineer, step_id=step_id, done=True)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=tick, args=(f"s{i}",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    state = FlowSession.objects.get(pk=session.pk).step_state
    assert sorted(state) == sorted(f"s{i}" for i in range(12))
    assert all(entry["done"] for entry in state.values())
