"""Issue 13: per-target marks, retries, pause / resume / cancel, canary first, assignment,
hand-over and take-over, the batch report: services and API, on both databases."""

import contextlib
import csv
import io
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.urls import reverse

from accounts.models import Role
from flows.models import TreeType
from sessions import batch_report, selectors, services
from sessions.models import (
    Batch,
    EventKind,
    FlowSession,
    Notification,
    SessionEvent,
    SessionStatus,
    TargetList,
)
from sessions.services import batches, handover
from tests.conftest import api_as
from tests.factories import AccountFactory, TreeFactory, UserFactory


@pytest.fixture
def mnt_flow(account, owner):
    return TreeFactory(
        name="Patch RDS hosts",
        account=account,
        author=owner,
        tree_type=TreeType.MAINTENANCE,
        intake_form=[{"name": "change", "label": "Change", "type": "text", "required": True}],
    )


@pytest.fixture
def dave(account):
    return UserFactory(email="dave@acme.test", account=account, role=Role.ENGINEER)


def launch(flow, user, labels, **kw):
    return services.batch_launch(
        tree=flow, user=user, targets=labels, variables={"change": "CHG1"}, **kw
    )


def target(batch, label) -> FlowSession:
    return FlowSession.objects.get(batch=batch, target_label=label, current=True)


def start(batch, label, user):
    return services.batch_session_start(session=target(batch, label), user=user)


def finish(batch, label, user, outcome="resolved"):
    session = start(batch, label, user)
    return services.session_complete(session=session, user=user, outcome=outcome)


def states(batch) -> dict[str, str]:
    return {c.session.target_label: c.state for c in selectors.batch_status(batch).cards}


# --- marks -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["skipped", "blocked", "unreachable"])
def test_a_not_started_or_running_target_can_be_marked(mnt_flow, engineer, dave, state):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    start(batch, "B", dave)
    for label in ("A", "B"):
        batches.target_mark(
            session=target(batch, label), user=engineer, state=state, note="host is down"
        )
    assert states(batch) == {"A": state, "B": state}
    status = selectors.batch_status(batch)
    assert status.finished and status.summary == f"2 {state}"
    assert not status.outcome_counts  # none of them counts as resolved
    batch.refresh_from_db()
    assert batch.revision >= 3
    assert SessionEvent.objects.filter(kind=EventKind.MARKED).count() == 2


def test_a_marked_target_refuses_its_runner_and_a_second_mark(mnt_flow, engineer):
    batch = launch(mnt_flow, engineer, ["A"])
    session = start(batch, "A", engineer)
    batches.target_mark(session=session, user=engineer, state="blocked", note="CAB")
    with pytest.raises(services.SessionClosed):
        services.session_step_update(session=session, user=engineer, step_id="patch", done=True)
    with pytest.raises(batches.TargetRefused, match="already blocked"):
        batches.target_mark(session=session, user=engineer, state="skipped", note="x")


def test_marks_are_refused_for_completed_targets_bad_input_and_viewers(mnt_flow, engineer, viewer):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    done = finish(batch, "A", engineer)
    with pytest.raises(batches.TargetRefused, match="completed"):
        batches.target_mark(session=done, user=engineer, state="skipped", note="x")
    with pytest.raises(ValidationError):
        batches.target_mark(session=target(batch, "B"), user=engineer, state="x", note="y")
    with pytest.raises(ValidationError):
        batches.target_mark(session=target(batch, "B"), user=engineer, state="skipped", note="  ")
    with pytest.raises(PermissionDenied):
        batches.target_mark(session=target(batch, "B"), user=viewer, state="skipped", note="x")
    assert states(batch)["B"] == "not_started"


# --- retries -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["unresolved", "escalated", "blocked", "unreachable"])
def test_retry_makes_a_new_attempt_and_keeps_the_earlier_one(mnt_flow, engineer, dave, how):
    batch = launch(mnt_flow, engineer, ["A"])
    if how in ("blocked", "unreachable"):
        first = start(batch, "A", engineer)
        batches.target_mark(session=first, user=engineer, state=how, note="no ping")
    else:
        first = finish(batch, "A", engineer, outcome=how)
    second = batches.target_retry(session=first, user=dave)
    assert (second.attempt, second.status, second.target_label) == (2, "pending", "A")
    first.refresh_from_db()
    assert not first.current and first.attempt == 1
    assert states(batch) == {"A": "not_started"}
    assert FlowSession.objects.filter(batch=batch).count() == 2  # the first stays readable
    third = batches.target_retry(session=finish(batch, "A", dave, outcome="unresolved"), user=dave)
    assert third.attempt == 3
    with pytest.raises(batches.TargetRefused, match="later attempt"):
        batches.target_retry(session=first, user=dave)


