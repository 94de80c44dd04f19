"""Issue 10, "public is for staff": only staff share a library step with every team."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from flows.models import Tree, TreeType
from flows.selectors import EXPORT_FORMAT, EXPORT_VERSION
from steplibrary import services
from steplibrary.models import LibraryStep, Visibility
from tests.conftest import api_as
from tests.factories import LibraryStepFactory, TreeFactory
from tests.steplibrary.conftest import checklist, step, synced

MIGRATION = importlib.import_module("steplibrary.migrations.0003_public_steps_only_of_public_flows")


def _create(user, visibility):
    return services.library_step_create(
        user=user, title="Reset MFA", instructions="Reset it.", visibility=visibility
    )


def test_an_engineer_can_no_longer_publish_a_step_to_everyone(engineer, owner, outsider):
    for user in (engineer, owner):
        with pytest.raises(ValidationError) as refused:
            _create(user, Visibility.PUBLIC)
        assert "Only staff share steps with every team" in str(refused.value)
    assert not LibraryStep.objects.filter(title="Reset MFA").exists()
    assert not LibraryStep.objects.for_user(outsider).filter(title="Reset MFA").exists()


def test_staff_may_share_a_step_with_everyone(staff, outsider):
    entry = _create(staff, Visibility.PUBLIC)
    assert LibraryStep.objects.for_user(outsider).filter(pk=entry.pk).exists()


def test_an_engineer_cannot_make_a_team_entry_public_but_keeps_one_staff_shared(
    engineer, team_step, staff
):
    with pytest.raises(ValidationError):
        services.library_step_update(step=team_step, user=engineer, visibility="public")
    team_step.refresh_from_db()
    assert team_step.visibility == Visibility.TEAM
    # Staff shared it; the team's engineer may still fix a typo without unsharing it.
    services.library_step_update(step=team_step, user=staff, visibility="public")
    services.library_step_update(step=team_step, user=engineer, title="Flush DNS")
    team_step.refresh_from_db()
    assert (team_step.title, team_step.visibility) == ("Flush DNS", Visibility.PUBLIC)


def test_the_api_refuses_public_to_engineers(engineer, staff):
    body = {"title": "Reset MFA", "content": {"instructions": "Reset it."}, "visibility": "public"}
    response = api_as(engineer).post("/api/steps/", body, format="json")
    assert response.status_code == 400
    assert "Only staff share steps" in str(response.json()["visibility"])
    assert not LibraryStep.objects.filter(title="Reset MFA").exists()
    assert api_as(staff).post("/api/steps/", body, format="json").status_code == 201


def test_the_step_form_offers_public_only_to_staff(client, engineer, staff):
    path = reverse("steplibrary:create")
    client.force_login(engineer)
    body = client.get(path).content.decode()
    assert 'value="team"' in body and 'value="public"' not in body
    assert "Only staff share with everyone." in body
    client.force_login(staff)
    assert 'value="public"' in client.get(path).content.decode()


def test_a_synced_step_is_public_only_if_its_flow_is(account, staff):
    structure = checklist(step("a", "A", library_visibility="public"), step("b", "B"))
    team_flow = TreeFactory(
        account=account, author=staff, tree_type=TreeType.PROCEDURAL, tree_structure=structure
    )
    official = TreeFactory(
        account=None,
        author=staff,
        is_public=True,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=structure,
    )
    assert synced(team_flow, "a").visibility == Visibility.TEAM
    assert synced(official, "a").visibility == Visibility.PUBLIC
    official.is_public = False
    official.save()
    assert synced(official, "a").visibility == Visibility.TEAM


def test_the_migration_narrows_what_non_staff_shared(procedure, engineer, staff, outsider):
    # Rows as they could exist before issue 10.
    leaked = synced(procedure, "licence")
    by_engineer = LibraryStepFactory(created_by=engineer, visibility="public")
    by_staff = LibraryStepFactory(created_by=staff, account=None, visibility="public")
    homeless = LibraryStepFactory(created_by=engineer, account=None, visibility="public")
    official = TreeFactory(
        account=None,
        author=staff,
        is_public=True,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=checklist(step("a", "A")),
    )
    ids = [leaked.pk, by_engineer.pk, homeless.pk]
    LibraryStep.objects.filter(pk__in=ids).update(visibility="public")
    MIGRATION.narrow_public_steps(apps, None)
    found = {e.pk: e.visibility for e in LibraryStep.objects.all()}
    assert found[leaked.pk] == found[by_engineer.pk] == Visibility.TEAM
    assert found[homeless.pk] == Visibility.PRIVATE
    assert found[by_staff.pk] == found[synced(official, "a").pk] == Visibility.PUBLIC
    assert not LibraryStep.objects.for_user(outsider).filter(pk__in=ids).exists()


PUBLIC_STEP_FLOW = {
    "name": "Onboard a user",
    "tree_type": "procedural",
    "tree_structure": {
        "steps": [
            {
                "id": "s1",
                "type": "procedure_step",
                "title": "Reset MFA",
                "library_visibility": "public",
            },
            {"id": "end", "type": "procedure_end", "title": "Done"},
        ]
    },
}


def test_a_new_flow_with_a_public_step_is_refused_to_engineers_as_an_edit_is(engineer, staff):
    """Creating and importing go through the same rule as editing (they used to store it)."""
    created = api_as(engineer).post("/api/flows/", PUBLIC_STEP_FLOW, format="json")
    assert created.status_code == 403
    assert "Only staff share steps with every team" in created.json()["detail"]
    document = {**PUBLIC_STEP_FLOW, "format": EXPORT_FORMAT, "version": EXPORT_VERSION}
    imported = api_as(engineer).post("/api/flows/import/", document, format="json")
    assert imported.status_code == 403
    assert not Tree.objects.filter(name="Onboard a user").exists()
    assert api_as(staff).post("/api/flows/", PUBLIC_STEP_FLOW, format="json").status_code == 201
