"""Issue 13, assignment on the pages: "By hand, per target" and round-robin on the launch form,
"Assign…" on a card for the launcher and admins, names on the cards. Both databases."""

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from flows.models import TreeType
from sessions.models import Batch, FlowSession
from sessions.services import batches
from sessions.services.targets import target_list_save
from tests.conftest import api_as
from tests.factories import TreeFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


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
    return UserFactory(
        email="dave@acme.test", full_name="Dave Ops", account=account, role=Role.ENGINEER
    )


@pytest.fixture
def team(owner, engineer, dave, viewer, outsider, account):
    """Everyone the options must and must not list: a deactivated engineer too."""
    UserFactory(email="gone@acme.test", account=account, role=Role.ENGINEER, is_active=False)
    return {owner.email, engineer.email, dave.email}


def option_values(html: str, select_name: str) -> list[list[str]]:
    """The option values of every <select name=…> in the page, one list per select."""
    selects = re.findall(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', html, re.S)
    return [re.findall(r'<option value="([^"]*)"', body) for body in selects]


def launch(flow, user, labels, **kw):
    return batches.batch_launch(
        tree=flow, user=user, targets=labels, variables={"change": "CHG1"}, **kw
    )


def target(batch, label) -> FlowSession:
    return FlowSession.objects.get(batch=batch, target_label=label, current=True)


def status_url(batch) -> str:
    return reverse("batches:detail", args=[batch.tree_id, batch.pk])


def assign_url(batch, label) -> str:
    return reverse("batches:target-assign", args=[batch.tree_id, batch.pk, target(batch, label).pk])


# --- the launch form ------------------------------------------------------------------------


def test_by_hand_rows_offer_only_the_teams_engineers(client, mnt_flow, engineer, team):
    client.force_login(engineer)
    url = reverse("batches:assignees", args=[mnt_flow.pk])
    body = client.get(
        url, {"assign": "by_hand", "targets_text": "RDS-01\nRDS-02 | rack 3\n"}, **HTMX
    ).content.decode()
    rows = option_values(body, "assign_to")
    assert len(rows) == 2
    for options in rows:  # "Nobody" first, then the active engineers and above, by email
        assert options == ["", *sorted(team)]
    assert "carol@acme.test" not in body and "mallory@rival.test" not in body
    assert "gone@acme.test" not in body
    assert re.findall(r'name="assign_label" value="([^"]*)"', body) == ["RDS-01", "RDS-02"]
    assert (
        '<label class="text-break small flex-shrink-0 assign-row-label" for="assign-to-1">RDS-01'
        in body
    )


def test_by_hand_rows_follow_the_choice_the_saved_list_and_keep_picks(
    client, mnt_flow, engineer, dave, django_assert_max_num_queries
):
    client.force_login(engineer)
    url = reverse("batches:assignees", args=[mnt_flow.pk])
    nobody = client.get(url, {"assign": "round_robin", "targets_text": "A"}, **HTMX)
    assert nobody.status_code == 200 and "assign_to" not in nobody.content.decode()
    saved = target_list_save(user=engineer, name="RDS", targets=[{"label": "X"}, {"label": "Y"}])
    with django_assert_max_num_queries(6):
        body = client.get(
            url,
            {
                "assign": "by_hand",
                "target_list": str(saved.pk),
                "assign_label": ["Y"],
                "assign_to": [dave.email],
            },
            **HTMX,
        ).content.decode()
    assert re.findall(r'name="assign_label" value="([^"]*)"', body) == ["X", "Y"]
    assert f'<option value="{dave.email}" selected>' in body.split('value="Y"')[1]
    assert "selected" not in body.split('value="Y"')[0]
    empty = client.get(url, {"assign": "by_hand"}, **HTMX).content.decode()
    assert "Type targets (or pick a saved list)" in empty


def test_by_hand_rows_are_the_teams_own(client, mnt_flow, viewer, outsider):
    url = reverse("batches:assignees", args=[mnt_flow.pk])
    client.force_login(outsider)
    assert client.get(url, {"assign": "by_hand", "targets_text": "A"}).status_code == 404
    client.force_login(viewer)
    assert client.get(url, {"assign": "by_hand", "targets_text": "A"}).status_code == 403


def test_launch_by_hand_assigns_each_target_and_names_show_on_cards(
    client, mnt_flow, engineer, dave
):
    client.force_login(engineer)
    response = client.post(
        reverse("batches:launch", args=[mnt_flow.pk]),
        {
            "targets_text": "A\nB\nC",
            "var_change": "CHG7",
            "assign": "by_hand",
            "assign_label": ["A", "B", "C"],
            "assign_to": [dave.email, "", engineer.email],
        },
    )
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == status_url(batch)
    assert target(batch, "A").assigned_to == dave
    assert target(batch, "B").assigned_to is None
    assert target(batch, "C").assigned_to == engineer
    body = client.get(status_url(batch)).content.decode()
    card_a = body.split('data-target="A"')[1].split('data-target="')[0]
    assert "Dave Ops" in card_a and "Assign to me" not in card_a
    card_b = body.split('data-target="B"')[1].split('data-target="')[0]
    assert "Assign to me" in card_b
    mine = client.get(status_url(batch) + "?mine=1").content.decode()
    assert 'data-target="C"' in mine and 'data-target="A"' not in mine


def test_launch_by_hand_refuses_a_viewer_next_to_the_field(client, mnt_flow, engineer, viewer):
    client.force_login(engineer)
    response = client.post(
        reverse("batches:launch", args=[mnt_flow.pk]),
        {
            "targets_text": "A\nB",
            "var_change": "CHG7",
            "assign": "by_hand",
            "assign_label": ["A", "B"],
            "assign_to": [viewer.email, ""],
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    errors = body.split('id="id_assign-errors"')[1].split("</div></div>")[0]
    assert "carol@acme.test is not an engineer of your team." in errors
    assert not Batch.objects.exists() and not FlowSession.objects.exists()
    # The rows come back with what was typed, so nothing is retyped.
    assert re.findall(r'name="assign_label" value="([^"]*)"', body) == ["A", "B"]


def test_launch_round_robin_from_the_page(client, mnt_flow, owner, engineer, dave, viewer):
    client.force_login(engineer)
    client.post(
        reverse("batches:launch", args=[mnt_flow.pk]),
        {"targets_text": "A\nB\nC", "var_change": "CHG7", "assign": "round_robin"},
    )
    batch = Batch.objects.get()
    owners = [target(batch, label).assigned_to.email for label in "ABC"]
    assert owners == sorted([owner.email, engineer.email, dave.email])


# --- "Assign…" on the status page ------------------------------------------------------------


def test_the_launcher_gets_the_assign_dialog_with_the_teams_engineers(
    client, mnt_flow, engineer, team
):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    client.force_login(engineer)
    body = client.get(status_url(batch)).content.decode()
    assert 'id="assign-modal"' in body and 'class="can-assign"' in body
    assert option_values(body, "to") == [["", *sorted(team)]]
    assert body.count('class="btn btn-sm btn-outline-secondary target-assign-to"') == 2
    card_a = body.split('data-target="A"')[1].split('data-target="')[0]
    assert f'hx-post="{assign_url(batch, "A")}"' in card_a  # "Assign to me"; the dialog reuses it


def test_other_engineers_and_viewers_get_no_assign_dialog(client, mnt_flow, engineer, dave, viewer):
    batch = launch(mnt_flow, engineer, ["A"])
    for person in (dave, viewer):
        client.force_login(person)
        body = client.get(status_url(batch)).content.decode()
        assert 'id="assign-modal"' not in body and "can-assign" not in body
        assert option_values(body, "to") == []


def test_admin_assigns_from_the_dialog_and_the_card_shows_it(
    client, mnt_flow, engineer, owner, dave
):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    client.force_login(owner)  # an admin who did not launch it
    response = client.post(assign_url(batch, "A"), {"to": dave.email})
    assert response.status_code == 302 and response["Location"] == status_url(batch)
    assert target(batch, "A").assigned_to == dave
    body = client.get(status_url(batch)).content.decode()
    card_a = body.split('data-target="A"')[1].split('data-target="')[0]
    assert "Dave Ops" in card_a
    assert f'data-url="{assign_url(batch, "A")}" data-to="dave@acme.test"' in card_a
    assert "dave@acme.test assigned" not in body  # the message names the target
    assert "A assigned." in body
    client.post(assign_url(batch, "A"), {"to": ""})
    assert target(batch, "A").assigned_to is None


def test_only_the_launcher_or_an_admin_assigns_others(client, mnt_flow, engineer, dave, outsider):
    batch = launch(mnt_flow, engineer, ["A", "B"])
    client.force_login(dave)
    refused = client.post(assign_url(batch, "A"), {"to": engineer.email}, **HTMX)
    assert refused.status_code == 204 and "launched this batch" in refused["HX-Trigger"]
    assert target(batch, "A").assigned_to is None
    client.post(assign_url(batch, "A"), {"to": "me"}, **HTMX)
    assert target(batch, "A").assigned_to == dave
    api = api_as(dave)
    url = f"/api/sessions/{target(batch, 'B').pk}/assign/"
    assert api.post(url, {"to": engineer.email}, format="json").status_code == 403
    assert api.post(url, {"to": dave.email}, format="json").status_code == 200
    assert api.post(url, {"to": None}, format="json").status_code == 200  # lets go of their own
    client.force_login(outsider)
    assert client.post(assign_url(batch, "A"), {"to": outsider.email}).status_code == 404
    assert target(batch, "A").assigned_to == dave
