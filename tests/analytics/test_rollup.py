"""The rollup agrees with the log: what the services counted equals a recount from scratch."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from sessions import services
from sessions.models import FlowCount
from tests.analytics.conftest import run_checklist, run_ts

pytestmark = pytest.mark.django_db


def counters() -> dict:
    return {
        (str(c.tree_id), c.day, c.key, c.node_id): c.value
        for c in FlowCount.objects.all()
        if c.value
    }


def test_counters_written_by_the_services_equal_a_rebuild(ts_flow, proc_flow, engineer, owner):
    run_ts(ts_flow, engineer, ["Yes", "Done", "No"], outcome="resolved")  # a loop: root twice
    back = run_ts(ts_flow, owner, ["Yes"])
    services.session_back(session=back, user=owner)
    services.session_answer(session=back, user=owner, node_id="root", choice="No")
    one = run_checklist(proc_flow, engineer, ["snapshot", "patch"], custom_after="snapshot")
    services.session_step_update(session=one, user=engineer, step_id="patch", done=False)
    _, extra = services.session_custom_step_add(
        session=one, user=engineer, inserted_after="patch", title="Removed later"
    )
    services.session_custom_step_remove(session=one, user=engineer, custom_id=extra["id"])
    services.session_feedback_set(session=one, user=engineer, node_id="patch", helpful=False)
    services.session_feedback_set(session=one, user=engineer, node_id="patch", helpful=True)
    services.session_complete(session=one, user=engineer, outcome="escalated")
    services.session_rate(session=one, user=engineer, rating=2)
    services.session_rate(session=one, user=engineer, rating=4, comment="Better")
    live = counters()
    call_command("analytics_rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115
    rebuilt = counters()
    # Seconds between ticks come from the tick events either way; everything else is recounted
    # from what the sessions stored.
    assert live == rebuilt
    assert live[(str(proc_flow.pk), one.started_at.date(), "tick", "snapshot")] == 1
    assert (str(proc_flow.pk), one.started_at.date(), "tick", "patch") not in live
    assert live[(str(proc_flow.pk), one.started_at.date(), "star", "4")] == 1
    assert live[(str(proc_flow.pk), one.started_at.date(), "up", "patch")] == 1
    assert live[(str(ts_flow.pk), one.started_at.date(), "arrive", "restart")] == 2  # 2 runs
    assert live[(str(ts_flow.pk), one.started_at.date(), "arrive", "root")] == 1  # the loop
