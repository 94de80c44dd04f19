"""Step-health flags: each threshold of settings.STEP_HEALTH, on both sides."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from flows import services as flow_services
from flows.models import Tree
from sessions.analytics import flows_needing_review, health_flags
from sessions.models import StepFeedback
from sessions.rollup import rollup_rebuild
from tests.analytics.conftest import bulk_runs
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def flags_of(tree) -> set[tuple[str, str]]:
    tree.refresh_from_db()
    return {(flag.id, flag.flag) for flag in health_flags([tree])[tree.pk]}


def recent(tree):
    Tree.objects.filter(pk=tree.pk).update(verified_at=timezone.now())


@pytest.mark.parametrize(
    ("skipped", "completed", "flagged"), [(4, 10, True), (3, 10, False), (9, 9, False)]
)
def test_often_skipped(proc_flow, engineer, skipped, completed, flagged):
    recent(proc_flow)
    bulk_runs(proc_flow, engineer, skipped, events=[("skipped", "patch", {})])
    bulk_runs(proc_flow, engineer, completed - skipped)
    assert (("patch", "often_skipped") in flags_of(proc_flow)) is flagged


@pytest.mark.parametrize(("downs", "ups", "flagged"), [(3, 2, True), (3, 3, False), (2, 0, False)])
def test_unhelpful(proc_flow, engineer, downs, ups, flagged):
    recent(proc_flow)
    sessions = bulk_runs(proc_flow, engineer, downs + ups)
    StepFeedback.objects.bulk_create(
        StepFeedback(session=s, user=engineer, node_id="snapshot", helpful=index >= downs)
        for index, s in enumerate(sessions)
    )
    rollup_rebuild([proc_flow.pk])  # votes written behind the services' back: recount
    assert (("snapshot", "unhelpful") in flags_of(proc_flow)) is flagged


@pytest.mark.parametrize(
    ("patched", "runs", "flagged"), [(3, 10, True), (2, 10, False), (3, 9, False)]
)
def test_patched(proc_flow, engineer, patched, runs, flagged):
    recent(proc_flow)
    bulk_runs(proc_flow, engineer, patched, events=[("custom_added", "snapshot", {})])
    bulk_runs(proc_flow, engineer, runs - patched)
    assert (("snapshot", "patched") in flags_of(proc_flow)) is flagged


@pytest.mark.parametrize(
    ("runs", "reached", "flagged"), [(20, 0, True), (19, 0, False), (20, 1, False)]
)
def test_dead_branch(ts_flow, engineer, runs, reached, flagged):
    recent(ts_flow)
    to_restart = [("answer", "root", {"choice": "Yes", "next": "restart"})]
    to_fixed = [("answer", "root", {"choice": "No", "next": "fixed"})]
    bulk_runs(ts_flow, engineer, reached, events=to_restart)
    bulk_runs(ts_flow, engineer, runs - reached, events=to_fixed)
    found = flags_of(ts_flow)
    assert (("restart", "dead_branch") in found) is flagged
    assert ("fixed", "dead_branch") not in found and ("root", "dead_branch") not in found


def test_runs_older_than_the_window_do_not_count(ts_flow, engineer):
    recent(ts_flow)
    sessions = bulk_runs(ts_flow, engineer, 20, events=[("answer", "root", {"next": "fixed"})])
    old = timezone.now() - timedelta(days=91)
    ts_flow.sessions.filter(pk__in=[s.pk for s in sessions]).update(started_at=old)
    rollup_rebuild([ts_flow.pk])
    assert ("restart", "dead_branch") not in flags_of(ts_flow)


@pytest.mark.parametrize(("days", "flagged"), [(181, True), (179, False)])
def test_stale_until_marked_verified(ts_flow, owner, days, flagged):
    Tree.objects.filter(pk=ts_flow.pk).update(verified_at=timezone.now() - timedelta(days=days))
    assert ((str(ts_flow.pk), "stale") in flags_of(ts_flow)) is flagged
    flow_services.tree_mark_verified(tree=ts_flow, user=owner)
    assert (str(ts_flow.pk), "stale") not in flags_of(ts_flow)
    ts_flow.refresh_from_db()
    assert ts_flow.verified_by == owner
    assert AuditEvent.objects.filter(action="flow_verified", target_id=str(ts_flow.pk)).exists()


def test_never_verified_flows_age_from_publication(ts_flow):
    Tree.objects.filter(pk=ts_flow.pk).update(
        verified_at=None, published_at=timezone.now() - timedelta(days=200)
    )
    assert (str(ts_flow.pk), "stale") in flags_of(ts_flow)


def test_mark_verified_page_and_permissions(client, ts_flow, owner, viewer, outsider):
    Tree.objects.filter(pk=ts_flow.pk).update(verified_at=timezone.now() - timedelta(days=300))
    client.force_login(viewer)
    assert client.post(f"/flows/{ts_flow.pk}/verify/").status_code == 403
    client.force_login(outsider)
    assert client.post(f"/flows/{ts_flow.pk}/verify/").status_code == 404
    client.force_login(owner)
    back = f"/flows/{ts_flow.pk}/analytics/"
    response = client.post(f"/flows/{ts_flow.pk}/verify/", {"next": back})
    assert response.url == back
    page = client.get(back).content.decode()
    assert "verified" in page and owner.display_name in page
    assert client.post(f"/flows/{ts_flow.pk}/verify/", {"next": "https://evil.test/"}).url == (
        f"/flows/{ts_flow.pk}/"
    )


def test_needs_review_lists_flagged_flows_worst_first(
    client, account, ts_flow, proc_flow, engineer, outsider, django_assert_max_num_queries
):
    old = timezone.now() - timedelta(days=200)
    Tree.objects.filter(pk=ts_flow.pk).update(verified_at=old)  # stale only
    Tree.objects.filter(pk=proc_flow.pk).update(verified_at=old)
    bulk_runs(
        proc_flow, engineer, 10, events=[("skipped", "patch", {}), ("custom_added", "patch", {})]
    )
    rows = flows_needing_review(engineer)
    assert [row.tree.pk for row in rows] == [proc_flow.pk, ts_flow.pk]
    assert rows[0].items == [
        ("Install updates", ["Often skipped", "Patched"]),
        ("The whole flow", ["Stale"]),
    ]
    client.force_login(engineer)
    with django_assert_max_num_queries(12):
        page = client.get("/flows/review/").content.decode()
    listed = page[page.index('id="review-list"') :]
    assert listed.index("Patch a server") < listed.index("VPN tunnel down")
    assert "3 flags" in listed
    client.force_login(outsider)
    assert "Patch a server" not in client.get("/flows/review/").content.decode()
    viewer = UserFactory(account=account, role="viewer")
    client.force_login(viewer)
    assert client.get("/flows/review/").status_code == 403


def test_editor_shows_flags_as_badges_beside_the_step(client, proc_flow, engineer, owner):
    Tree.objects.filter(pk=proc_flow.pk).update(verified_at=timezone.now() - timedelta(days=200))
    bulk_runs(proc_flow, engineer, 10, events=[("skipped", "patch", {})])
    client.force_login(owner)
    page = client.get(f"/flows/{proc_flow.pk}/edit/").content.decode()
    patch = page[page.index('id="node-patch"') :].split("</li>")[0]
    assert "Often skipped" in patch
    snapshot = page[page.index('id="node-snapshot"') :].split("</li>")[0]
    assert "Often skipped" not in snapshot
    assert "not verified for 180 days" in page
