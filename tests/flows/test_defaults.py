from collections import Counter

import pytest
from django.conf import settings
from django.core.management import call_command

from flows import structure
from flows.default_content import default_flow_documents, default_flows_load
from flows.models import Tree, TreeStatus


def test_every_default_flow_validates_and_all_kinds_are_covered():
    documents = default_flow_documents()
    assert len(documents) >= 12
    kinds = Counter(d["tree_type"] for d in documents)
    assert kinds["troubleshooting"] >= 4 and kinds["procedural"] >= 3 and kinds["maintenance"] >= 3
    for document in documents:
        errors = structure.validate_structure(document["tree_type"], document["tree_structure"])
        assert errors == [], (document["key"], errors)
        assert structure.validate_intake_form(document["intake_form"]) == []
        names = {field["name"] for field in document["intake_form"]}
        if document["tree_type"] == "maintenance":
            names.add("target")  # every batch session knows its target's label
        used = structure.variables_used(document["tree_type"], document["tree_structure"])
        assert used <= names, (document["key"], used - names)


def test_loading_is_idempotent_and_owned_by_the_service_account(db):
    first = default_flows_load()
    count = Tree.objects.filter(is_default=True).count()
    assert len(first.created) == count >= 12
    stamps = dict(Tree.objects.values_list("default_key", "updated_at"))

    second = default_flows_load()
    assert second.created == [] and second.updated == []
    assert len(second.unchanged) == count
    assert dict(Tree.objects.values_list("default_key", "updated_at")) == stamps

    for tree in Tree.objects.filter(is_default=True).select_related("author"):
        assert tree.author.email == settings.SERVICE_ACCOUNT_EMAIL
        assert tree.is_public and tree.status == TreeStatus.PUBLISHED and tree.account is None
        assert tree.category is not None and tree.tags.exists()


def test_reloading_updates_a_changed_flow_in_place_and_keeps_staff_retirement(db):
    default_flows_load()
    tree = Tree.objects.get(default_key="sonicwall-vpn-tunnel-down")
    tree.name = "Renamed by someone"
    tree.is_active = False
    tree.save()
    report = default_flows_load()
    assert report.updated == ["sonicwall-vpn-tunnel-down"]
    tree.refresh_from_db()
    assert tree.name != "Renamed by someone"
    assert tree.is_active is False  # staff retired it; a reload does not undo that
    assert Tree.objects.filter(default_key="sonicwall-vpn-tunnel-down").count() == 1


def test_management_command_reports_counts(db, capsys):
    call_command("load_default_flows")
    call_command("load_default_flows")
    assert "0 created, 0 updated" in capsys.readouterr().out


@pytest.mark.parametrize("key", ["citrix-vda-not-registering", "m365-user-onboarding"])
def test_default_flows_render_on_the_detail_page(client, engineer, key):
    default_flows_load()
    client.force_login(engineer)
    tree = Tree.objects.get(default_key=key)
    response = client.get(f"/flows/{tree.pk}/")
    assert response.status_code == 200
    assert tree.name in response.content.decode()