@pytest.mark.parametrize("how", ["resolved", "workaround", "skipped", "not_started", "running"])
def test_retry_is_refused_for_other_states(mnt_flow, engineer, how):
    batch = launch(mnt_flow, engineer, ["A"])
    session = target(batch, "A")
    if how == "skipped":
        batches.target_mark(session=session, user=engineer, state="skipped", note="n/a")
    elif how == "running":
        start(batch, "A", engineer)
    elif how != "not_started":
        finish(batch, "A", engineer, outcome=how)
    with pytest.raises(batches.TargetRefused):
        batches.target_retry(session=session, user=engineer)
    assert FlowSession.objects.filter(batch=batch).count() == 1


def test_retry_all_failed_and_relaunch_failed(mnt_flow, engineer):
    batch = launch(mnt_flow, engineer, ["A", "B", "C", "D"], ticket_number="CHG-9")
    finish(batch, "A", engineer)
    finish(batch, "B", engineer, outcome="unresolved")
    batches.target_mark(session=target(batch, "C"), user=engineer, state="unreachable", note="off")
    new = batches.batch_relaunch_failed(batch=batch, user=engineer)
    assert sorted(states(new)) == ["B", "C"]
    assert new.ticket_number == "CHG-9" and new.variables == {"change": "CHG1"}
    assert new.relaunched_from_id == batch.pk
    retried = batches.batch_retry_failed(batch=batch, user=engineer)
    assert sorted(s.target_label for s in retried) == ["B", "C"]
    assert states(batch) == {
        "A": "complete",
        "B": "not_started",
        "C": "not_started",
        "D": "not_started",
    }
    with pytest.raises(batches.TargetRefused):
        batches.batch_retry_failed(batch=batch, user=engineer)


# --- pause, resume, cancel -----------------------------------------------------------------


def test_pause_blocks_start_resume_allows_it(mnt_flow, engineer, dave, owner):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    running = start(batch, "A", dave)
    batches.batch_pause(batch=batch, user=engineer, reason="CAB hold")
    with pytest.raises(batches.TargetRefused, match=f"paused by {engineer.display_name}"):
        start(batch, "B", dave)
    # running targets continue
    services.session_step_update(session=running, user=dave, step_id="patch", done=True)
    with pytest.raises(PermissionDenied):
        batches.batch_resume(batch=batch, user=dave)  # neither launcher nor admin
    with pytest.raises(batches.TargetRefused, match="already paused"):
        batches.batch_pause(batch=batch, user=owner)
    batches.batch_resume(batch=batch, user=owner)
    with pytest.raises(batches.TargetRefused, match="not paused"):
        batches.batch_resume(batch=batch, user=owner)
    assert start(batch, "B", dave).status == SessionStatus.IN_PROGRESS


def test_cancel_skips_the_not_started_targets(mnt_flow, engineer, dave):
    batch = launch(mnt_flow, engineer, ["A", "B", "C"])
    start(batch, "A", dave)
    assert batches.batch_cancel(batch=batch, user=engineer) == 2
    assert states(batch) == {"A": "in_progress", "B": "skipped", "C": "skipped"}
    assert target(batch, "B").mark_note == "cancelled"
    with pytest.raises(batches.TargetRefused):
        batches.batch_cancel(batch=batch, user=engineer)
    with pytest.raises(PermissionDenied):
        batches.batch_cancel(batch=batch, user=dave)


# --- canary ------------------------------------------------------------------------------


def test_canary_holds_the_others_until_it_is_resolved(mnt_flow, engineer, dave):
    batch = launch(mnt_flow, engineer, ["C1", "A", "B", "D"], canary=1)
    cards = {c.session.target_label: c for c in selectors.batch_status(batch).cards}
    assert cards["C1"].canary and not cards["C1"].waiting
    assert [label for label, card in cards.items() if card.waiting] == ["A", "B", "D"]
    with pytest.raises(batches.TargetRefused, match="waiting for the canary"):
        start(batch, "A", dave)
    finish(batch, "C1", engineer)
    assert selectors.batch_status(batch).waiting == 0
    assert start(batch, "A", dave).user_id == dave.pk


