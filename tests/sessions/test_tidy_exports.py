"""Issue 14, tidy PSA text: one ticket number, labels without hints, commands indented under
their step with continuation lines kept, the flow's commands of ticked steps included."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.default_content import default_flows_load
from flows.models import Tree, TreeType
from sessions import exports, runtime, services, tidy
from sessions.models import FlowSession
from tests.conftest import api_as
from tests.factories import TreeFactory

ONBOARDING_ANSWERS = {
    "first_name": "Jane",
    "last_name": "Doe",
    "upn": "jane.doe@contoso.com",
    "department": "Finance",
    "manager_upn": "john.smith@contoso.com",
    "usage_location": "GB",
    "license": "Microsoft 365 Business Premium",
    "account_type": "Cloud-only (created in Entra ID)",
    "start_date": "2027-01-04",
    "groups": "Finance Team\nfinance@contoso.com",
}


@pytest.fixture
def onboarding(db) -> Tree:
    default_flows_load()
    return Tree.objects.get(default_key="m365-user-onboarding")


@pytest.fixture
def onboarded(onboarding, engineer) -> FlowSession:
    """The first three steps ticked, a custom step with a continued command, completed."""
    s = services.session_start(
        tree=onboarding,
        user=engineer,
        ticket_number="48213",
        client_name="Contoso Ltd",
        variables=ONBOARDING_ANSWERS,
    )
    steps = [row for row in runtime.checklist(s) if row.is_tickable]
    for row in steps[:3]:
        s = services.session_step_update(session=s, user=engineer, step_id=row.id, done=True)
    s, custom = services.session_custom_step_add(
        session=s,
        user=engineer,
        inserted_after=steps[2].id,
        title="Add to the printer group",
        commands="Add-ADGroupMember -Identity 'Finance-Printers' `\n    -Members jdoe",
    )
    return services.session_complete(session=s, user=engineer, outcome="resolved")


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ([{"name": "ticket", "label": "Ticket number", "type": "text"}], "ticket"),
        (
            [{"name": "change_ticket", "label": "Change ticket number", "type": "text"}],
            "change_ticket",
        ),
        ([{"name": "ref", "label": "Ticket # for this month's test", "type": "text"}], "ref"),
        ([{"name": "psa", "label": "PSA reference", "type": "text", "role": "ticket"}], "psa"),
        ([{"name": "ticket_kind", "label": "Ticket kind", "type": "select"}], None),
        ([{"name": "server", "label": "Server", "type": "text"}], None),
        (None, None),
    ],
)
def test_the_ticket_field_is_found_by_name_label_or_role(form, expected):
    assert tidy.ticket_field(form) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Start date (YYYY-MM-DD)", "Start date"),
        (
            "User principal name / e-mail (e.g. jane.doe@contoso.com)",
            "User principal name / e-mail",
        ),
        ("Usage location (two-letter country code, e.g. GB, NL, US)", "Usage location"),
        (
            "Groups, Teams and shared mailboxes to add (one per line)",
            "Groups, Teams and shared mailboxes to add",
        ),
        ("Automatic reply text (optional)", "Automatic reply text"),
        ("Maximum allowed restore point age (hours)", "Maximum allowed restore point age (hours)"),
        ("Local subnets (this site)", "Local subnets (this site)"),
        ("Job title", "Job title"),
    ],
)
def test_labels_lose_their_hints_but_keep_their_meaning(label, expected):
    assert tidy.label_without_hint(label) == expected


def test_the_start_page_asks_the_ticket_number_once(client, onboarding, engineer):
    client.force_login(engineer)
    url = reverse("sessions:start", args=[onboarding.pk])
    html = client.get(url).content.decode()
    assert html.count("Ticket number") == 1
    assert 'name="var_ticket"' not in html

    data = {"ticket_number": "48213", **{f"var_{k}": v for k, v in ONBOARDING_ANSWERS.items()}}
    response = client.post(url, data)
    session = FlowSession.objects.get(tree=onboarding)
    assert response.status_code == 302
    assert session.ticket_number == "48213" and session.variables["ticket"] == "48213"
    first = next(row for row in runtime.checklist(session) if row.is_tickable)
    assert "ticket 48213 was raised" in first.description


def test_the_start_page_requires_the_ticket_when_the_flow_does(client, onboarding, engineer):
    client.force_login(engineer)
    url = reverse("sessions:start", args=[onboarding.pk])
    data = {f"var_{k}": v for k, v in ONBOARDING_ANSWERS.items()}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not FlowSession.objects.filter(tree=onboarding).exists()


def test_the_api_takes_the_ticket_from_either_field(onboarding, engineer):
    client = api_as(engineer)
    answers = {**ONBOARDING_ANSWERS, "ticket": "50001"}
    response = client.post(
        "/api/sessions/", {"tree": str(onboarding.pk), "variables": answers}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["ticket_number"] == "50001"
    response = client.post(
        "/api/sessions/",
        {"tree": str(onboarding.pk), "ticket_number": "50002", "variables": ONBOARDING_ANSWERS},
        format="json",
    )
    assert response.status_code == 201
    assert FlowSession.objects.get(ticket_number="50002").variables["ticket"] == "50002"


def test_onboarding_psa_prints_the_ticket_once_and_labels_without_hints(onboarded):
    text = exports.export_session(onboarded, fmt="psa")
    assert text.count("48213") == 1
    assert "Ticket: 48213" in text.splitlines()[1]
    assert "Ticket number" not in text
    assert "Start date: 2027-01-04" in text
    assert "User principal name / e-mail: jane.doe@contoso.com" in text
    assert "(e.g." not in text and "(YYYY-MM-DD)" not in text and "(one per line)" not in text
    assert "Groups, Teams and shared mailboxes to add: Finance Team; finance@contoso.com" in text


def test_onboarding_psa_includes_the_commands_of_ticked_steps_indented(onboarded):
    lines = exports.export_session(onboarded, fmt="psa").splitlines()
    created = lines.index(next(line for line in lines if "create the user in Entra ID" in line))
    block = lines[created + 1 : lines.index(next(ln for ln in lines if "[CUSTOM]" in ln))]
    assert block[0].startswith("   > $password = ")
    assert all(line.startswith("     ") for line in block[1:])
    assert any("-UserPrincipalName 'jane.doe@contoso.com'" in line for line in block)
    custom = lines.index(next(ln for ln in lines if "[CUSTOM] Add to the printer group" in ln))
    assert lines[custom + 1] == "   > Add-ADGroupMember -Identity 'Finance-Printers' `"
    assert lines[custom + 2] == "         -Members jdoe"  # continuation kept, with its own indent
    hybrid = next(ln for ln in lines if "Hybrid: create the user" in ln)
    assert hybrid.endswith("Not done")
    assert "New-ADUser" not in "\n".join(lines)  # that step was not ticked: not run


@pytest.mark.parametrize("fmt", list(exports.FORMATS))
def test_every_format_follows_the_same_rules(onboarded, fmt):
    text = exports.export_session(onboarded, fmt=fmt)
    assert "Get-MgSubscribedSku" in text
    assert "Start date" in text and "(YYYY-MM-DD)" not in text
    assert "Ticket number" not in text
    assert "New-ADUser" not in text
    without = exports.export_session(onboarded, fmt=fmt, include_commands=False)
    assert "Get-MgSubscribedSku" not in without
    assert "Add-ADGroupMember" in without  # the engineer's own custom command always prints


def test_troubleshooting_prints_commands_only_when_asked(ts_session, engineer):
    s = services.session_answer(session=ts_session, user=engineer, node_id="root", choice="Yes")
    s = services.session_answer(session=s, user=engineer, node_id="restart", choice="Done")
    assert "diag vpn tunnel reset" not in exports.export_session(s, fmt="psa")
    text = exports.export_session(s, fmt="psa", include_commands=True)
    assert "   > diag vpn tunnel reset" in text


def test_the_page_and_api_take_the_include_commands_option(client, onboarded, engineer):
    client.force_login(engineer)
    url = reverse("sessions:export", args=[onboarded.pk])
    assert "Get-MgSubscribedSku" in client.get(url, {"format": "text"}).content.decode()
    assert (
        "Get-MgSubscribedSku"
        not in client.get(url, {"format": "text", "include_commands": "0"}).content.decode()
    )
    api = api_as(engineer)
    body = api.get(f"/api/sessions/{onboarded.pk}/export/", {"include_commands": "false"})
    assert "Get-MgSubscribedSku" not in body.content.decode()


def test_a_flow_without_a_ticket_field_keeps_its_details(account, owner, engineer):
    flow = TreeFactory(
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        intake_form=[{"name": "server", "label": "Server (FQDN)", "type": "text"}],
    )
    s = services.session_start(
        tree=flow, user=engineer, ticket_number="T-9", variables={"server": "fs01"}
    )
    text = exports.export_session(s, fmt="psa")
    assert "Server (FQDN): fs01" in text and text.count("T-9") == 1


@settings(max_examples=150, deadline=None)
@given(label=st.text(max_size=80), code=st.text(max_size=200))
def test_tidy_rules_never_raise_and_keep_every_command_line(label, code):
    assert tidy.label_without_hint(label) is not None
    lines = tidy.command_lines(code, first="   > ", rest="     ")
    assert lines[0].startswith("   > ")
    assert len(lines) == max(1, len(code.strip("\n").splitlines()))
