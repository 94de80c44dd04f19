import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from flows.models import TreeStatus
from sessions import runtime, services
from sessions.models import FlowSession, SessionStatus, StepFeedback


def test_start_snapshots_the_flow_and_counts_the_use(ts_flow, engineer):
    session = services.session_start(tree=ts_flow, user=engineer, client_name="Contoso")
    session.refresh_from_db()
    ts_flow.refresh_from_db()
    assert ts_flow.usage_count == 1
    assert session.status == SessionStatus.IN_PROGRESS and session.started_at
    assert session.account == engineer.account and session.client_name == "Contoso"
    ts_flow.tree_structure = {"id": "changed"}
    ts_flow.save()
    session.refresh_from_db()
    assert session.structure_snapshot["id"] == "root"  # later edits never rewrite history
    assert session.structure_snapshot["children"][0]["commands"][0]["code"]  # normalised


def test_start_enforces_required_intake_fields_and_options(proc_flow, engineer):
    with pytest.raises(ValidationError) as missing:
        services.session_start(tree=proc_flow, user=engineer, variables={})
    assert "server" in missing.value.message_dict
    with pytest.raises(ValidationError) as bad_option:
        services.session_start(
            tree=proc_flow, user=engineer, variables={"server": "x", "window": "Never"}
        )
    assert "window" in bad_option.value.message_dict
    assert not FlowSession.objects.exists()


@pytest.mark.parametrize("change", [{"status": TreeStatus.DRAFT}, {"is_active": False}])
def test_unpublished_or_retired_flows_cannot_start(ts_flow, engineer, change):
    for name, value in change.items():
        setattr(ts_flow, name, value)
    ts_flow.save()
    with pytest.raises(services.SessionError):
        services.session_start(tree=ts_flow, user=engineer)


def test_viewers_may_run_flows(ts_flow, viewer):
    session = services.session_start(tree=ts_flow, user=viewer)
    assert FlowSession.objects.get(pk=session.pk).user == viewer


def test_answer_walks_the_tree_and_back_undoes(ts_session, engineer):
    assert runtime.current_node(ts_session)["id"] == "root"
    s = services.session_answer(
        session=ts_session, user=engineer, node_id="root", choice="Yes", note="both red"
    )
    assert runtime.current_node(s)["id"] == "restart"
    assert s.path[0]["note"] == "both red" and s.path[0]["choice"] == "Yes"
    s = services.session_answer(session=s, user=engineer, node_id="restart", choice="done")
    assert runtime.current_node(s)["id"] == "root"  # the action loops back
    s = services.session_answer(session=s, user=engineer, node_id="root", choice="No")
    assert runtime.current_node(s)["type"] == "solution"
    s = services.session_back(session=s, user=engineer)
    s.refresh_from_db()
    assert runtime.current_node(s)["id"] == "root" and len(s.path) == 2
    assert s.path[0]["note"] == "both red"


