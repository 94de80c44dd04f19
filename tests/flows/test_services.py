import pytest
from django.core.exceptions import PermissionDenied

from flows import services, structure
from flows.models import Tree, TreeStatus, TreeType
from tests.factories import procedural_structure


def test_create_makes_a_draft_in_the_users_account_with_a_starter_structure(engineer):
    tree = services.tree_create(
        user=engineer, name="New VPN flow", tree_type=TreeType.PROCEDURAL, tags=["VPN", "vpn"]
    )
    tree = Tree.objects.get(pk=tree.pk)
    assert tree.status == TreeStatus.DRAFT
    assert tree.account == engineer.account
    assert tree.author == engineer
    assert tree.tree_structure == structure.empty_structure(TreeType.PROCEDURAL)
    assert [t.slug for t in tree.tags.all()] == ["vpn"]


def test_viewer_cannot_create(viewer):
    with pytest.raises(PermissionDenied):
        services.tree_create(user=viewer, name="x", tree_type=TreeType.TROUBLESHOOTING)


def test_only_staff_make_public_flows(engineer, staff):
    with pytest.raises(PermissionDenied):
        services.tree_create(user=engineer, name="x", tree_type="procedural", is_public=True)
    tree = services.tree_create(user=staff, name="x", tree_type="procedural", is_public=True)
    tree.refresh_from_db()
    assert tree.account is None and tree.is_public


def test_drafts_save_incomplete_but_never_unsafe(engineer):
    tree = services.tree_create(
        user=engineer,
        name="Half done",
        tree_type=TreeType.PROCEDURAL,
        tree_structure={"steps": [{"id": "a", "type": "procedure_step"}]},
    )
    assert tree.pk
    with pytest.raises(structure.StructureInvalid):
        services.tree_update(tree=tree, user=engineer, tree_structure=["not", "a", "dict"])
    tree.refresh_from_db()
    assert tree.tree_structure == {"steps": [{"id": "a", "type": "procedure_step"}]}


def test_publish_validates_and_names_the_nodes(engineer):
    tree = services.tree_create(
        user=engineer,
        name="Broken",
        tree_type=TreeType.TROUBLESHOOTING,
        tree_structure={"id": "root", "type": "decision", "question": "Q?", "options": []},
    )
    with pytest.raises(services.PublishRefused) as refused:
        services.tree_publish(tree=tree, user=engineer)
    assert any(e.node_id == "root" for e in refused.value.errors)
    tree.refresh_from_db()
    assert tree.status == TreeStatus.DRAFT and tree.published_at is None


def test_publish_unpublish_and_retire(engineer):
    tree = services.tree_create(
        user=engineer,
        name="Good",
        tree_type=TreeType.PROCEDURAL,
        tree_structure=procedural_structure(),
    )
    tree = services.tree_publish(tree=tree, user=engineer)
    tree.refresh_from_db()
    assert tree.status == TreeStatus.PUBLISHED and tree.published_at is not None
    assert Tree.objects.runnable().filter(pk=tree.pk).exists()
    services.tree_set_active(tree=tree, user=engineer, active=False)
    assert not Tree.objects.runnable().filter(pk=tree.pk).exists()
    services.tree_set_active(tree=tree, user=engineer, active=True)
    tree = services.tree_unpublish(tree=tree, user=engineer)
    tree.refresh_from_db()
    assert tree.status == TreeStatus.DRAFT


def test_a_published_flow_keeps_an_incomplete_edit_in_its_working_copy(engineer, own_flow):
    live = own_flow.tree_structure
    incomplete = {"id": "root", "type": "decision"}
    services.tree_update(
        tree=own_flow, user=engineer, revision=own_flow.revision, tree_structure=incomplete
    )
    own_flow.refresh_from_db()
    assert own_flow.tree_structure == live  # engineers running it see no half-made edit
    assert own_flow.draft_structure == incomplete
    with pytest.raises(services.PublishRefused):
        services.tree_publish(tree=own_flow, user=engineer)
    own_flow.refresh_from_db()
    assert own_flow.tree_structure == live and own_flow.draft_structure == incomplete


def test_viewer_and_outsider_cannot_edit_and_engineers_cannot_edit_official_content(
    viewer, outsider, engineer, own_flow, public_flow
):
    for user, tree in [(viewer, own_flow), (outsider, own_flow), (engineer, public_flow)]:
        with pytest.raises(PermissionDenied):
            services.tree_publish(tree=tree, user=user)


def test_for_user_visibility(engineer, viewer, outsider, staff, own_flow, own_draft, public_flow):
    assert set(Tree.objects.for_user(engineer)) == {own_flow, own_draft, public_flow}
    assert set(Tree.objects.for_user(viewer)) == {own_flow, public_flow}
    assert set(Tree.objects.for_user(outsider)) == {public_flow}
    assert set(Tree.objects.for_user(staff)) >= {own_flow, own_draft, public_flow}
