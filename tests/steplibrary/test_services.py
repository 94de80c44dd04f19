import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from accounts.services import service_account_ensure
from flows.models import Tree
from steplibrary import services
from steplibrary.models import LibraryStep, Visibility
from tests.factories import CategoryFactory, TagFactory, TreeFactory, UserFactory
from tests.steplibrary.conftest import synced

# --- visibility -----------------------------------------------------------------------------


def test_for_user_private_is_the_creators_team_the_accounts_public_everyones(
    engineer, owner, viewer, outsider, staff, team_step, private_step, rival_step, public_step
):
    def visible(user):
        return set(LibraryStep.objects.for_user(user).filter(is_flow_synced=False))

    assert visible(owner) == {team_step, private_step, public_step}
    assert visible(engineer) == {team_step, public_step}  # not Alice's private entry
    assert visible(viewer) == {team_step, public_step}
    assert visible(outsider) == {rival_step, public_step}
    assert visible(staff) >= {team_step, private_step, rival_step, public_step}


def test_anonymous_and_the_service_account_see_nothing(team_step, public_step):
    from django.contrib.auth.models import AnonymousUser

    assert not LibraryStep.objects.for_user(AnonymousUser()).exists()
    assert not LibraryStep.objects.for_user(service_account_ensure()).exists()


def test_synced_entries_follow_the_same_rules(
    engineer, outsider, procedure, rival_procedure, official_procedure
):
    def titles(user):
        return {e.title for e in LibraryStep.objects.for_user(user).filter(is_flow_synced=True)}

    assert titles(engineer) == {"Check a licence is free", "Create the user", "Drain the server"}
    assert titles(outsider) == {"Rival secret step", "Drain the server"}


def test_source_flow_is_named_only_to_who_may_see_the_flow(
    engineer, viewer, outsider, staff, procedure, official_procedure, account, owner
):
    # A team flow whose step was made public on purpose: the step is shared, the flow is not.
    structure = procedure.tree_structure
    structure["steps"][1]["library_visibility"] = "public"
    procedure.tree_structure = structure
    procedure.save()
    entry = synced(procedure, "licence")
    official = synced(official_procedure, "drain")
    for user in (engineer, viewer, outsider, staff):
        for step in (entry, official):
            expected = Tree.objects.for_user(user).filter(pk=step.source_tree_id).exists()
            assert step.source_visible_to(user) is expected
    assert not entry.source_visible_to(outsider)


# --- create / update / delete ---------------------------------------------------------------


def test_create_makes_a_private_hand_made_entry_of_the_user(engineer):
    step = services.library_step_create(
        user=engineer,
        title="  Restart the print spooler ",
        instructions="Restart the spooler service.",
        commands=[
            {
                "label": "Restart",
                "command": "Restart-Service Spooler",
                "command_type": "powershell",
            },
            {"label": "", "command": "", "command_type": "shell"},  # a blank row is dropped
        ],
        category="Printing",
        tags=["print", "Print", "spooler"],
    )
    step = LibraryStep.objects.get(pk=step.pk)
    assert step.title == "Restart the print spooler"
    assert step.visibility == Visibility.PRIVATE
    assert step.created_by == engineer and step.account == engineer.account
    assert not step.is_flow_synced and step.source_tree is None
    assert step.commands == [
        {"label": "Restart", "command": "Restart-Service Spooler", "command_type": "powershell"}
    ]
    assert step.category.name == "Printing"
    assert sorted(t.slug for t in step.tags.all()) == ["print", "spooler"]
    assert "restart-service spooler" in step.search_text


def test_create_reports_every_field_error_at_once_and_saves_nothing(engineer):
    with pytest.raises(ValidationError) as invalid:
        services.library_step_create(
            user=engineer,
            title="",
            instructions="  ",
            step_type="bogus",
            visibility="everyone",
            commands=[{"label": "No code", "command": ""}],
            tags=[f"t{n}" for n in range(30)],
        )
    errors = invalid.value.message_dict
    assert {"title", "instructions", "step_type", "visibility", "commands", "tags"} <= set(errors)
    assert "Command 1" in errors["commands"][0]
    assert not LibraryStep.objects.exists()


def test_viewers_cannot_create(viewer):
    with pytest.raises(PermissionDenied):
        services.library_step_create(user=viewer, title="x", instructions="y")


def test_team_visibility_needs_a_team(staff):
    with pytest.raises(ValidationError) as invalid:
        services.library_step_create(user=staff, title="x", instructions="y", visibility="team")
    assert "visibility" in invalid.value.message_dict


def test_update_changes_only_what_is_given(engineer, team_step):
    services.library_step_update(step=team_step, user=engineer, help_text="Then retry.")
    team_step.refresh_from_db()
    assert team_step.help_text == "Then retry."
    assert team_step.instructions == "Flush the resolver cache on the client."
    assert team_step.commands[0]["command"] == "ipconfig /flushdns"