@pytest.mark.parametrize("how", ["unresolved", "escalated", "unreachable"])
def test_a_failed_canary_pauses_the_batch(mnt_flow, engineer, how):
    batch = launch(mnt_flow, engineer, ["C1", "A"], canary=1)
    if how == "unreachable":
        batches.target_mark(session=target(batch, "C1"), user=engineer, state=how, note="down")
    else:
        finish(batch, "C1", engineer, outcome=how)
    batch.refresh_from_db()
    assert batch.is_paused and batch.pause_reason.startswith("canary C1 failed")
    with pytest.raises(batches.TargetRefused, match="paused"):
        start(batch, "A", engineer)


def test_launch_refuses_a_canary_larger_than_the_batch(mnt_flow, engineer):
    with pytest.raises(ValidationError):
        launch(mnt_flow, engineer, ["A"], canary=2)
    assert not Batch.objects.exists()


# --- assignment ----------------------------------------------------------------------------


def test_round_robin_and_by_hand_assignment(mnt_flow, engineer, dave, owner, viewer):
    batch = launch(mnt_flow, engineer, ["A", "B", "C", "D"], assign="round_robin")
    who = {
        c.session.target_label: c.session.assigned_to.email
        for c in selectors.batch_status(batch).cards
    }
    # engineers and above, by email: alice (owner), bob, dave; never the viewer carol
    assert who == {
        "A": "alice@acme.test",
        "B": "bob@acme.test",
        "C": "dave@acme.test",
        "D": "alice@acme.test",
    }
    by_hand = launch(mnt_flow, engineer, ["A", "B"], assign={"a": "DAVE@acme.test"})
    assert target(by_hand, "A").assigned_to == dave and target(by_hand, "B").assigned_to is None
    for bad in ({"A": "carol@acme.test"}, {"Z": "dave@acme.test"}, "everyone"):
        with pytest.raises(ValidationError):
            launch(mnt_flow, engineer, ["A"], assign=bad)
    batches.target_assign(session=target(batch, "A"), user=engineer, to=dave)
    assert target(batch, "A").assigned_to == dave


def test_launch_form_starts_from_the_last_batch_of_the_flow(mnt_flow, engineer, outsider):
    launch(mnt_flow, engineer, ["A"])
    assert batches.last_batch_values(mnt_flow, engineer) == {"change": "CHG1"}
    assert batches.last_batch_values(mnt_flow, outsider) == {}


# --- hand-over and take-over ------------------------------------------------------------------


def test_handover_moves_the_session_and_says_so_everywhere(mnt_flow, engineer, dave):
    batch = launch(mnt_flow, engineer, ["RDS-01"], ticket_number="CHG-1")
    session = start(batch, "RDS-01", engineer)
    services.session_step_update(session=session, user=engineer, step_id="snapshot", done=True)
    handover.session_handover(session=session, user=engineer, to="dave@acme.test", note="shift end")
    with pytest.raises(PermissionDenied):
        services.session_step_update(session=session, user=engineer, step_id="patch", done=True)
    fresh = services.session_step_update(session=session, user=dave, step_id="patch", done=True)
    assert fresh.step_state["snapshot"]["done"] and fresh.step_state["patch"]["done"]
    rows = selectors.session_timeline(fresh)
    assert any(
        f"handed over from {engineer.display_name} to {dave.display_name}: shift end" in r.detail
        for r in rows
    )
    text = services_export(fresh)
    assert (
        f"Handed over from {engineer.display_name} to {dave.display_name} at " in text
        and ": shift end" in text
    )
    assert Notification.objects.filter(user=dave, read_at__isnull=True).count() == 1
    assert Notification.objects.filter(user=engineer).count() == 1


def services_export(session):
    from sessions.exports import export_session

    return export_session(FlowSession.objects.get(pk=session.pk), fmt="text")


