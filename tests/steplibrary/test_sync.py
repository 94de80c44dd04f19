import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flows import services as flow_services
from flows.default_content import default_flows_load
from flows.models import Tree, TreeStatus, TreeType
from steplibrary import sync
from steplibrary.models import LibraryStep, StepType, Visibility
from tests.factories import LibraryStepFactory, TreeFactory
from tests.steplibrary.conftest import big_checklist, checklist, header, step, synced


def entries(tree: Tree) -> dict[str, LibraryStep]:
    return {e.source_node_id: e for e in LibraryStep.objects.filter(source_tree=tree)}


# --- what is synced and how it is mapped ----------------------------------------------------


def test_publishing_a_procedure_syncs_each_step_with_its_section_as_group(procedure, owner):
    found = entries(procedure)
    assert set(found) == {"licence", "new-user"}  # not the section headers, not the end
    licence = found["licence"]
    assert licence.title == "Check a licence is free"
    assert licence.step_type == StepType.ACTION
    assert licence.content == {
        "instructions": "Look for a spare E3 licence.",
        "help_text": "At least one E3 licence is unassigned.",
        "commands": [
            {"label": "Licences", "command": "Get-MgSubscribedSku", "command_type": "powershell"}
        ],
        "group_label": "Preparation",
    }
    assert licence.is_flow_synced and licence.is_active and licence.last_synced_at
    assert licence.created_by == owner and licence.account == procedure.account
    assert licence.visibility == Visibility.TEAM


def test_instructions_fall_back_to_the_title_and_string_commands_are_normalised(procedure):
    new_user = synced(procedure, "new-user")
    assert new_user.content["instructions"] == "Create the user"  # no description
    assert new_user.content["group_label"] == "Create the account"
    assert new_user.content["commands"] == [
        {"label": "", "command": "New-MgUser -DisplayName '[VAR:name]'", "command_type": "shell"}
    ]


def test_troubleshooting_actions_and_solutions_are_synced_but_not_decisions(account, owner):
    tree = TreeFactory(account=account, author=owner, tree_type=TreeType.TROUBLESHOOTING)
    found = entries(tree)
    assert set(found) == {"restart", "fixed"}
    assert found["restart"].step_type == StepType.ACTION
    assert found["restart"].content["instructions"] == "Bounce the tunnel from the firewall UI."
    assert found["restart"].content["commands"][0]["command"] == "diag vpn tunnel reset"
    assert found["fixed"].step_type == StepType.SOLUTION


@pytest.mark.parametrize(
    "is_public, override, expected",
    [
        (False, None, Visibility.TEAM),
        (True, None, Visibility.PUBLIC),
        (False, "public", Visibility.TEAM),  # a step is public only if its flow is
        (True, "team", Visibility.TEAM),
    ],
)
def test_visibility_is_the_step_override_else_the_flows(
    account, staff, is_public, override, expected
):
    extra = {"library_visibility": override} if override else {}
    tree = TreeFactory(
        account=None if is_public else account,
        author=staff,
        is_public=is_public,
        tree_type=TreeType.PROCEDURAL,
        tree_structure=checklist(step("a", "A", **extra), step("b", "B")),
    )
    assert synced(tree, "a").visibility == expected
    assert synced(tree, "b").visibility == (Visibility.PUBLIC if is_public else Visibility.TEAM)