def test_teammates_edit_team_entries_but_only_admins_delete_them(owner, account, team_step):
    colleague = UserFactory(account=account, role=Role.ENGINEER)
    services.library_step_update(step=team_step, user=colleague, title="Flush DNS")
    with pytest.raises(PermissionDenied):
        services.library_step_delete(step=team_step, user=colleague)
    services.library_step_delete(step=team_step, user=owner)  # owner = admin and above
    assert not LibraryStep.objects.filter(pk=team_step.pk).exists()


def test_synced_entries_are_read_only(procedure, owner, staff):
    entry = synced(procedure, "licence")
    for user in (owner, staff):
        with pytest.raises(services.LibraryStepReadOnly) as read_only:
            services.library_step_update(step=entry, user=user, title="Mine now")
        assert "managed by its source flow" in str(read_only.value)
        assert "copy" in str(read_only.value)
        with pytest.raises(services.LibraryStepReadOnly):
            services.library_step_delete(step=entry, user=user)
    entry.refresh_from_db()
    assert entry.title == "Check a licence is free"


def test_viewer_is_refused_before_the_read_only_rule(procedure, viewer):
    with pytest.raises(PermissionDenied):
        services.library_step_update(step=synced(procedure, "licence"), user=viewer, title="x")


# --- save to library (copies) ---------------------------------------------------------------


def test_copy_of_a_synced_entry_is_personal_private_and_unsynced(engineer, account, owner):
    category, tag = CategoryFactory(name="Microsoft 365"), TagFactory(name="m365")
    tree = TreeFactory(account=account, author=owner, tree_type="procedural", category=category)
    tree.tags.set([tag])
    entry = synced(tree, "snapshot")
    LibraryStep.objects.filter(pk=entry.pk).update(usage_count=9, helpful_yes=2)
    copy = services.library_step_copy(step=entry, user=engineer)
    entry.refresh_from_db()
    copy = LibraryStep.objects.get(pk=copy.pk)
    assert copy.pk != entry.pk
    assert (copy.title, copy.content) == (entry.title, entry.content)
    assert copy.visibility == Visibility.PRIVATE
    assert copy.created_by == engineer and copy.account == engineer.account
    assert not copy.is_flow_synced and copy.source_tree is None and copy.source_node_id == ""
    assert (copy.usage_count, copy.helpful_yes, copy.helpful_no) == (0, 0, 0)
    assert copy.category == category and list(copy.tags.all()) == [tag]  # the flow's


def test_copy_takes_overrides(engineer, team_step):
    copy = services.library_step_copy(
        step=team_step, user=engineer, title="My flush", visibility="team"
    )
    copy.refresh_from_db()
    assert copy.title == "My flush" and copy.visibility == Visibility.TEAM
    assert copy.commands == team_step.commands


def test_viewers_cannot_copy(viewer, team_step):
    with pytest.raises(PermissionDenied):
        services.library_step_copy(step=team_step, user=viewer)


# --- what sessions feed back ----------------------------------------------------------------


def test_record_use_increments_atomically(team_step):
    stale = LibraryStep.objects.get(pk=team_step.pk)
    services.library_step_record_use(step=team_step)
    services.library_step_record_use(step=stale)  # a stale instance does not lose the first
    services.library_step_record_use(step=team_step.pk)
    team_step.refresh_from_db()
    assert team_step.usage_count == 3


def counts(entry: LibraryStep) -> tuple[int, int]:
    entry.refresh_from_db()
    return entry.helpful_yes, entry.helpful_no


def test_votes_move_the_synced_entrys_helpful_counts_without_double_counting(procedure):
    entry = synced(procedure, "licence")

    def vote(old, new):
        return services.library_step_vote(tree_id=procedure.pk, node_id="licence", old=old, new=new)

    assert vote(None, True) == 1 and counts(entry) == (1, 0)
    assert vote(True, True) == 0 and counts(entry) == (1, 0)  # repeating changes nothing
    assert vote(True, False) == 1 and counts(entry) == (0, 1)  # a flip moves the vote
    assert vote(None, False) == 1 and counts(entry) == (0, 2)  # someone else's vote
    assert vote(False, None) == 1 and counts(entry) == (0, 1)  # clearing removes it
    assert vote(None, None) == 0 and counts(entry) == (0, 1)


def test_votes_never_drive_counts_below_zero(procedure):
    entry = synced(procedure, "licence")
    services.library_step_vote(tree_id=procedure.pk, node_id="licence", old=True, new=None)
    assert counts(entry) == (0, 0)


def test_votes_on_nodes_that_are_not_in_the_library_change_nothing(procedure, team_step):
    assert services.library_step_vote(tree_id=procedure.pk, node_id="end", old=None, new=True) == 0
    assert (
        services.library_step_vote(tree_id=procedure.pk, node_id="missing", old=None, new=True) == 0
    )
    team_step.refresh_from_db()
    assert (team_step.helpful_yes, team_step.helpful_no) == (0, 0)