def test_handover_refusals(mnt_flow, proc_flow, engineer, dave, viewer, outsider):
    solo = services.session_start(tree=proc_flow, user=engineer, variables={"server": "X"})
    for to in ("carol@acme.test", "mallory@rival.test", "nobody@acme.test", "bob@acme.test"):
        with pytest.raises(ValidationError):
            handover.session_handover(session=solo, user=engineer, to=to)
    with pytest.raises(PermissionDenied):
        handover.session_handover(session=solo, user=dave, to="dave@acme.test")
    with pytest.raises(PermissionDenied):
        handover.session_takeover(session=solo, user=viewer)
    with pytest.raises(services.SessionClosed):
        handover.session_takeover(session=solo, user=engineer)
    services.session_complete(session=solo, user=engineer, outcome="resolved")
    with pytest.raises(services.SessionClosed):
        handover.session_takeover(session=solo, user=dave)


def test_takeover_of_a_session_outside_a_batch(proc_flow, engineer, owner):
    solo = services.session_start(tree=proc_flow, user=engineer, variables={"server": "X"})
    handover.session_takeover(session=solo, user=owner, note="bob is ill")
    solo.refresh_from_db()
    assert solo.user == owner
    assert f"Taken over from {engineer.display_name} to {owner.display_name}" in services_export(
        solo
    )


@pytest.mark.django_db(transaction=True)
def test_taking_over_while_the_runner_ticks_loses_nothing():
    """The old runner ticks steps in a loop while a teammate takes over: every tick that was
    accepted is in the session, every later one was refused, and the new runner continues."""
    account = AccountFactory()
    old = UserFactory(account=account, role=Role.ENGINEER)
    new = UserFactory(account=account, role=Role.ENGINEER)
    structure = {
        "steps": [
            {"id": f"s{i}", "type": "procedure_step", "title": f"Step {i}"} for i in range(30)
        ]
        + [{"id": "end", "type": "procedure_end", "title": "Done"}]
    }
    flow = TreeFactory(
        account=account, author=old, tree_type=TreeType.PROCEDURAL, tree_structure=structure
    )
    session = services.session_start(tree=flow, user=old)
    accepted: list[str] = []
    refused: list[str] = []
    barrier = threading.Barrier(2)
    ticking = threading.Event()

    def tick() -> None:
        try:
            barrier.wait()
            for i in range(30):
                try:
                    services.session_step_update(
                        session=session, user=old, step_id=f"s{i}", done=True
                    )
                    accepted.append(f"s{i}")
                    if len(accepted) == 5:
                        ticking.set()  # the take-over now races the remaining ticks
                except PermissionDenied:
                    refused.append(f"s{i}")
        finally:
            connections.close_all()

    def take() -> None:
        try:
            barrier.wait()
            ticking.wait(timeout=10)
            handover.session_takeover(session=session, user=new, note="covering")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick), threading.Thread(target=take)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fresh = FlowSession.objects.get(pk=session.pk)
    done = {k for k, v in fresh.step_state.items() if v.get("done")}
    assert fresh.user_id == new.pk
    assert done == set(accepted)
    assert len(accepted) + len(refused) == 30
    ticks = SessionEvent.objects.filter(session=fresh, kind=EventKind.TICK).count()
    assert ticks == len(accepted)
    remaining = [f"s{i}" for i in range(30) if f"s{i}" in refused]
    for step in remaining:
        services.session_step_update(session=fresh, user=new, step_id=step, done=True)
    fresh.refresh_from_db()
    assert sum(1 for v in fresh.step_state.values() if v.get("done")) == 30


# --- the batch report ----------------------------------------------------------------------


def mixed_batch(flow, engineer, dave):
    batch = launch(flow, engineer, ["A", "B", "C", "D", "E", "F", "G"], ticket_number="CHG-77")
    finish(batch, "A", engineer)
    finish(batch, "B", dave, outcome="escalated")
    start(batch, "C", dave)
    for label, state in (("D", "skipped"), ("E", "blocked"), ("F", "unreachable")):
        batches.target_mark(
            session=target(batch, label), user=engineer, state=state, note=f"{state} note"
        )
    return batch