@pytest.mark.parametrize(
    "node_id, choice, message",
    [
        ("root", "Maybe", "not an option"),
        ("restart", "done", "no longer the current one"),
        ("ghost", "Yes", "no longer the current one"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(ts_session, engineer, node_id, choice, message):
    with pytest.raises(services.SessionError, match=message):
        services.session_answer(session=ts_session, user=engineer, node_id=node_id, choice=choice)
    ts_session.refresh_from_db()
    assert ts_session.path == []


def test_back_on_the_first_question_is_refused(ts_session, engineer):
    with pytest.raises(services.SessionError, match="Nothing to undo"):
        services.session_back(session=ts_session, user=engineer)


def test_tick_untick_note_and_progress(proc_session, engineer):
    assert runtime.progress(proc_session).total == 2
    s = services.session_step_update(
        session=proc_session, user=engineer, step_id="snapshot", done=True
    )
    s = services.session_step_update(session=s, user=engineer, step_id="snapshot", done=True)
    s = services.session_step_update(session=s, user=engineer, step_id="patch", note="KB5031")
    s.refresh_from_db()
    assert s.step_state["snapshot"]["done"] and s.step_state["snapshot"]["at"]
    assert s.step_state["patch"] == {"note": "KB5031"}
    assert (runtime.progress(s).done, runtime.progress(s).total) == (1, 2)
    s = services.session_step_update(session=s, user=engineer, step_id="snapshot", done=False)
    s.refresh_from_db()
    assert runtime.progress(s).done == 0


def test_unknown_step_is_refused(proc_session, engineer):
    with pytest.raises(services.SessionError, match="no step"):
        services.session_step_update(session=proc_session, user=engineer, step_id="nope", done=True)


def test_variables_are_filled_in_what_the_engineer_reads(proc_session):
    row = next(r for r in runtime.checklist(proc_session) if r.id == "snapshot")
    assert row.description == "Snapshot RDS-01 before patching."


def test_custom_steps_insert_in_place_chain_and_remove(proc_session, engineer):
    s, first = services.session_custom_step_add(
        session=proc_session,
        user=engineer,
        inserted_after="snapshot",
        title="Check disk",
        commands="df -h",
    )
    s, second = services.session_custom_step_add(
        session=s, user=engineer, inserted_after=first["id"], title="Free space"
    )
    s.refresh_from_db()
    order = [r.id for r in runtime.checklist(s)]
    assert order == ["prep", "snapshot", first["id"], second["id"], "patch"]
    assert runtime.progress(s).total == 4
    s = services.session_step_update(session=s, user=engineer, step_id=first["id"], done=True)
    s = services.session_custom_step_remove(session=s, user=engineer, custom_id=first["id"])
    s.refresh_from_db()
    assert [r.id for r in runtime.checklist(s)] == ["prep", "snapshot", second["id"], "patch"]
    assert first["id"] not in s.step_state


def test_custom_step_after_a_missing_step_or_without_title_is_refused(proc_session, engineer):
    with pytest.raises(services.SessionError, match="no step"):
        services.session_custom_step_add(
            session=proc_session, user=engineer, inserted_after="ghost", title="x"
        )
    with pytest.raises(ValidationError):
        services.session_custom_step_add(
            session=proc_session, user=engineer, inserted_after="patch", title="  "
        )
    proc_session.refresh_from_db()
    assert proc_session.custom_steps == []


def test_feedback_toggles_flips_and_refuses_custom_steps(proc_session, engineer):
    vote = services.session_feedback_set
    assert vote(session=proc_session, user=engineer, node_id="patch", helpful=True) is True
    assert vote(session=proc_session, user=engineer, node_id="patch", helpful=False) is False
    assert StepFeedback.objects.get().helpful is False
    assert vote(session=proc_session, user=engineer, node_id="patch", helpful=False) is None
    assert not StepFeedback.objects.exists()
    s, custom = services.session_custom_step_add(
        session=proc_session, user=engineer, inserted_after="patch", title="x"
    )
    with pytest.raises(services.SessionError):
        vote(session=s, user=engineer, node_id=custom["id"], helpful=True)


def test_complete_freezes_the_session_and_rating_follows(ts_session, engineer):
    s = services.session_complete(
        session=ts_session, user=engineer, outcome="resolved", outcome_notes="ok"
    )
    s.refresh_from_db()
    assert s.is_completed and s.completed_at and s.duration is not None
    assert (s.outcome, s.outcome_notes) == ("resolved", "ok")
    with pytest.raises(services.SessionClosed):
        services.session_answer(session=s, user=engineer, node_id="root", choice="Yes")
    with pytest.raises(services.SessionClosed):
        services.session_complete(session=s, user=engineer, outcome="resolved")
    with pytest.raises(ValidationError):
        services.session_rate(session=s, user=engineer, rating=6)
    s = services.session_rate(session=s, user=engineer, rating=4, comment="good")
    s.refresh_from_db()
    assert (s.rating, s.rating_comment) == (4, "good")


def test_complete_needs_a_known_outcome(ts_session, engineer):
    with pytest.raises(ValidationError):
        services.session_complete(session=ts_session, user=engineer, outcome="")
    ts_session.refresh_from_db()
    assert not ts_session.is_completed


def test_rating_an_open_session_is_refused(ts_session, engineer):
    with pytest.raises(services.SessionError):
        services.session_rate(session=ts_session, user=engineer, rating=3)


def test_only_the_runner_changes_a_session(ts_session, owner):
    with pytest.raises(PermissionDenied):
        services.session_answer(session=ts_session, user=owner, node_id="root", choice="Yes")


def test_a_stale_copy_cannot_overwrite_a_newer_tick(proc_session, engineer):
    stale = FlowSession.objects.get(pk=proc_session.pk)
    services.session_step_update(session=proc_session, user=engineer, step_id="snapshot", done=True)
    services.session_step_update(session=stale, user=engineer, step_id="patch", done=True)
    proc_session.refresh_from_db()
    assert proc_session.step_state["snapshot"]["done"] and proc_session.step_state["patch"]["done"]
