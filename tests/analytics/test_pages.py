"""The analytics page, its CSV and the API: what a person sees, and who may see it."""

from __future__ import annotations

import csv
import io

import pytest

from accounts.models import Role
from flows.models import Tree
from tests.analytics.conftest import run_checklist, run_ts
from tests.conftest import api_as
from tests.factories import TreeFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(tree, suffix=""):
    return f"/flows/{tree.pk}/analytics/{suffix}"


def test_page_draws_both_paths_with_counts(
    client, ts_flow, engineer, django_assert_max_num_queries
):
    run_ts(ts_flow, engineer, ["No"], outcome="resolved")
    run_ts(ts_flow, engineer, ["Yes"])
    client.force_login(engineer)
    with django_assert_max_num_queries(20):
        page = client.get(url(ts_flow)).content.decode()
    assert '<div class="h3 mb-0" id="runs-count">2</div>' in page
    assert 'data-node="fixed" data-reached="1"' in page
    assert 'data-node="restart" data-reached="1"' in page
    assert 'data-node="root" data-reached="2"' in page
    assert "<title>Tunnel restored: reached by 1, 1 ended here</title>" in page
    assert 'id="nodes-table"' in page and 'id="weeks-table"' in page


def test_checklist_page_lists_steps(client, proc_flow, engineer):
    run_checklist(proc_flow, engineer, ["snapshot"], outcome="resolved", custom_after="patch")
    client.force_login(engineer)
    page = client.get(url(proc_flow) + "?period=7d").content.decode()
    steps = page[page.index('id="steps-table"') :]
    assert "Take a snapshot" in steps and "Install updates" in steps
    assert 'aria-current="page">7 days' in page


def test_csv_has_the_same_figures(client, ts_flow, engineer):
    run_ts(ts_flow, engineer, ["No"], outcome="resolved")
    client.force_login(engineer)
    response = client.get(url(ts_flow) + "?format=csv&period=all")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "id", "label", "metric", "value"]
    assert ["summary", "", "Runs", "runs", "1"] in rows
    assert ["outcome", "", "Resolved", "resolved", "1"] in rows
    assert ["node", "fixed", "Tunnel restored", "reached", "1"] in rows


def test_csv_cells_never_start_a_formula(client, account, owner):
    tree = TreeFactory(account=account, author=owner)
    structure = tree.tree_structure
    structure["question"] = "=HYPERLINK(1)"
    Tree.objects.filter(pk=tree.pk).update(tree_structure=structure)
    client.force_login(owner)
    text = client.get(url(tree) + "?format=csv").content.decode()
    assert "'=HYPERLINK(1)" in text


def test_api_answers_with_the_named_keys(ts_flow, engineer):
    run_ts(ts_flow, engineer, ["No"], outcome="escalated")
    body = api_as(engineer).get(f"/api/flows/{ts_flow.pk}/analytics/?period=7d").json()
    assert {"runs", "outcomes", "duration", "nodes", "steps", "ratings", "flags"} <= set(body)
    assert body["runs"] == 1
    assert body["outcomes"] == {
        "resolved": 0,
        "escalated": 1,
        "unresolved": 0,
        "abandoned": 0,
        "in_progress": 0,
    }
    assert set(body["duration"]) == {"median_s", "p90_s"}
    assert {"id": "fixed", "heading": "Tunnel restored", "reached": 1, "ended": 1}.items() <= {
        **body["nodes"][-1]
    }.items()
    assert body["ratings"]["count"] == 0


def test_api_refuses_an_unknown_period(ts_flow, engineer):
    response = api_as(engineer).get(f"/api/flows/{ts_flow.pk}/analytics/?period=1y")
    assert response.status_code == 400
    assert "period" in response.json()


def test_outsiders_get_404_everywhere(client, api, ts_flow, outsider):
    client.force_login(outsider)
    assert client.get(url(ts_flow)).status_code == 404
    assert client.get(url(ts_flow) + "?format=csv").status_code == 404
    assert api_as(outsider).get(f"/api/flows/{ts_flow.pk}/analytics/").status_code == 404


def test_public_flow_of_another_account_is_still_404(client, ts_flow, outsider):
    Tree.objects.filter(pk=ts_flow.pk).update(is_public=True)
    client.force_login(outsider)
    assert client.get(url(ts_flow)).status_code == 404


def test_viewers_are_refused(client, ts_flow, viewer):
    client.force_login(viewer)
    assert client.get(url(ts_flow)).status_code == 403
    assert client.get(url(ts_flow) + "?format=csv").status_code == 403
    assert api_as(viewer).get(f"/api/flows/{ts_flow.pk}/analytics/").status_code == 403


def test_default_flows_are_for_staff(client, staff, engineer):
    default = TreeFactory(account=None, author=None, is_public=True, is_default=True)
    client.force_login(engineer)
    assert client.get(url(default)).status_code == 404
    client.force_login(staff)
    assert client.get(url(default)).status_code == 200


def test_anonymous_is_sent_to_login(client, ts_flow, api):
    assert client.get(url(ts_flow)).status_code == 302
    assert api.get(f"/api/flows/{ts_flow.pk}/analytics/").status_code in (401, 403)


def test_admin_of_the_account_may_read(client, account, ts_flow):
    admin = UserFactory(account=account, role=Role.ADMIN)
    client.force_login(admin)
    assert client.get(url(ts_flow)).status_code == 200


def test_diagram_and_table_escape_node_text(client, account, owner):
    tree = TreeFactory(account=account, author=owner)
    structure = tree.tree_structure
    structure["children"][1]["title"] = "<script>alert(1)</script>"
    Tree.objects.filter(pk=tree.pk).update(tree_structure=structure)
    client.force_login(owner)
    page = client.get(url(tree)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