def test_batch_report_mixes_every_state(mnt_flow, engineer, dave):
    batch = mixed_batch(mnt_flow, engineer, dave)
    text = batch_report.batch_report(batch, fmt="text")
    assert "Ticket: CHG-77" in text and f"Launched by: {engineer.display_name}" in text
    assert (
        "1 not started · 1 in progress · 1 resolved · 1 escalated · 1 skipped · 1 blocked · "
        "1 unreachable" in text
    )
    assert "- E | Blocked — blocked note" in text
    assert f"- A | Resolved | {engineer.display_name} | 0 min" in text
    rows = list(csv.reader(io.StringIO(batch_report.batch_report(batch, fmt="csv"))))
    assert rows[0] == ["target", "state", "who", "duration", "attempt", "notes"]
    assert [r[1] for r in rows[1:]] == [
        "Resolved",
        "Escalated",
        "In progress",
        "Skipped",
        "Blocked",
        "Unreachable",
        "Not started",
    ]
    assert "| F | Unreachable |" in batch_report.batch_report(batch, fmt="markdown")
    assert "<td>Unreachable</td>" in batch_report.batch_report(batch, fmt="html")
    assert batch_report.batch_report(batch, fmt="psa").startswith("ResolutionFlow batch: ")


def test_batch_report_redacts_secrets_in_notes(mnt_flow, engineer):
    batch = launch(mnt_flow, engineer, ["A"])
    batches.target_mark(
        session=target(batch, "A"), user=engineer, state="blocked", note="password=hunter2x!"
    )
    assert "hunter2x" in batch_report.batch_report(batch, fmt="text")
    assert "hunter2x" not in batch_report.batch_report(batch, fmt="text", redact=True)


# --- API -----------------------------------------------------------------------------------


def api_url(name, pk, **kw):
    return reverse(f"api:{name}", args=[pk], **kw)


def test_api_mark_retry_and_their_refusals(mnt_flow, engineer, viewer, outsider):
    batch = launch(mnt_flow, engineer, ["A"])
    session = target(batch, "A")
    url = f"/api/sessions/{session.pk}/mark/"
    assert api_as(outsider).post(url, {"state": "blocked", "note": "x"}).status_code == 404
    assert api_as(viewer).post(url, {"state": "blocked", "note": "x"}).status_code == 403
    assert api_as(engineer).post(url, {"state": "nope", "note": "x"}).status_code == 400
    answer = api_as(engineer).post(url, {"state": "unreachable", "note": "no ping"}, format="json")
    assert answer.status_code == 200
    again = api_as(engineer).post(url, {"state": "blocked", "note": "x"}, format="json")
    assert again.status_code == 409 and "already unreachable" in again.json()["detail"]
    retry = api_as(engineer).post(f"/api/sessions/{session.pk}/retry/")
    assert retry.status_code == 201 and retry.json()["target_label"] == "A"
    assert api_as(engineer).post(f"/api/sessions/{session.pk}/retry/").status_code == 409
    body = api_as(engineer).get(f"/api/batches/{batch.pk}/").json()
    assert [(t["state"], t["attempt"]) for t in body["targets"]] == [("not_started", 2)]


def test_api_pause_start_resume_cancel(mnt_flow, engineer, dave, outsider):
    batch = launch(mnt_flow, engineer, ["A", "B", "C"])
    base = f"/api/batches/{batch.pk}"
    assert api_as(outsider).post(f"{base}/pause/").status_code == 404
    assert api_as(dave).post(f"{base}/pause/").status_code == 403
    paused = api_as(engineer).post(f"{base}/pause/", {"reason": "CAB"}, format="json")
    assert paused.status_code == 200 and paused.json()["paused"] is True
    assert api_as(engineer).post(f"{base}/pause/").status_code == 409
    refused = api_as(dave).post(f"/api/sessions/{target(batch, 'A').pk}/start/")
    assert (
        refused.status_code == 409
        and f"paused by {engineer.display_name}: CAB" in refused.json()["detail"]
    )
    assert api_as(engineer).post(f"{base}/resume/").json()["paused"] is False
    assert api_as(dave).post(f"/api/sessions/{target(batch, 'A').pk}/start/").status_code == 200
    assert api_as(engineer).post(f"{base}/cancel/").json() == {"cancelled": 2}
    assert api_as(engineer).post(f"{base}/cancel/").status_code == 409


