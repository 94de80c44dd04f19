"""Analytics figures against sessions built with known paths, ticks, durations and outcomes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sessions import services
from sessions.analytics import flow_analytics
from tests.analytics.conftest import backdate, run_checklist, run_ts

pytestmark = pytest.mark.django_db


def test_troubleshooting_outcomes_durations_and_reach(ts_flow, engineer, owner):
    a = run_ts(ts_flow, engineer, ["No"], outcome="resolved")
    b = run_ts(ts_flow, engineer, ["Yes", "Done"], outcome="escalated")  # restart → root
    c = run_ts(ts_flow, owner, ["Yes"])  # abandoned on "restart"
    d = run_ts(ts_flow, owner, [])  # still in progress at the root
    e = run_ts(ts_flow, engineer, ["No"], outcome="cancelled")
    backdate(a, started_ago=timedelta(days=2), took=timedelta(minutes=10))
    backdate(b, started_ago=timedelta(days=3), took=timedelta(minutes=40))
    backdate(c, started_ago=timedelta(days=20), touched=timedelta(days=8))
    backdate(d, started_ago=timedelta(days=1), touched=timedelta(days=1))
    backdate(e, started_ago=timedelta(days=4), took=timedelta(minutes=3))
    stats = flow_analytics(ts_flow, "30d")
    assert stats.runs == 5
    assert stats.outcomes == {
        "resolved": 1,
        "escalated": 1,
        "unresolved": 1,
        "abandoned": 1,
        "in_progress": 1,
    }
    assert (stats.median_s, stats.p90_s) == (600, 2400)
    assert [b["count"] for b in stats.histogram] == [1, 1, 0, 1, 0, 0, 0]
    by_id = {n.id: n for n in stats.nodes}
    assert (by_id["root"].reached, by_id["restart"].reached, by_id["fixed"].reached) == (5, 2, 2)
    assert (by_id["fixed"].ended, by_id["root"].ended, by_id["restart"].abandoned) == (2, 1, 1)
    assert flow_analytics(ts_flow, "7d").runs == 4
    assert flow_analytics(ts_flow, "7d").outcomes["abandoned"] == 0


def test_checklist_ticks_skips_custom_steps_thumbs_and_ratings(proc_flow, engineer):
    one = run_checklist(proc_flow, engineer, ["snapshot", "patch"], outcome="resolved")
    two = run_checklist(proc_flow, engineer, ["snapshot"], custom_after="snapshot")
    services.session_feedback_set(session=two, user=engineer, node_id="patch", helpful=False)
    two = services.session_complete(session=two, user=engineer, outcome="unresolved")
    services.session_rate(session=one, user=engineer, rating=5, comment="Smooth")
    services.session_rate(session=two, user=engineer, rating=2)
    stats = flow_analytics(proc_flow, "all")
    steps = {s.id: s for s in stats.steps}
    assert [s.id for s in stats.steps] == ["snapshot", "patch"]
    assert (steps["snapshot"].ticked, steps["snapshot"].skipped) == (2, 0)
    assert (steps["patch"].ticked, steps["patch"].skipped) == (1, 1)
    assert (steps["snapshot"].custom_after, steps["patch"].custom_after) == (1, 0)
    assert (steps["patch"].thumbs_up, steps["patch"].thumbs_down) == (0, 1)
    assert stats.ratings == {
        "average": 3.5,
        "count": 2,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }
    assert [s.rating_comment for s in stats.comments] == ["Smooth"]


def test_query_count_does_not_grow_with_runs(ts_flow, engineer, django_assert_num_queries):
    run_ts(ts_flow, engineer, ["No"], outcome="resolved")
    with django_assert_num_queries(5) as few:
        flow_analytics(ts_flow, "30d")
    for _ in range(5):
        run_ts(ts_flow, engineer, ["Yes", "Done", "No"], outcome="resolved")
    with django_assert_num_queries(len(few.captured_queries)):
        flow_analytics(ts_flow, "30d")