def test_an_engineer_cannot_publish_a_step_to_everyone_through_the_flow_api(
    engineer, staff, procedure
):
    from tests.conftest import api_as

    structure = procedure.tree_structure
    structure["steps"][1]["library_visibility"] = "public"
    client = api_as(engineer)
    body = {"tree_structure": structure, "revision": procedure.revision}
    response = client.patch(f"/api/flows/{procedure.pk}/", body, format="json")
    assert response.status_code == 403
    assert "Only staff share steps with every team" in response.json()["detail"]
    procedure.refresh_from_db()
    assert "library_visibility" not in procedure.editing_structure["steps"][1]
    # Staff may set it, but a team flow's step still reaches only the team.
    body["revision"] = procedure.revision
    response = api_as(staff).patch(f"/api/flows/{procedure.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert api_as(staff).post(f"/api/flows/{procedure.pk}/publish/").status_code == 200
    assert synced(procedure, "licence").visibility == Visibility.TEAM
    assert synced(procedure, "new-user").visibility == Visibility.TEAM


# --- when it runs ---------------------------------------------------------------------------


def test_a_draft_is_not_synced_and_publishing_syncs_it(draft_procedure, owner):
    assert not entries(draft_procedure)
    flow_services.tree_publish(tree=draft_procedure, user=owner)
    assert set(entries(draft_procedure)) == {"promote"}


def test_other_saves_of_a_published_flow_do_not_sync(procedure, owner):
    before = synced(procedure, "licence").last_synced_at
    with CaptureQueriesContext(connection) as queries:
        flow_services.tree_update(tree=procedure, user=owner, name="Renamed", description="New")
    assert not any("steplibrary" in q["sql"] for q in queries.captured_queries)
    assert synced(procedure, "licence").last_synced_at == before


def test_changing_a_published_structure_resyncs_when_published(procedure, owner):
    structure = procedure.tree_structure
    structure["steps"][1]["title"] = "Check that a licence is free"  # edited in place
    flow_services.tree_update(tree=procedure, user=owner, tree_structure=structure)
    assert synced(procedure, "licence").title != "Check that a licence is free"  # working copy
    flow_services.tree_publish(tree=procedure, user=owner)
    assert synced(procedure, "licence").title == "Check that a licence is free"


def test_making_a_published_flow_public_resyncs_the_visibility(procedure, staff):
    flow_services.tree_update(tree=procedure, user=staff, is_public=True)
    assert synced(procedure, "licence").visibility == Visibility.PUBLIC


def test_a_raw_fixture_save_is_not_synced(account, owner):
    tree = Tree(
        name="Loaded",
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        status=TreeStatus.PUBLISHED,
        tree_structure=checklist(step("x", "X")),
        updated_at=timezone.now(),  # raw saves skip auto_now, as loaddata would
    )
    tree.save_base(raw=True)
    assert not entries(tree)


def test_the_sync_is_in_the_publish_transaction(draft_procedure, owner, monkeypatch):
    def broken(*, tree):
        raise RuntimeError("library down")

    monkeypatch.setattr(sync, "steps_sync_from_tree", broken)
    with pytest.raises(RuntimeError):
        flow_services.tree_publish(tree=draft_procedure, user=owner)
    draft_procedure.refresh_from_db()
    assert draft_procedure.status == TreeStatus.DRAFT
    assert draft_procedure.published_at is None


# --- re-publishing --------------------------------------------------------------------------


def test_republishing_updates_content_and_keeps_counts(procedure, owner):
    entry = synced(procedure, "licence")
    LibraryStep.objects.filter(pk=entry.pk).update(
        usage_count=7, helpful_yes=3, helpful_no=1, is_active=False
    )
    flow_services.tree_unpublish(tree=procedure, user=owner)
    procedure.refresh_from_db()
    structure = procedure.tree_structure
    structure["steps"][1]["description"] = "Look for a spare E5 licence."
    flow_services.tree_update(tree=procedure, user=owner, tree_structure=structure)
    flow_services.tree_publish(tree=procedure, user=owner)
    entry.refresh_from_db()
    assert entry.content["instructions"] == "Look for a spare E5 licence."
    assert "e5" in entry.search_text
    assert (entry.usage_count, entry.helpful_yes, entry.helpful_no) == (7, 3, 1)
    assert entry.is_active
    assert LibraryStep.objects.filter(source_tree=procedure).count() == 2


def test_a_node_that_left_the_flow_is_deactivated_and_comes_back_with_its_counts(procedure, owner):
    entry = synced(procedure, "new-user")
    LibraryStep.objects.filter(pk=entry.pk).update(usage_count=4)
    original = procedure.tree_structure
    without = {"steps": [s for s in original["steps"] if s["id"] != "new-user"]}
    flow_services.tree_update(tree=procedure, user=owner, tree_structure=without)
    flow_services.tree_publish(tree=procedure, user=owner)
    entry.refresh_from_db()
    assert not entry.is_active
    assert synced(procedure, "licence").is_active

    flow_services.tree_update(tree=procedure, user=owner, tree_structure=original)
    flow_services.tree_publish(tree=procedure, user=owner)
    entry.refresh_from_db()
    assert entry.is_active and entry.usage_count == 4


# --- retiring, unpublishing, deleting -------------------------------------------------------


def test_retiring_deactivates_and_reactivating_restores(procedure, owner, team_step):
    flow_services.tree_set_active(tree=procedure, user=owner, active=False)
    assert not any(e.is_active for e in entries(procedure).values())
    team_step.refresh_from_db()
    assert team_step.is_active  # hand-made entries are untouched

    flow_services.tree_set_active(tree=procedure, user=owner, active=True)
    assert all(e.is_active for e in entries(procedure).values())


def test_unpublishing_deactivates(procedure, owner):
    flow_services.tree_unpublish(tree=procedure, user=owner)
    assert not any(e.is_active for e in entries(procedure).values())


def test_deleting_a_flow_deactivates_its_entries_before_the_link_is_cleared(
    procedure, owner, team_step
):
    ids = [e.pk for e in entries(procedure).values()]
    copy = LibraryStepFactory(title="My copy", created_by=owner, visibility="private")
    procedure.delete()
    left = LibraryStep.objects.filter(pk__in=ids)
    assert left.count() == 2
    for entry in left:
        assert entry.source_tree_id is None
        assert entry.is_flow_synced
        assert not entry.is_active  # inactive, not orphaned-active
    for untouched in (team_step, copy):
        untouched.refresh_from_db()
        assert untouched.is_active


def test_bulk_deleting_flows_deactivates_too(procedure, draft_procedure):
    Tree.objects.filter(pk__in=[procedure.pk, draft_procedure.pk]).delete()
    assert not LibraryStep.objects.filter(is_flow_synced=True, is_active=True).exists()


# --- owners ---------------------------------------------------------------------------------


def test_entries_of_a_flow_without_author_belong_to_the_service_account(official_procedure):
    entry = synced(official_procedure, "drain")
    assert entry.created_by.email == settings.SERVICE_ACCOUNT_EMAIL
    assert entry.created_by.is_service_account
    assert entry.account is None and entry.visibility == Visibility.PUBLIC


def test_default_flows_appear_in_the_library_owned_by_the_service_account(db, tmp_path):
    document = {
        "key": "rds-patching",
        "name": "Monthly RDS host patching",
        "description": "Patch the session hosts.",
        "tree_type": "maintenance",
        "category": "Citrix & RDS",
        "tags": ["rds", "patching"],
        "tree_structure": checklist(
            header("drain-section", "Drain"),
            step("drain", "Drain the host", commands="Set-RDSessionHost -NewConnectionAllowed No"),
        ),
        "intake_form": [],
    }
    (tmp_path / "rds-patching.json").write_text(json.dumps(document))
    default_flows_load(tmp_path)
    entry = LibraryStep.objects.get(source_node_id="drain")
    assert entry.created_by.is_service_account
    assert entry.visibility == Visibility.PUBLIC and entry.is_active
    assert entry.content["group_label"] == "Drain"
    assert entry.shown_category.name == "Citrix & RDS"

    # Loading again changes nothing and syncs nothing.
    synced_at = entry.last_synced_at
    default_flows_load(tmp_path)
    entry.refresh_from_db()
    assert entry.last_synced_at == synced_at


# --- size and speed -------------------------------------------------------------------------


def test_publishing_a_1000_step_flow_takes_a_constant_handful_of_queries(
    account, owner, django_assert_max_num_queries
):
    tree = TreeFactory(
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        status=TreeStatus.DRAFT,
        tree_structure=big_checklist(1000),
    )
    # The vectors ride in the upsert; + 2 for the new version (its number, its row).
    with django_assert_max_num_queries(12) as captured:
        flow_services.tree_publish(tree=tree, user=owner)
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    steps = [sql for sql in inserts if "steplibrary_librarystep" in sql]
    assert len(steps) == 1  # one upsert statement for all 1,000 rows
    assert len(inserts) == 3  # the new version and the audit trail's entry
    assert LibraryStep.objects.filter(source_tree=tree, is_active=True).count() == 1000

    # Re-publishing (every row conflicts and updates) costs the same.
    flow_services.tree_unpublish(tree=tree, user=owner)
    tree.refresh_from_db()
    with django_assert_max_num_queries(12):
        flow_services.tree_publish(tree=tree, user=owner)
    assert LibraryStep.objects.filter(source_tree=tree, is_active=True).count() == 1000


def test_repeated_node_ids_do_not_break_the_upsert(account, owner):
    tree = TreeFactory(
        account=account,
        author=owner,
        tree_type=TreeType.PROCEDURAL,
        status=TreeStatus.DRAFT,
        tree_structure=checklist(step("same", "First"), step("same", "Second")),
    )
    assert sync.steps_sync_from_tree(tree=tree) == 1
    assert synced(tree, "same").title == "First"


# --- the management command -----------------------------------------------------------------


def test_sync_library_command_resyncs_every_flow_and_is_idempotent(
    procedure, draft_procedure, official_procedure, capsys
):
    LibraryStep.objects.all().delete()
    LibraryStepFactory(source_tree=draft_procedure, source_node_id="old", is_flow_synced=True)
    call_command("sync_library")
    first = {(e.source_tree_id, e.source_node_id, e.is_active) for e in LibraryStep.objects.all()}
    call_command("sync_library")
    second = {(e.source_tree_id, e.source_node_id, e.is_active) for e in LibraryStep.objects.all()}
    assert first == second
    assert (procedure.pk, "licence", True) in first
    assert (official_procedure.pk, "drain", True) in first
    assert (draft_procedure.pk, "old", False) in first  # a draft's entries are not active
    assert "published flow(s) synced" in capsys.readouterr().out