def test_api_launch_with_canary_and_assignment(mnt_flow, engineer, dave):
    answer = api_as(engineer).post(
        "/api/batches/",
        {
            "tree": str(mnt_flow.pk),
            "targets": ["C1", "A"],
            "variables": {"change": "CHG1"},
            "canary": 1,
            "assign": {"A": "dave@acme.test"},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["canary"] == 1
    targets = {t["target_label"]: t for t in body["targets"]}
    assert targets["A"]["assigned_to"] == "dave@acme.test" and targets["A"]["waiting_for_canary"]
    bad = api_as(engineer).post(
        "/api/batches/",
        {"tree": str(mnt_flow.pk), "targets": ["A"], "variables": {"change": "x"}, "canary": 5},
        format="json",
    )
    assert bad.status_code == 400 and "canary" in bad.json()


def test_api_retry_failed_relaunch_failed_and_report(mnt_flow, engineer, dave, outsider):
    batch = mixed_batch(mnt_flow, engineer, dave)
    base = f"/api/batches/{batch.pk}"
    relaunched = api_as(engineer).post(f"{base}/relaunch-failed/")
    assert relaunched.status_code == 201
    assert sorted(t["target_label"] for t in relaunched.json()["targets"]) == ["B", "E", "F"]
    assert api_as(engineer).post(f"{base}/retry-failed/").status_code == 200
    assert api_as(engineer).post(f"{base}/retry-failed/").status_code == 409
    report = api_as(engineer).get(f"{base}/report/", {"format": "csv"})
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    assert "Skipped" in report.content.decode()
    assert api_as(outsider).get(f"{base}/report/").status_code == 404
    assert api_as(engineer).get(f"{base}/report/", {"format": "pdf"}).status_code == 400


def test_api_handover_and_takeover(mnt_flow, engineer, dave, viewer):
    batch = launch(mnt_flow, engineer, ["A"])
    session = start(batch, "A", engineer)
    url = f"/api/sessions/{session.pk}"
    bad = api_as(engineer).post(f"{url}/handover/", {"to": "carol@acme.test"}, format="json")
    assert bad.status_code == 400 and "to" in bad.json()
    assert api_as(viewer).post(f"{url}/takeover/").status_code == 403
    given = api_as(engineer).post(
        f"{url}/handover/", {"to": "dave@acme.test", "note": "bye"}, format="json"
    )
    assert given.status_code == 200 and given.json()["user"] == "dave@acme.test"
    taken = api_as(engineer).post(f"{url}/takeover/", {"note": "back"}, format="json")
    assert taken.status_code == 200 and taken.json()["user"] == "bob@acme.test"
    assert api_as(engineer).post(f"{url}/takeover/").status_code == 409


def test_batch_detail_api_query_count_is_bounded(
    mnt_flow, engineer, dave, django_assert_max_num_queries
):
    batch = launch(mnt_flow, engineer, [f"T{i}" for i in range(20)], assign="round_robin")
    start(batch, "T1", dave)
    client = api_as(engineer)
    with django_assert_max_num_queries(8):
        assert client.get(f"/api/batches/{batch.pk}/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/api/batches/").status_code == 200


# --- pages ---------------------------------------------------------------------------------

HTMX = {"HTTP_HX_REQUEST": "true"}


def status_url(batch) -> str:
    return reverse("batches:detail", args=[batch.tree_id, batch.pk])


def test_status_page_shows_every_state_with_its_own_badge(
    client, mnt_flow, engineer, dave, django_assert_max_num_queries
):
    batch = mixed_batch(mnt_flow, engineer, dave)
    client.force_login(engineer)
    with django_assert_max_num_queries(20):
        body = client.get(status_url(batch)).content.decode()
    for label in ("Skipped", "Blocked", "Unreachable", "Escalated", "In progress"):
        assert f"{label}</span>" in body
    assert "skipped note" in body and "Retry all failed" in body
    assert "Copy for Ticket" in body and "Launched by:" in body  # the report's preview
    assert body.count("target-retry") == 3  # escalated, blocked, unreachable


def test_card_mark_and_retry_through_htmx(client, mnt_flow, engineer, viewer, outsider):
    batch = launch(mnt_flow, engineer, ["A"])
    session = target(batch, "A")
    args = [batch.tree_id, batch.pk, session.pk]
    client.force_login(outsider)
    mark_url = reverse("batches:target-mark", args=args)
    assert client.post(mark_url, {"state": "blocked", "note": "x"}, **HTMX).status_code == 404
    client.force_login(viewer)
    refused = client.post(mark_url, {"state": "blocked", "note": "x"}, **HTMX)
    assert refused.status_code == 204 and "rf:toast" in refused["HX-Trigger"]
    client.force_login(engineer)
    done = client.post(mark_url, {"state": "unreachable", "note": "no ping"}, **HTMX)
    assert done.status_code == 200 and done["HX-Refresh"] == "true"
    retried = client.post(reverse("batches:target-retry", args=args), **HTMX)
    assert retried["HX-Refresh"] == "true"
    body = client.get(status_url(batch)).content.decode()
    assert "#2" in body and "Earlier:" in body


def test_paused_and_canary_banners_and_start_refusal(client, mnt_flow, engineer, dave):
    batch = launch(mnt_flow, engineer, ["C1", "A", "B"], canary=1)
    client.force_login(engineer)
    body = client.get(status_url(batch)).content.decode()
    assert body.count("Waiting for canary") == 2 and "2 targets waiting" in body
    client.post(reverse("batches:pause", args=[batch.tree_id, batch.pk]), {"reason": "CAB"})
    body = client.get(status_url(batch)).content.decode()
    assert f"Paused by {engineer.display_name}: CAB" in body
    client.force_login(dave)
    start_url = reverse(
        "batches:target-start", args=[batch.tree_id, batch.pk, target(batch, "C1").pk]
    )
    refused = client.post(start_url, **HTMX)
    assert refused.status_code == 204 and "paused" in refused["HX-Trigger"]
    assert client.post(reverse("batches:resume", args=[batch.tree_id, batch.pk])).status_code == 302
    batch.refresh_from_db()
    assert batch.is_paused  # dave may not resume


def test_my_targets_filter(client, mnt_flow, engineer, dave):
    batch = launch(mnt_flow, engineer, ["A", "B", "C"], assign={"B": "dave@acme.test"})
    client.force_login(dave)
    body = client.get(status_url(batch) + "?mine=1", **HTMX).content.decode()
    assert 'data-target="B"' in body and 'data-target="A"' not in body
    assert "1 of 3 targets shown" in body


def test_launch_form_is_prefilled_from_the_last_batch(client, mnt_flow, engineer):
    launch(mnt_flow, engineer, ["A"])
    client.force_login(engineer)
    body = client.get(reverse("batches:index", args=[mnt_flow.pk])).content.decode()
    assert 'value="CHG1"' in body and "Canary targets" in body


def test_target_list_defaults_fill_empty_intake_values(mnt_flow, engineer):
    saved = services.target_list_save(
        user=engineer, name="RDS", targets=["A"], default_variables={"change": "CHG-LIST"}
    )
    batch = services.batch_launch(tree=mnt_flow, user=engineer, target_list=saved, variables={})
    assert batch.variables == {"change": "CHG-LIST"}
    typed = services.batch_launch(
        tree=mnt_flow, user=engineer, target_list=saved, variables={"change": "CHG-2"}
    )
    assert typed.variables == {"change": "CHG-2"}


def test_handover_page_flow_and_dashboard_badge(client, mnt_flow, engineer, dave):
    batch = launch(mnt_flow, engineer, ["A"])
    session = start(batch, "A", engineer)
    client.force_login(engineer)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert "Hand over to" in page and "dave@acme.test" in page
    client.post(
        reverse("sessions:handover", args=[session.pk]),
        {"to": "dave@acme.test", "note": "over to you"},
    )
    client.force_login(dave)
    board = client.get(reverse("dashboard")).content.decode()
    assert 'id="notifications-badge">1<' in board
    listing = client.get(reverse("sessions:notifications")).content.decode()
    assert "over to you" in listing
    board = client.get(reverse("dashboard")).content.decode()
    assert "notifications-badge" not in board
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert "handed over from" in page


def test_takeover_page_sends_the_new_runner_to_the_run(client, mnt_flow, engineer, dave):
    batch = launch(mnt_flow, engineer, ["A"])
    session = start(batch, "A", engineer)
    client.force_login(dave)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert "Take over" in page
    answer = client.post(reverse("sessions:takeover", args=[session.pk]), {"note": "ill"})
    assert answer.status_code == 302 and answer["Location"].endswith("/run/")


def test_batch_report_download(client, mnt_flow, engineer, outsider):
    batch = launch(mnt_flow, engineer, ["A"], ticket_number="CHG-5")
    url = reverse("batches:report", args=[batch.tree_id, batch.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(engineer)
    answer = client.get(url, {"format": "markdown"})
    assert answer.status_code == 200 and "CHG-5" in answer.content.decode()
    assert client.get(url, {"format": "pdf"}).status_code == 400


def test_target_list_page_saves_default_intake_values(client, engineer):
    client.force_login(engineer)
    answer = client.post(
        reverse("targets:create"),
        {"name": "RDS", "targets": "A\nB", "default_variables": "change = CHG-7\n\n"},
    )
    assert answer.status_code == 302, answer.content.decode()
    saved = TargetList.objects.get(name="RDS")
    assert saved.default_variables == {"change": "CHG-7"}
    page = client.get(reverse("targets:edit", args=[saved.pk])).content.decode()
    assert "change = CHG-7" in page
    bad = client.post(
        reverse("targets:edit", args=[saved.pk]),
        {"name": "RDS", "targets": "A", "default_variables": "no equals sign"},
    )
    assert "is not “field name = value”" in bad.content.decode()


def test_history_and_session_page_show_the_mark(client, mnt_flow, engineer):
    batch = launch(mnt_flow, engineer, ["A"])
    session = start(batch, "A", engineer)
    batches.target_mark(session=session, user=engineer, state="blocked", note="CAB says no")
    client.force_login(engineer)
    history = client.get(reverse("sessions:index")).content.decode()
    assert "bi-sign-stop-fill" in history and "Blocked</span>" in history
    assert "Resume</a>" not in history
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert "Blocked</span> CAB says no" in page


@pytest.mark.django_db(transaction=True)
def test_marking_and_starting_one_target_at_once_never_deadlocks():
    account = AccountFactory()
    lead = UserFactory(account=account, role=Role.ENGINEER)
    other = UserFactory(account=account, role=Role.ENGINEER)
    flow = TreeFactory(
        account=account,
        author=lead,
        tree_type=TreeType.MAINTENANCE,
        intake_form=[{"name": "change", "label": "Change", "type": "text", "required": True}],
    )
    batch = launch(flow, lead, [f"T{i}" for i in range(6)])
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run(act) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            for i in range(6):
                with contextlib.suppress(batches.TargetRefused, services.SessionClosed):
                    act(FlowSession.objects.get(batch=batch, target_label=f"T{i}"))
        except Exception as error:  # noqa: BLE001 — a deadlock or anything else fails the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=run,
            args=(lambda s: services.batch_session_start(session=s, user=other),),
        ),
        threading.Thread(
            target=run,
            args=(
                lambda s: batches.target_mark(
                    session=s, user=lead, state="skipped", note="not needed"
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for session in FlowSession.objects.filter(batch=batch):
        assert session.mark == "skipped" or session.status == SessionStatus.IN_PROGRESS


def test_api_assign_later(mnt_flow, engineer, dave, viewer, outsider):
    batch = launch(mnt_flow, engineer, ["A"])
    url = f"/api/sessions/{target(batch, 'A').pk}/assign/"
    assert api_as(outsider).post(url, {"to": "dave@acme.test"}, format="json").status_code == 404
    assert api_as(viewer).post(url, {"to": "dave@acme.test"}, format="json").status_code == 403
    bad = api_as(engineer).post(url, {"to": "carol@acme.test"}, format="json")
    assert bad.status_code == 400 and "to" in bad.json()
    assert api_as(engineer).post(url, {"to": "dave@acme.test"}, format="json").status_code == 200
    body = api_as(engineer).get(f"/api/batches/{batch.pk}/").json()
    assert body["targets"][0]["assigned_to"] == "dave@acme.test"
    assert api_as(engineer).post(url, {"to": None}, format="json").status_code == 200
    assert target(batch, "A").assigned_to is None


def test_assign_to_me_from_the_card(client, mnt_flow, engineer, dave):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    client.force_login(dave)
    body = client.get(status_url(batch)).content.decode()
    assert body.count("Assign to me") == 2
    url = reverse("batches:target-assign", args=[batch.tree_id, batch.pk, target(batch, "A").pk])
    assert client.post(url, {"to": "me"}, **HTMX)["HX-Refresh"] == "true"
    assert target(batch, "A").assigned_to == dave
    body = client.get(status_url(batch) + "?mine=1").content.decode()
    assert 'data-target="A"' in body and 'data-target="B"' not in body
    assert dave.display_name in body
