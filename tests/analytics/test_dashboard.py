"""The team dashboard: the landing page for engineers and above; viewers keep the library."""

from __future__ import annotations

import pytest

from flows.models import TreeType
from sessions import services
from tests.analytics.conftest import run_ts
from tests.conftest import password_login
from tests.factories import TEST_PASSWORD, TreeFactory

pytestmark = pytest.mark.django_db


def test_engineers_land_on_the_dashboard_viewers_on_the_library(client, engineer, viewer):
    assert password_login(client, engineer.email, TEST_PASSWORD)
    assert client.get("/").url == "/dashboard/"
    client.logout()
    assert password_login(client, viewer.email, TEST_PASSWORD)
    assert client.get("/").url == "/flows/"
    assert client.get("/dashboard/").status_code == 403


def test_login_form_lands_by_role(client, engineer, viewer):
    response = client.post(
        "/accounts/login/", {"username": engineer.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(response.url, follow=True).redirect_chain[-1][0] == "/dashboard/"


def test_dashboard_shows_open_sessions_batches_flows_and_outcomes(
    client, account, ts_flow, engineer, owner, django_assert_max_num_queries
):
    open_run = run_ts(ts_flow, engineer, ["Yes"])
    run_ts(ts_flow, engineer, ["No"], outcome="resolved")
    run_ts(ts_flow, owner, ["No"], outcome="escalated")
    maintenance = TreeFactory(
        name="Monthly patching", account=account, tree_type=TreeType.MAINTENANCE
    )
    services.batch_launch(tree=maintenance, user=engineer, targets=["srv1", "srv2"])
    client.force_login(engineer)
    with django_assert_max_num_queries(12):
        page = client.get("/dashboard/").content.decode()
    mine = page[page.index('id="open-sessions"') :]
    assert f"/sessions/{open_run.pk}/run/" in mine.split("</ul>")[0]
    assert "Monthly patching" in page[page.index('id="unfinished-batches"') :]
    assert "0 of 2 done" in page
    top = page[page.index('id="top-flows"') :].split("</ol>")[0]
    assert "VPN tunnel down" in top and "3 runs" in top
    outcomes = page[page.index('id="month-outcomes"') :].split("</table>")[0]
    assert 'Resolved</th><td class="text-end">1<' in outcomes
    assert 'Escalated</th><td class="text-end">1<' in outcomes
    assert 'id="runs-per-engineer"' not in page  # engineers do not see the team's figures


def test_admins_see_runs_per_engineer(client, ts_flow, engineer, owner):
    run_ts(ts_flow, engineer, ["No"], outcome="resolved")
    run_ts(ts_flow, engineer, ["Yes"])
    client.force_login(owner)
    table = client.get("/dashboard/").content.decode()
    rows = table[table.index('id="runs-per-engineer"') :].split("</table>")[0]
    assert (
        f'{engineer.display_name}</th><td class="text-end">2</td><td class="text-end">1</td>'
        in rows
    )


def test_other_accounts_runs_are_not_counted(client, ts_flow, engineer, outsider):
    run_ts(ts_flow, engineer, ["No"], outcome="resolved")
    client.force_login(outsider)
    page = client.get("/dashboard/").content.decode()
    assert "VPN tunnel down" not in page
    assert "0 runs" in page
